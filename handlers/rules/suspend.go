package rules

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// reminderAutoRenewOff is what a reactivation tells the partner (SUS-4).
const reminderAutoRenewOff = "Auto-renew was turned off when the subscription was suspended and stays off; turn it back on if the subscription should renew."

func validSuspendReason(r string) bool {
	switch r {
	case messages.ReasonCustomerRequest, messages.ReasonNonPayment, messages.ReasonFraud:
		return true
	}
	return false
}

// suspend applies SUS-1, SUS-3 and SUS-4: an active subscription can be
// suspended for one of the SUS-1 reasons while its term lasts; billing
// continues (no credit); suspending turns auto-renew off; if the term ends
// while suspended the subscription expires. A trial cannot be suspended
// (TRI-3, SUS-7: trial_no_change). Suspending a base suspends its active
// add-ons with it (SUS-5, see addons.go). A legacy subscription follows
// SUS-2 instead of SUS-3 and SUS-4: a data deletion date, no billing,
// auto-renew unchanged (see legacy.go).
func (d *decision) suspend(c *messages.SuspendData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) || !d.notTrial(s, "suspended") { // TRI-3, SUS-7
		return
	}
	if !d.notPendingRenewal(s) {
		return
	}
	if !validSuspendReason(c.Reason) {
		d.reject(invalidField("data.reason", fmt.Sprintf("%q is not customer_request, non_payment or fraud (SUS-1)", c.Reason)))
		return
	}
	if s.Status == StatusSuspended {
		d.reject(reject(CodeAlreadySuspended, "SUS-1",
			fmt.Sprintf("subscription %s is already suspended", s.ID),
			map[string]string{"subscription_id": s.ID, "suspended_at": fmtTime(s.SuspendedAt)}))
		return
	}
	if !d.withinTerm(s, "SUS-3") {
		return
	}
	if d.applySuspension(s, c.Reason, false) {
		d.suspendAddons(s, c.Reason) // SUS-5
	}
}

// applySuspension suspends one subscription, the one commanded or an
// add-on suspended with its base (SUS-5): new commerce turns auto-renew off
// and keeps billing (SUS-3, SUS-4); legacy keeps auto-renew, stops billing
// and sets its data deletion date (SUS-2). It reports false after a
// rejection.
func (d *decision) applySuspension(s *Subscription, reason string, withBase bool) bool {
	next := s.clone()
	now := d.in.Now
	next.Status, next.SuspendedAt, next.SuspendReason, next.SuspendedWithBase = StatusSuspended, &now, reason, withBase
	ev := &messages.SubscriptionSuspendedEvent{
		SubscriptionID: s.ID, Reason: reason, AutoRenewTurnedOff: s.AutoRenew,
		BillingContinues: true, ExpiresAt: s.termEndsAt(),
	}
	if isLegacy(s) {
		if !d.suspendLegacy(&next, ev) { // SUS-2
			return false
		}
	} else {
		next.AutoRenew = false // SUS-4
		// SCH-3: turning auto-renew off deletes the scheduled changes,
		// also when a suspension turns it off; reactivating and turning
		// it back on does not bring them back.
		d.clearScheduled(&next, string(messages.CmdSubscriptionSuspend))
	}
	d.putSubscription(&next)
	d.emit(messages.EvtSubscriptionSuspended, ev)
	return true
}

// reactivate applies SUS-6 and SUS-4: access comes back at once, only
// within the term, and auto-renew stays off with a reminder. A trial has
// no status change (TRI-3); an add-on whose base is suspended stays
// suspended; reactivating a base reactivates the add-ons suspended with
// it, and only those (SUS-5). A legacy subscription can be reactivated
// only before its data deletion date, whatever its term, and is charged
// the rest of a billing period that started while it was suspended
// (SUS-2, SUS-6, see legacy.go).
func (d *decision) reactivate(c *messages.ReactivateData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) || !d.notTrial(s, "reactivated") { // TRI-3, SUS-7
		return
	}
	if !d.notPendingRenewal(s) {
		return
	}
	if s.Status != StatusSuspended {
		d.reject(reject(CodeNotSuspended, "SUS-6",
			fmt.Sprintf("subscription %s is %s, not suspended", s.ID, s.Status),
			map[string]string{"subscription_id": s.ID, "status": s.Status}))
		return
	}
	if isLegacy(s) {
		if !d.beforeDataDeletion(s) { // SUS-6, SUS-2
			return
		}
	} else if !d.withinTerm(s, "SUS-6") {
		return
	}
	if !d.baseNotSuspended(s) { // SUS-5
		return
	}
	d.applyReactivation(s)
	d.reactivateAddons(s) // SUS-5
}

// applyReactivation reactivates one subscription, the one commanded or an
// add-on suspended with its base: access comes back and auto-renew stays
// as it is (SUS-4: off for new commerce, with a reminder); a legacy one
// loses its data deletion date and is charged the rest of a period that
// started while it was suspended (SUS-2).
func (d *decision) applyReactivation(s *Subscription) {
	next := s.clone()
	next.Status, next.SuspendedAt, next.SuspendReason, next.SuspendedWithBase = StatusActive, nil, "", false
	var charge *messages.BillingEvent
	if isLegacy(s) {
		charge = d.reactivateLegacy(&next) // SUS-2
	}
	d.putSubscription(&next)
	d.emit(messages.EvtSubscriptionReactivated, &messages.SubscriptionReactivatedEvent{
		SubscriptionID: s.ID, AutoRenew: next.AutoRenew, Reminder: reminderIf(!next.AutoRenew),
	})
	if charge != nil {
		d.emit(messages.EvtBillingCharge, charge)
	}
}

func reminderIf(autoRenewOff bool) string {
	if autoRenewOff {
		return reminderAutoRenewOff
	}
	return ""
}

// withinTerm rejects a change after the term's last day: a new-commerce
// subscription can only be suspended or reactivated while its term lasts
// (SUS-3, SUS-6).
func (d *decision) withinTerm(s *Subscription, rule string) bool {
	if d.in.Now.Before(s.termEndsAt()) {
		return true
	}
	d.reject(reject(CodeTermEnded, rule,
		fmt.Sprintf("the term of subscription %s ended on %s", s.ID, formatDate(s.TermEnd)),
		map[string]string{"subscription_id": s.ID, "term_end": formatDate(s.TermEnd), "term_ended_at": s.termEndsAt().Format(time.RFC3339)}))
	return false
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
