package rules

import (
	"fmt"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Reasons of subscription.schedule.changed.
const (
	scheduleSet     = "set"
	scheduleDeleted = "deleted"
)

// CodeScheduleNotAllowed and friends are SCH rejections.
const (
	CodeScheduleNotAllowed = "schedule_not_allowed"
	CodeNoScheduledChanges = "no_scheduled_changes"
)

// scheduleSet stores changes for the next renewal (SCH-1): SKU upgrade,
// quantity, term, billing frequency. Only while the subscription is active
// with auto-renew on (SCH-2), and read-only while a renewal is pending
// (REN-4). Present fields replace what was scheduled before; absent ones
// keep it.
func (d *decision) scheduleSet(c *messages.ScheduleSetData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) || !d.notPendingRenewal(s) {
		return
	}
	switch {
	case s.Trial:
		d.reject(reject(CodeScheduleNotAllowed, "TRI-2",
			fmt.Sprintf("subscription %s is a trial: schedule its conversion instead", s.ID), map[string]string{"subscription_id": s.ID}))
		return
	case s.Status != StatusActive || !s.AutoRenew:
		d.reject(reject(CodeScheduleNotAllowed, "SCH-2",
			fmt.Sprintf("changes can be scheduled only for an active subscription with auto-renew on; %s is %s with auto-renew %v", s.ID, s.Status, s.AutoRenew),
			map[string]string{"subscription_id": s.ID, "status": s.Status, "auto_renew": fmt.Sprint(s.AutoRenew)}))
		return
	case c.OfferID == "" && c.Quantity == nil && c.Term == "" && c.BillingFrequency == "":
		d.reject(invalidField("data", "name at least one of offer_id, quantity, term, billing_frequency (SCH-1)"))
		return
	}
	want := ScheduledChange{}
	if s.Scheduled != nil {
		want = *s.Scheduled
	}
	if c.OfferID != "" {
		want.OfferID = c.OfferID
	}
	if c.Quantity != nil {
		want.Quantity = *c.Quantity
	}
	if c.Term != "" {
		want.Term = c.Term
	}
	if c.BillingFrequency != "" {
		want.BillingFrequency = c.BillingFrequency
	}
	if rej := d.validSchedule(s, want); rej != nil {
		d.reject(rej)
		return
	}
	next := s.clone()
	next.Scheduled = &want
	d.putSubscription(&next)
	d.emit(messages.EvtScheduleChanged, &messages.ScheduleChangedEvent{SubscriptionID: s.ID, Scheduled: want.view(), Reason: scheduleSet})
}

// validSchedule checks that the renewal could apply the change: the offer
// is an upgrade the catalog supports (UPG-1, UPG-2), the quantity is within
// its bounds (ORD-6), and it sells the term and billing frequency in the
// customer's currency (GEN-4, GEN-3).
func (d *decision) validSchedule(s *Subscription, want ScheduledChange) *messages.Rejection {
	offerID := orDefault(want.OfferID, s.OfferID)
	offer, ok := d.in.Catalog.Offer(offerID)
	if !ok {
		return reject(CodeOfferNotFound, "SCH-1", fmt.Sprintf("offer %s is not sold", offerID), map[string]string{"offer_id": offerID})
	}
	if offer.ID != s.OfferID {
		if rej := upgradePath(d.in.Catalog, s, offer); rej != nil {
			return rej
		}
	}
	if want.Quantity != 0 {
		q := want.Quantity
		if _, rej := lineQuantity(offer, &q, "data.quantity"); rej != nil {
			return rej
		}
	}
	term, freq := orDefault(want.Term, s.Term), orDefault(want.BillingFrequency, s.BillingFrequency)
	plan, ok := offer.Plan(term, freq)
	if !ok {
		return reject(CodePlanNotAvailable, "GEN-4", fmt.Sprintf("%s is not sold with term %s billed %s", offer.Name, term, freq),
			map[string]string{"offer_id": offer.ID, "term": term, "billing_frequency": freq})
	}
	if _, ok := plan.Prices[s.Currency]; !ok {
		return reject(CodePriceNotAvailable, "GEN-3", fmt.Sprintf("%s has no price in %s", offer.Name, s.Currency),
			map[string]string{"offer_id": offer.ID, "currency": s.Currency})
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (c ScheduledChange) view() *messages.ScheduledChangeView {
	return &messages.ScheduledChangeView{OfferID: c.OfferID, Quantity: c.Quantity, Term: c.Term, BillingFrequency: c.BillingFrequency}
}

// scheduleDelete removes the stored scheduled changes (Partner Center: they
// can be viewed, updated or removed); read-only while a renewal is pending
// (REN-4).
func (d *decision) scheduleDelete(c *messages.ScheduleDeleteData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) || !d.notPendingRenewal(s) {
		return
	}
	if s.Scheduled == nil {
		d.reject(reject(CodeNoScheduledChanges, "SCH-1", fmt.Sprintf("subscription %s has no scheduled changes", s.ID),
			map[string]string{"subscription_id": s.ID}))
		return
	}
	next := s.clone()
	next.Scheduled = nil
	d.putSubscription(&next)
	d.emit(messages.EvtScheduleChanged, &messages.ScheduleChangedEvent{SubscriptionID: s.ID, Reason: scheduleDeleted})
}

// applyScheduled applies the stored changes to a renewing subscription
// (REN-2, SCH-1) and clears them. An offer change re-reads the offer's name
// and commerce data; the renewal then prices the new plan. It returns what
// was applied (nil when nothing was scheduled), for an upgrade whose
// quantity changes too the SCH-4 warning that licenses must be reassigned
// by hand, and what was dropped.
//
// Decision: a change of plan (another offer, term or billing frequency)
// applies only if schedule.set would accept it now (validSchedule against
// the catalog of the renewal's time). When the catalog no longer sells it,
// the whole change is dropped, its quantity too (it was scheduled with that
// plan, and an upgrade's quantity goes with the SCH-4 reassignment), and
// returned with the rejection's code, rule and description; the
// subscription renews on its current plan. Pricing the renewal on a plan
// that is not sold would fall back to the subscription's unit price, a
// price of another billing frequency or offer. A change that names only a
// quantity (or the current plan) needs no plan and always applies.
func (d *decision) applyScheduled(next *Subscription) (*messages.ScheduledChangeView, string, *messages.DroppedChangesView) {
	sc := next.Scheduled
	if sc == nil {
		return nil, "", nil
	}
	next.Scheduled = nil
	changesPlan := sc.OfferID != "" && sc.OfferID != next.OfferID || sc.Term != "" && sc.Term != next.Term ||
		sc.BillingFrequency != "" && sc.BillingFrequency != next.BillingFrequency
	if changesPlan {
		if rej := d.validSchedule(next, *sc); rej != nil {
			return nil, "", &messages.DroppedChangesView{Scheduled: sc.view(), Code: rej.Code, Rule: rej.Rule,
				Description: fmt.Sprintf("the scheduled change was dropped and %s renewed on its current plan: %s", next.ID, rej.Description)}
		}
	}
	warning := ""
	if sc.OfferID != "" && sc.OfferID != next.OfferID {
		if offer, ok := d.in.Catalog.Offer(sc.OfferID); ok {
			next.OfferID, next.OfferName = offer.ID, offer.Name
			next.CommerceType, next.BillingType = offer.CommerceType, offer.BillingType
			next.CancelWindowHours = offer.CancelWindowHours
		}
		if sc.Quantity != 0 && sc.Quantity != next.Quantity {
			warning = "The quantity changed with the SKU upgrade: licenses are not reassigned automatically; assign them by hand (SCH-4)."
		}
	}
	if sc.Quantity != 0 {
		next.Quantity = sc.Quantity
	}
	if sc.Term != "" {
		next.Term = sc.Term
	}
	if sc.BillingFrequency != "" {
		next.BillingFrequency = sc.BillingFrequency
	}
	return sc.view(), warning, nil
}

// clearScheduled is SCH-3: a mid-term cancel, auto-renew off, quantity
// change, SKU upgrade or trial conversion deletes the stored scheduled
// changes. It changes next (a clone the caller will put) and reports the
// deletion with a subscription.schedule.changed event naming the reason
// (the command type that caused it).
func (d *decision) clearScheduled(next *Subscription, reason string) bool {
	if next.Scheduled == nil {
		return false
	}
	next.Scheduled = nil
	d.emit(messages.EvtScheduleChanged, &messages.ScheduleChangedEvent{SubscriptionID: next.ID, Reason: reason})
	return true
}

// upgradeAllowed is UPG-2 then UPG-1 for a pair of offers (see
// upgradePath, which names the subscription too).
func upgradeAllowed(cat *catalog.Catalog, from, to string) *messages.Rejection {
	data := map[string]string{"from_offer_id": from, "target_offer_id": to}
	if cat.Policy.UpgradeUnsupported(from, to) {
		return reject(CodeUpgradeNotSupported, "UPG-2", fmt.Sprintf("upgrading %s to %s is not supported", from, to), data)
	}
	if src, ok := cat.Offer(from); ok && src.UpgradesTo(to) {
		return nil
	}
	return reject(CodeUpgradePathNotSupported, "UPG-1", fmt.Sprintf("%s is not an upgrade path of %s", to, from), data)
}
