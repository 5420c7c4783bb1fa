package rules

import (
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Co-terminous add-ons follow their base (ORD-9). Our decisions:
//
//   - The base decides what happens at the shared term end. The add-on's
//     own term_end timer does nothing while its base is live and ends on
//     the same date; the base's term end removes it and applies the
//     base's outcome to the add-on in the same decision, after the base's
//     own events, so the two can never take different paths whatever
//     order their timers fire in.
//   - Base expires (auto-renew off, suspended at term end): the add-on
//     expires with it, reason base_ended.
//   - Base renews: the add-on renews with it, unless the add-on would not
//     renew on its own (its auto-renew is off, or it is suspended and not
//     legacy: it expires for that reason, as REN-3 and SUS-3 say). While
//     the base's renewal is pending the add-on is pending too (REN-4: its
//     commands wait), and it completes right after the base. Its new term
//     takes the base's new term and billing frequency, so a scheduled term
//     change of the base (SCH-1) changes the add-on too; the add-on's own
//     scheduled quantity still applies, a scheduled plan of its own is
//     dropped (it would break the alignment). When the add-on's offer does
//     not sell the base's new plan in its currency, the add-on expires,
//     reason base_plan_not_offered. Its renewal is charged like any
//     renewal (REN-2): its first billing period at the catalog's current
//     price, one billing.charge naming the add-on.
//   - Base cancelled (CAN-1, within the base's window): each active or
//     suspended co-terminous add-on is cancelled with it, whatever its own
//     window, with its own cancellation credit (cancellationCredit: its
//     own period charge and lots, GEN-2 days, rounded once, GEN-3), one
//     billing.credit and one subscription.cancelled naming the add-on and
//     its base, after the base's.

// followsBase reports whether a co-terminous add-on's term end is decided
// by its base (see above).
func (d *decision) followsBase(a *Subscription) bool {
	b := d.coterminousBase(a)
	return b != nil && b.TermEnd.Equal(a.TermEnd)
}

// coterminousBase is the live base of a co-terminous add-on, nil for any
// other subscription or an add-on whose base ended.
func (d *decision) coterminousBase(a *Subscription) *Subscription {
	if a.BaseSubscriptionID == "" || !d.isCoterminous(a) {
		return nil
	}
	b, ok := d.state.Subscriptions[a.BaseSubscriptionID]
	if !ok || b.Status != StatusActive && b.Status != StatusSuspended {
		return nil
	}
	return b
}

func (d *decision) isCoterminous(a *Subscription) bool {
	offer, ok := d.in.Catalog.Offer(a.OfferID)
	return ok && offer.Addon != nil && offer.Addon.Kind == catalog.AddonCoterminous
}

// coterminousAddons are the live co-terminous add-ons of base whose term
// ends on termEnd, by ID.
func (d *decision) coterminousAddons(baseID string, termEnd time.Time) []*Subscription {
	var out []*Subscription
	for _, a := range d.state.sortedSubscriptions() {
		if a.BaseSubscriptionID == baseID && (a.Status == StatusActive || a.Status == StatusSuspended) &&
			a.TermEnd.Equal(termEnd) && d.isCoterminous(a) {
			out = append(out, a)
		}
	}
	return out
}

// renewsOnItsOwn is what termEnded would decide for the add-on alone: ""
// when it renews, else its expiry reason (REN-3, SUS-3).
func renewsOnItsOwn(a *Subscription) string {
	switch {
	case a.Status == StatusSuspended && !isLegacy(a):
		return messages.ExpiredSuspendedAtTermEnd
	case !a.AutoRenew:
		return messages.ExpiredAutoRenewOff
	}
	return ""
}

// addonsFollowTermEnd applies the outcome of base's term end (base as it
// was before) to its co-terminous add-ons: expiry, or a pending renewal.
// A renewal that completed at once was followed by completeRenewal.
func (d *decision) addonsFollowTermEnd(base *Subscription) {
	now := d.in.Now
	nb := d.state.Subscriptions[base.ID]
	for _, a := range d.coterminousAddons(base.ID, base.TermEnd) {
		d.deleteTimer(timerID(TimerTermEnd, a.ID, a.termEndsAt()))
		switch {
		case nb.Status == StatusExpired:
			d.expire(a, messages.ExpiredWithBase, a.Status == StatusSuspended && !isLegacy(a))
		case nb.RenewalPendingSince != nil:
			if why := renewsOnItsOwn(a); why != "" {
				d.expire(a, why, why == messages.ExpiredSuspendedAtTermEnd)
				continue
			}
			next := a.clone()
			next.RenewalPendingSince = &now
			d.putSubscription(&next)
		}
	}
}

// addonsFollowRenewal renews the co-terminous add-ons of a base that just
// renewed (old: the base before, renewed: after) on the base's new plan.
func (d *decision) addonsFollowRenewal(old, renewed *Subscription) {
	for _, a := range d.coterminousAddons(old.ID, old.TermEnd) {
		d.deleteTimer(timerID(TimerTermEnd, a.ID, a.termEndsAt()))
		if a.RenewalPendingSince == nil {
			if why := renewsOnItsOwn(a); why != "" {
				d.expire(a, why, why == messages.ExpiredSuspendedAtTermEnd)
				continue
			}
		}
		next := a.clone()
		if next.Scheduled != nil { // its own scheduled plan would break the alignment
			next.Scheduled.OfferID, next.Scheduled.Term, next.Scheduled.BillingFrequency = "", "", ""
			if next.Scheduled.Quantity == 0 {
				next.Scheduled = nil
			}
		}
		if next.Term != renewed.Term || next.BillingFrequency != renewed.BillingFrequency {
			if !d.sells(next.OfferID, renewed.Term, renewed.BillingFrequency, next.Currency) {
				d.expire(a, messages.ExpiredBasePlanNotOffered, false)
				continue
			}
			next.Term, next.BillingFrequency = renewed.Term, renewed.BillingFrequency
		}
		d.completeRenewal(&next)
	}
}

// sells reports whether the catalog sells the offer on that plan in the
// currency.
func (d *decision) sells(offerID, term, freq, currency string) bool {
	offer, ok := d.in.Catalog.Offer(offerID)
	if !ok {
		return false
	}
	plan, ok := offer.Plan(term, freq)
	if !ok {
		return false
	}
	_, ok = plan.Prices[currency]
	return ok
}

// cancelAddonsWithBase cancels the co-terminous add-ons of a base that was
// just cancelled, each with its own cancellation credit (see above).
func (d *decision) cancelAddonsWithBase(base *Subscription) {
	for _, a := range d.coterminousAddons(base.ID, base.TermEnd) {
		credit := cancellationCredit(a, d.in.Now)
		creditID := d.nextEventID()
		d.emit(messages.EvtBillingCredit, credit)
		next := a.clone()
		d.endSubscription(&next, endCancelled, string(messages.CmdSubscriptionCancel))
		d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
			SubscriptionID: a.ID, CreditEventID: creditID, CreditMinor: credit.AmountMinor, Currency: a.Currency,
			BaseSubscriptionID: base.ID,
		})
	}
}
