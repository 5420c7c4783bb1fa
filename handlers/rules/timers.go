package rules

import (
	"fmt"
	"sort"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// timerID is deterministic: the same subscription, kind and due time always
// give the same ID, so a decision made twice sets the same timer, and the
// timer.fired command (whose ID is this) is deduplicated by the inbox.
// The due time is in nanoseconds, the precision the index and the state
// keep: two timers of a subscription and kind due in the same second (a
// legacy suspension, reactivation and suspension within one second) are
// different timers and must not share an ID, or the first one's stale
// index entry would take the live one's inbox slot and JetStream
// de-duplication key (G7).
func timerID(kind, subscriptionID string, due time.Time) string {
	return fmt.Sprintf("T.%s.%s.%d", kind, subscriptionID, due.UnixNano())
}

func (d *decision) newTimer(kind string, s *Subscription, due time.Time) {
	d.setTimer(&Timer{ID: timerID(kind, s.ID, due), Kind: kind, SubscriptionID: s.ID, PartnerID: s.PartnerID, DueAt: due})
}

// scheduleTermTimers sets the timers of a term that just started: its end
// (REN-2, REN-3) and, when it bills more often than once per term, the
// start of its next billing period.
func (d *decision) scheduleTermTimers(s *Subscription) {
	d.newTimer(TimerTermEnd, s, s.termEndsAt())
	d.scheduleNextPeriod(s)
}

func (d *decision) scheduleNextPeriod(s *Subscription) {
	next := s.PeriodEnd.AddDate(0, 0, 1)
	if next.Before(s.termEndsAt()) {
		d.newTimer(TimerBillingPeriod, s, next)
	}
}

// deleteTimersOf removes every timer of a subscription that has ended.
func (d *decision) deleteTimersOf(subscriptionID string) {
	ids := make([]string, 0, len(d.state.Timers))
	for id, t := range d.state.Timers {
		if t.SubscriptionID == subscriptionID {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		d.deleteTimer(id)
	}
}

// timerFired applies a timer (G7). A timer the state no longer holds (the
// subscription was cancelled, or the timer already fired) changes nothing
// and emits nothing.
func (d *decision) timerFired(f *messages.TimerFiredData) {
	t, ok := d.state.Timers[f.TimerID]
	if !ok || !t.DueAt.Equal(f.DueAt) {
		return
	}
	d.deleteTimer(t.ID)
	if t.Kind == TimerRetryParked {
		d.retryParked(t.Attempt)
		return
	}
	if t.Kind == TimerTransferExpiry { // TRF-3 (transfer.go)
		d.transferExpiryDue(t)
		return
	}
	if t.Kind == TimerArchive { // the sweep after the decision archives (archive.go)
		return
	}
	if t.Kind == TimerRelationshipExpiry { // TRF-3 (relationship.go)
		d.relationshipExpiryDue(t)
		return
	}
	s, ok := d.state.Subscriptions[t.SubscriptionID]
	if !ok || s.Status == StatusCancelled || s.Status == StatusExpired {
		return
	}
	d.timerPartner = s.PartnerID
	switch t.Kind {
	case TimerTermEnd:
		d.termEnded(s)
	case TimerRenewalComplete:
		d.completeRenewal(s)
	case TimerBillingPeriod:
		d.startBillingPeriod(s)
	case TimerDataDeletion:
		d.dataDeletionDue(s) // SUS-2
	case TimerWindowClosing, TimerWindowClosed:
		d.windowNoticeDue(s, t) // CAN-1/3/4/5, QTY-2 notices (notices.go)
	}
}

// termEnded runs at 00:00 UTC the day after the term's end date. A
// suspended subscription expires and its data is deleted (SUS-3, REN-3);
// one with auto-renew off expires (REN-3); otherwise the renewal starts and
// stays pending for the policy's processing time (REN-2, REN-4). A
// suspended legacy subscription renews, unbilled, and stays suspended
// until its data deletion date (SUS-2, see legacy.go).
func (d *decision) termEnded(s *Subscription) {
	if s.Reservation != nil { // reservations do not renew (reservation.go)
		d.expire(s, messages.ExpiredReservationEnded, false)
		return
	}
	if s.Trial {
		d.trialEnded(s) // TRI-1
		return
	}
	if d.followsBase(s) { // ORD-9: the base's term end decides (addon_follow.go)
		return
	}
	defer d.addonsFollowTermEnd(s)
	switch {
	case s.Status == StatusSuspended && !isLegacy(s):
		d.expire(s, messages.ExpiredSuspendedAtTermEnd, true)
	case !s.AutoRenew:
		d.expire(s, messages.ExpiredAutoRenewOff, false)
	case d.in.Catalog.Policy.RenewalProcessing() == 0:
		d.completeRenewal(s)
	default:
		next := s.clone()
		now := d.in.Now
		next.RenewalPendingSince = &now
		d.putSubscription(&next)
		d.newTimer(TimerRenewalComplete, &next, s.termEndsAt().Add(d.in.Catalog.Policy.RenewalProcessing()))
	}
}

func (d *decision) expire(s *Subscription, reason string, dataDeleted bool) {
	next := s.clone()
	d.endSubscription(&next, endExpired, "")
	d.emit(messages.EvtSubscriptionExpired, &messages.SubscriptionExpiredEvent{
		SubscriptionID: s.ID, Reason: reason, DataDeleted: dataDeleted, TermEnd: formatDate(s.TermEnd),
	})
}

// completeRenewal starts the next term (REN-2): it begins the day after the
// old term's end date, its cancellation window opens now that the renewal
// completes, every license counts as added now (QTY-2), and its first
// billing period is charged at the catalog's current price. A scheduled
// change of plan the catalog no longer sells is dropped and named in the
// event (SCH-1, see applyScheduled), so the renewal is always priced on a
// plan of its own billing frequency.
//
// Decision: when even the subscription's current plan is no longer sold,
// it renews on that plan at the unit price it has (what it paid per
// billing period of that same plan and frequency) rather than expiring:
// the customer keeps the service, and the partner can cancel in the new
// term's window.
func (d *decision) completeRenewal(s *Subscription) {
	next := s.clone()
	now := d.in.Now
	applied, warning, dropped := d.applyScheduled(&next) // SCH-1, SCH-4
	months, err := termMonths(next.Term)
	if err != nil {
		return
	}
	periodMonths, _ := billingMonths(next.BillingFrequency, months)
	next.RenewalPendingSince = nil
	next.Renewals++
	next.TermStart = s.termEndsAt()
	next.TermEnd = termEnd(next.TermStart, months)
	next.WindowOpenedAt = now
	next.CancellableUntil = now.Add(time.Duration(next.CancelWindowHours) * time.Hour)
	next.UnitPrice = d.currentPrice(&next)
	next.PeriodIndex = 0
	next.PeriodStart = next.TermStart
	next.PeriodEnd = addMonthsClamped(next.TermStart, periodMonths).AddDate(0, 0, -1)
	next.PeriodStartedAt = now
	next.PeriodCharge = next.UnitPrice * int64(next.Quantity)
	unbilled := unbilledWhileSuspended(&next) // SUS-2: legacy is not billed while suspended
	if unbilled {
		next.PeriodCharge = 0
	}
	// Every license of the new term counts as added when the renewal
	// completes: all of them may be reduced in its window (QTY-2).
	next.Lots = nil
	if next.Quantity > 0 {
		next.Lots = []Lot{{Quantity: next.Quantity, AddedAt: now, ReducibleUntil: next.CancellableUntil}}
	}
	d.putSubscription(&next)
	d.scheduleTermTimers(&next)
	d.planWindowNotices(&next) // CAN-1, QTY-2 notices (notices.go)
	d.emit(messages.EvtSubscriptionRenewed, &messages.SubscriptionRenewedEvent{
		SubscriptionID: s.ID, Renewals: next.Renewals, OfferID: next.OfferID, Quantity: next.Quantity, Term: next.Term,
		BillingFrequency: next.BillingFrequency, TermStart: formatDate(next.TermStart), TermEnd: formatDate(next.TermEnd),
		CancellableUntil: next.CancellableUntil, AppliedChanges: applied, Warning: warning, DroppedChanges: dropped,
	})
	if !unbilled {
		d.emitPeriodCharge(&next, messages.BillingReasonRenewal, "REN-2")
	}
	d.addonsFollowRenewal(s, &next) // ORD-9 (addon_follow.go)
	d.drainParked(s.ID)             // REN-4: what waited for the renewal applies now
}

// currentPrice is the catalog's price of the subscription's plan, or its
// own unit price when that plan is no longer sold (see completeRenewal):
// only ever called for a plan the subscription already had or one the
// catalog sells, so the fallback is a price of the same plan.
func (d *decision) currentPrice(s *Subscription) int64 {
	if offer, ok := d.in.Catalog.Offer(s.OfferID); ok {
		if plan, ok := offer.Plan(s.Term, s.BillingFrequency); ok {
			if p, ok := plan.Prices[s.Currency]; ok {
				return p
			}
		}
	}
	return s.UnitPrice
}

// startBillingPeriod charges the next billing period inside a term
// (monthly billing of an annual term). Billing continues while suspended
// (SUS-3), except for a legacy subscription: its period moves on,
// charged 0 and without a billing.charge (SUS-2, see legacy.go). Period k
// starts on TermStart + k billing months.
func (d *decision) startBillingPeriod(s *Subscription) {
	months, err := termMonths(s.Term)
	if err != nil {
		return
	}
	periodMonths, _ := billingMonths(s.BillingFrequency, months)
	next := s.clone()
	next.PeriodIndex++
	next.PeriodStart = addMonthsClamped(s.TermStart, next.PeriodIndex*periodMonths)
	next.PeriodEnd = addMonthsClamped(s.TermStart, (next.PeriodIndex+1)*periodMonths).AddDate(0, 0, -1)
	if next.PeriodEnd.After(s.TermEnd) {
		next.PeriodEnd = s.TermEnd
	}
	next.PeriodStartedAt = next.PeriodStart
	next.PeriodCharge = next.UnitPrice * int64(next.Quantity)
	unbilled := unbilledWhileSuspended(&next)
	if unbilled {
		next.PeriodCharge = 0
	}
	charge := payFromPrepaid(&next) // CAN-6: an exchange's refund pays later periods (reservation.go)
	d.putSubscription(&next)
	d.scheduleNextPeriod(&next)
	if !unbilled {
		d.emitPeriodChargeOf(&next, charge, messages.BillingReasonPeriod, "GEN-4")
	}
}

func (d *decision) emitPeriodCharge(s *Subscription, reason, rule string) {
	d.emitPeriodChargeOf(s, s.PeriodCharge, reason, rule)
}

// emitPeriodChargeOf charges amount for s's current billing period: its
// PeriodCharge, less what an exchange prepaid (CAN-6).
func (d *decision) emitPeriodChargeOf(s *Subscription, amount int64, reason, rule string) {
	d.emit(messages.EvtBillingCharge, billingEvent(s, reason, rule, amount))
}

// endKind is how a subscription ends.
type endKind int

const (
	endCancelled endKind = iota // cancelled now (CancelledAt)
	endExpired                  // expired now (ExpiredAt)
)

// endSubscription ends a subscription now, the one way every rule does:
// next is the caller's copy of it (s.clone(), with whatever else the rule
// changes, before or after this call), which gets the final status and its
// time, auto-renew off and, when scheduleReason is set, its scheduled
// changes deleted with subscription.schedule.changed naming that reason
// (SCH-3); it is stored, and every timer of the subscription is deleted.
// The caller emits the subscription.cancelled or .expired event and any
// billing around it, in its own order.
func (d *decision) endSubscription(next *Subscription, how endKind, scheduleReason string) {
	now := d.in.Now
	switch how {
	case endCancelled:
		next.Status, next.CancelledAt = StatusCancelled, &now
	case endExpired:
		next.Status, next.ExpiredAt = StatusExpired, &now
	}
	next.AutoRenew = false
	if scheduleReason != "" {
		d.clearScheduled(next, scheduleReason)
	}
	d.putSubscription(next)
	d.deleteTimersOf(next.ID)
}
