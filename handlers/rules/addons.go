package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Rejection codes of the add-on rules (ORD-7..ORD-9, SUS-5).
const (
	// CodeAddonRequiresBase: the customer holds no compatible base
	// licenses (ORD-7, ORD-8) or no active compatible base subscription
	// (ORD-9).
	CodeAddonRequiresBase = "addon_requires_base"
	// CodeAddonBelowMinimum: a multi-geo quantity under its share of the
	// base licenses (ORD-7).
	CodeAddonBelowMinimum = "addon_below_minimum"
	// CodeAddonAboveMaximum: a Copilot quantity above the base licenses
	// (ORD-8).
	CodeAddonAboveMaximum = "addon_above_maximum"
	// CodeAddonBaseNotEligible: the base subscription named by the line
	// cannot carry the add-on (wrong offer, not active, ...).
	CodeAddonBaseNotEligible = "addon_base_not_eligible"
	// CodeAddonPlanMismatch: a co-terminous add-on line names another term
	// or billing frequency than its base's (ORD-9).
	CodeAddonPlanMismatch = "addon_plan_mismatch"
	// CodeBaseSuspended: an add-on cannot be reactivated while its base is
	// suspended (SUS-5).
	CodeBaseSuspended = "base_subscription_suspended"
)

// Add-ons (ORD-7..ORD-9, SUS-5). Decisions, where Partner Center is silent:
//
//   - Add-on lines of an order are decided after all its other lines, so
//     that base lines anywhere in the same cart count (Partner Center: base
//     licenses in the cart count); only base lines that were fulfilled
//     count. Events follow that order; order.processed keeps the lines'
//     order.
//   - Base licenses (ORD-7, ORD-8) are the licenses of every subscription
//     of a compatible base offer (catalog addon.base_offer_ids) that is
//     active or suspended (suspended licenses are still held and billed,
//     SUS-3), through any partner (Partner Center: even spread across
//     partners), including base lines of the same cart. Cancelled and
//     expired ones do not count; trials cannot be bases (catalog).
//   - Add-on licenses already held count too: every active or suspended
//     subscription of the same add-on offer, through any partner. ORD-7:
//     held + quantity >= ceil(base × min_percent_of_base / 100) (Partner
//     Center's 400 → 20; the minimum is rounded up, the catalogue's
//     decision), so a top-up may be small once the minimum is met. ORD-8:
//     held + quantity <= base (Partner Center's 250 → 250), so Copilot
//     licenses never outnumber base licenses, however they were bought.
//   - No base licenses at all: addon_requires_base (ORD-7 / ORD-8).
//   - A co-terminous add-on (ORD-9) is attached to one active base
//     subscription of a compatible offer whose partner of record is the
//     ordering partner (PTN-1): the one the line names
//     (base_subscription_id), else the first base line of the same order,
//     else the partner's first such subscription by ID. None:
//     addon_requires_base (ORD-9). A renewing base answers conflict
//     (REN-4). The add-on takes its base's term and billing frequency (a
//     line naming others is rejected addon_plan_mismatch; left out, they
//     default to the base's), its term start and end dates (Partner Center:
//     the add-on's start date is aligned with the base) and its billing
//     periods. Its first billing period runs from today to the end of the
//     base's current billing period and is charged
//     round_half_up(price × quantity × days(today..period end, inclusive)
//     / days of that whole period); the event's proration shows it (its
//     "unused days" are the days charged). Later license changes and the
//     cancellation in that first period prorate by the whole period's days
//     too, counting the days before the add-on existed as used (see
//     fullPeriod in quantity.go): a license costs the same per day as the
//     base's. Its own term_end timer fires with the base's; the base decides
//     what happens then, and a base cancellation cancels it too
//     (addon_follow.go).
//   - Multi-geo and Copilot add-ons are linked to a base too, for SUS-5:
//     the base the line names (checked like ORD-9's), else a base line of
//     the same order, else the partner's first active compatible base by
//     ID; with none (every base is held through other partners) they have
//     no link and are never suspended with a base. A link never crosses
//     partners.
//   - SUS-5: suspending a base suspends every active add-on linked to it
//     (SuspendedWithBase, same reason, auto-renew off as SUS-4 says, one
//     subscription.suspended each, after the base's). Reactivating the
//     base reactivates only those (one subscription.reactivated each,
//     within their term); add-ons suspended on their own stay suspended.
//     An add-on whose base is suspended cannot be reactivated on its own
//     (base_subscription_suspended).

// addonLine checks an add-on line before its plan is chosen: for a
// co-terminous add-on it finds the base and defaults the line's plan to
// the base's (ORD-9).
func (d *decision) addonLine(offer *catalog.Offer, line messages.OrderLine, created []*Subscription, field func(string) string) (messages.OrderLine, *Subscription, *messages.Rejection) {
	a := offer.Addon
	if a.Kind != catalog.AddonCoterminous {
		return line, nil, nil
	}
	base, rej := d.addonBase(offer, line.BaseSubscriptionID, created, field("base_subscription_id"), "ORD-9")
	if rej != nil {
		return line, nil, rej
	}
	if base == nil {
		return line, nil, reject(CodeAddonRequiresBase, "ORD-9",
			fmt.Sprintf("%s needs an active subscription of %s under partner %s", offer.Name, strings.Join(a.BaseOfferIDs, ", "), d.in.PartnerID),
			map[string]string{"offer_id": offer.ID, "base_offer_ids": strings.Join(a.BaseOfferIDs, ",")})
	}
	if line.Term == "" && line.BillingFrequency == "" {
		line.Term, line.BillingFrequency = base.Term, base.BillingFrequency
	}
	if line.Term != base.Term || line.BillingFrequency != base.BillingFrequency {
		return line, nil, reject(CodeAddonPlanMismatch, "ORD-9",
			fmt.Sprintf("%s takes the term and billing frequency of its base %s: %s billed %s", offer.Name, base.ID, base.Term, base.BillingFrequency),
			map[string]string{"offer_id": offer.ID, "base_subscription_id": base.ID, "term": base.Term, "billing_frequency": base.BillingFrequency,
				"line_term": line.Term, "line_billing_frequency": line.BillingFrequency})
	}
	if base.RenewalPendingSince != nil {
		return line, nil, reject(CodeConflict, "REN-4",
			fmt.Sprintf("base subscription %s is renewing; retry after the renewal completes", base.ID),
			map[string]string{"base_subscription_id": base.ID, "renewal_pending_since": base.RenewalPendingSince.Format(time.RFC3339Nano)})
	}
	if !d.in.Now.Before(base.termEndsAt()) {
		return line, nil, reject(CodeTermEnded, "ORD-9",
			fmt.Sprintf("the term of base subscription %s ended on %s", base.ID, formatDate(base.TermEnd)),
			map[string]string{"base_subscription_id": base.ID, "term_end": formatDate(base.TermEnd)})
	}
	return line, base, nil
}

// addonQuantity is ORD-7 and ORD-8 for a multi-geo or Copilot line of
// quantity q, and the base it is linked to (SUS-5), if any.
func (d *decision) addonQuantity(offer *catalog.Offer, line messages.OrderLine, q int, created []*Subscription, field func(string) string) (*Subscription, *messages.Rejection) {
	a := offer.Addon
	if a.Kind == catalog.AddonCoterminous {
		return nil, nil
	}
	rule := "ORD-7"
	if a.Kind == catalog.AddonCopilot {
		rule = "ORD-8"
	}
	base, held := d.licensesOf(a.BaseOfferIDs), d.licensesOf([]string{offer.ID})
	data := map[string]string{"offer_id": offer.ID, "base_licenses": strconv.Itoa(base),
		"held_addon_licenses": strconv.Itoa(held), "quantity": strconv.Itoa(q)}
	if base == 0 {
		data["base_offer_ids"] = strings.Join(a.BaseOfferIDs, ",")
		return nil, reject(CodeAddonRequiresBase, rule,
			fmt.Sprintf("%s needs licenses of a compatible base offer (%s); the customer holds none", offer.Name, strings.Join(a.BaseOfferIDs, ", ")), data)
	}
	switch {
	case a.Kind == catalog.AddonMultiGeo:
		minimum := int((int64(a.MinPercentOfBase)*int64(base) + 99) / 100) // rounded up (ORD-7 Decision)
		data["minimum"], data["min_percent_of_base"] = strconv.Itoa(minimum), strconv.Itoa(a.MinPercentOfBase)
		if held+q < minimum {
			return nil, reject(CodeAddonBelowMinimum, "ORD-7",
				fmt.Sprintf("%s needs at least %d%% of the customer's %d base licenses: %d in all, so at least %d more (holds %d)",
					offer.Name, a.MinPercentOfBase, base, minimum, minimum-held, held), data)
		}
	case a.Kind == catalog.AddonCopilot && a.MaxOfBase:
		data["maximum"] = strconv.Itoa(base)
		if held+q > base {
			return nil, reject(CodeAddonAboveMaximum, "ORD-8",
				fmt.Sprintf("%s is limited to the customer's %d base licenses: %d are held, so at most %d more", offer.Name, base, held, max(base-held, 0)), data)
		}
	}
	return d.addonBase(offer, line.BaseSubscriptionID, created, field("base_subscription_id"), rule)
}

// licensesOf counts the customer's licenses of the offers: active and
// suspended subscriptions, through any partner, including those created
// by earlier lines of the order being placed (they are in the state).
func (d *decision) licensesOf(offerIDs []string) int {
	n := 0
	for _, s := range d.state.sortedSubscriptions() {
		if (s.Status == StatusActive || s.Status == StatusSuspended) && !s.Trial && slices.Contains(offerIDs, s.OfferID) {
			n += s.Quantity
		}
	}
	return n
}

// addonBase finds the base subscription an add-on attaches to: the one
// named (which must be eligible), else the first eligible base created by
// this order, else the first eligible one by ID; nil when there is none.
// Eligible: the ordering partner's active subscription of a compatible
// base offer.
func (d *decision) addonBase(offer *catalog.Offer, named string, created []*Subscription, field, rule string) (*Subscription, *messages.Rejection) {
	a := offer.Addon
	eligible := func(s *Subscription) bool {
		return s.PartnerID == d.in.PartnerID && s.Status == StatusActive && !s.Trial && slices.Contains(a.BaseOfferIDs, s.OfferID)
	}
	if named != "" {
		if !messages.ValidToken(named) {
			return nil, invalidField(field, "must be 1-64 letters, digits, '-' or '_'")
		}
		s, ok := d.state.Subscriptions[named]
		if !ok {
			return nil, reject(CodeSubscriptionNotFound, "PTN-1", fmt.Sprintf("customer %s has no subscription %s", d.in.Command.CustomerID, named),
				map[string]string{"base_subscription_id": named})
		}
		if s.PartnerID != d.in.PartnerID {
			return nil, reject(CodeNotPartnerOfRecord, "PTN-1",
				fmt.Sprintf("partner %s is not the partner of record of subscription %s", d.in.PartnerID, named),
				map[string]string{"base_subscription_id": named})
		}
		if !eligible(s) {
			return nil, reject(CodeAddonBaseNotEligible, rule,
				fmt.Sprintf("subscription %s (%s, %s) cannot carry %s: it needs an active subscription of %s", s.ID, s.OfferName, s.Status, offer.Name, strings.Join(a.BaseOfferIDs, ", ")),
				map[string]string{"offer_id": offer.ID, "base_subscription_id": s.ID, "base_offer_id": s.OfferID, "status": s.Status})
		}
		return s, nil
	}
	for _, s := range created {
		if eligible(s) {
			return s, nil
		}
	}
	for _, s := range d.state.sortedSubscriptions() {
		if eligible(s) {
			return s, nil
		}
	}
	return nil, nil
}

// alignToBase makes a new co-terminous add-on end with its base (ORD-9):
// same term dates and billing periods, the first period from today to the
// end of the base's current billing period, charged for those days only.
// It returns the first charge's proration. PeriodIndex and TermStart name
// the whole period, so that later prorations in it use the whole period's
// days (fullPeriod).
func alignToBase(sub, base *Subscription, now time.Time) *messages.Proration {
	months, err := termMonths(base.Term)
	if err != nil {
		return nil
	}
	pm, err := billingMonths(base.BillingFrequency, months)
	if err != nil {
		return nil
	}
	today := dateOf(now)
	k := 0
	for k < months && !addMonthsClamped(base.TermStart, (k+1)*pm).After(today) {
		k++
	}
	periodStart := addMonthsClamped(base.TermStart, k*pm)
	periodEnd := addMonthsClamped(base.TermStart, (k+1)*pm).AddDate(0, 0, -1)
	if periodEnd.After(base.TermEnd) {
		periodEnd = base.TermEnd
	}
	full := daysBetween(periodStart, periodEnd.AddDate(0, 0, 1))
	charged := min(max(daysBetween(today, periodEnd.AddDate(0, 0, 1)), 1), full)
	amount := sub.UnitPrice * int64(sub.Quantity)
	sub.Term, sub.BillingFrequency = base.Term, base.BillingFrequency
	sub.TermStart, sub.TermEnd = base.TermStart, base.TermEnd
	sub.PeriodIndex = k
	sub.PeriodStart, sub.PeriodEnd = today, periodEnd
	sub.PeriodCharge = prorate(amount, charged, full)
	sub.BaseSubscriptionID = base.ID
	return &messages.Proration{BaseMinor: amount, UsedDays: full - charged, UnusedDays: charged, PeriodDays: full}
}

// suspendAddons is SUS-5: the active add-ons linked to a base that was
// just suspended are suspended with it.
func (d *decision) suspendAddons(base *Subscription, reason string) {
	for _, a := range d.state.sortedSubscriptions() {
		if a.BaseSubscriptionID == base.ID && a.Status == StatusActive {
			if !d.applySuspension(a, reason, true) {
				return
			}
		}
	}
}

// reactivateAddons is SUS-5's Decision: reactivating a base reactivates
// the add-ons that were suspended with it, and only those, while they may
// still be reactivated (within their term; a legacy one before its data
// deletion date).
func (d *decision) reactivateAddons(base *Subscription) {
	for _, a := range d.state.sortedSubscriptions() {
		if a.BaseSubscriptionID != base.ID || a.Status != StatusSuspended || !a.SuspendedWithBase {
			continue
		}
		if isLegacy(a) {
			if t := d.dataDeletionTimer(a.ID); t != nil && !d.in.Now.Before(t.DueAt) {
				continue
			}
		} else if !d.in.Now.Before(a.termEndsAt()) {
			continue
		}
		d.applyReactivation(a)
	}
}

// baseNotSuspended is SUS-5 for an add-on reactivated on its own: its
// base must not be suspended.
func (d *decision) baseNotSuspended(s *Subscription) bool {
	if s.BaseSubscriptionID == "" {
		return true
	}
	b, ok := d.state.Subscriptions[s.BaseSubscriptionID]
	if !ok || b.Status != StatusSuspended {
		return true
	}
	d.reject(reject(CodeBaseSuspended, "SUS-5",
		fmt.Sprintf("subscription %s is an add-on of %s, which is suspended; reactivate the base subscription", s.ID, b.ID),
		map[string]string{"subscription_id": s.ID, "base_subscription_id": b.ID}))
	return false
}
