package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Rejection codes of UPG-*. (Identifiers carry "Upgrade" so they cannot
// clash with other rules' codes; the wire values are what matter.)
const (
	CodeUpgradeSourceNotActive     = "subscription_not_active"
	CodeUpgradeTrial               = "trial_use_conversion"
	CodeUpgradePathNotSupported    = "upgrade_path_not_supported"
	CodeUpgradeNotSupported        = "upgrade_not_supported"
	CodeUpgradeTargetOfferMismatch = "target_offer_mismatch"
	CodeUpgradeTargetNotActive     = "target_subscription_not_active"
	CodeUpgradeTargetInWindow      = "target_in_cancellation_window"
	CodeUpgradeTargetTermDiffers   = "target_term_length_differs"
	CodeUpgradeTargetEndsBefore    = "target_ends_before_source"
	CodeUpgradeScheduleNotAllowed  = "schedule_not_allowed"
	CodeUpgradeScheduledPartial    = "scheduled_upgrade_must_be_full"
)

// Values of UpgradeData.When and SubscriptionUpgradedEvent.Mode.
const (
	upgradeNow       = "now"
	upgradeAtRenewal = "renewal"

	UpgradeFullInPlace         = "full_in_place"
	UpgradeFullIntoExisting    = "full_into_existing"
	UpgradePartialNew          = "partial_new"
	UpgradePartialIntoExisting = "partial_into_existing"
	UpgradeScheduled           = "scheduled"
)

// Warnings of subscription.upgraded (UPG-3; Partner Center, "license
// reassignment": always attempted in a full upgrade, by hand in a partial
// one or when the customer has several subscriptions of the same SKU).
const (
	warnPartial   = "A partial upgrade does not reassign licenses: assign the upgraded licenses to users by hand (UPG-4)."
	warnElsewhere = "The customer also has %s from another partner or channel: licenses must be assigned by hand (UPG-3)."
	warnSeveral   = "The customer has several subscriptions of %s: licenses must be assigned by hand (UPG-3)."
	warnSCH4      = "A quantity change is scheduled with the upgrade: licenses will not be reassigned automatically at renewal; assign them by hand (SCH-4)."
)

// upgrade moves licenses of an active paid subscription to a higher SKU
// (UPG-1..UPG-8, SCH-2..SCH-4).
//
// Checks, in order: PTN-1; CAN-2/REN-3 (not final); REN-4 (an immediate
// upgrade conflicts with a pending renewal, a scheduled one is read-only
// meanwhile); UPG-1 the source is active (a suspended one cannot be
// upgraded) and not a trial (trials convert, TRI-2); the target offer
// exists; UPG-2 the pair is not in policy.unsupported_upgrades (checked
// before the paths: the table wins, and it names the reason better); UPG-1
// the target is on the source offer's upgrade_paths (so the same SKU and
// every downgrade are refused); ORD-3 the customer's segment may buy the
// target; ORD-6 the resulting license count is within the target offer's
// bounds; ORD-2 a one-per-customer target cannot gain a second
// subscription (upgrade into the existing one instead).
//
// Quantity absent or equal to the licenses held is a full upgrade (UPG-3),
// fewer is a partial one (UPG-4). Without target_subscription_id a full
// upgrade happens in place (same subscription ID) and a partial one
// creates a new subscription, co-terminous with the source; with it the
// licenses are added to that existing subscription (UPG-3, UPG-5, UPG-8).
func (d *decision) upgrade(c *messages.UpgradeData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) {
		return
	}
	var scheduled bool
	switch c.When {
	case "", upgradeNow:
	case upgradeAtRenewal:
		scheduled = true
	default:
		d.reject(invalidField("data.when", fmt.Sprintf("%q is not now or renewal (UPG-7)", c.When)))
		return
	}
	if !d.notPendingRenewal(s) {
		return
	}
	data := map[string]string{"subscription_id": s.ID, "status": s.Status}
	switch {
	case s.Trial:
		d.reject(reject(CodeUpgradeTrial, "UPG-1",
			fmt.Sprintf("subscription %s is a trial: convert it (to the paid SKU, a higher SKU or into an existing subscription) instead of upgrading it (TRI-2)", s.ID), data))
		return
	case s.Status != StatusActive:
		d.reject(reject(CodeUpgradeSourceNotActive, "UPG-1",
			fmt.Sprintf("subscription %s is %s: only an active subscription can be upgraded", s.ID, s.Status), data))
		return
	case c.TargetOfferID == "":
		d.reject(invalidField("data.target_offer_id", "is required"))
		return
	}
	offer, ok := d.in.Catalog.Offer(c.TargetOfferID)
	if !ok {
		d.reject(reject(CodeOfferNotFound, "UPG-1", fmt.Sprintf("offer %q is not in the catalog", c.TargetOfferID),
			map[string]string{"target_offer_id": c.TargetOfferID}))
		return
	}
	if rej := upgradePath(d.in.Catalog, s, offer); rej != nil {
		d.reject(rej)
		return
	}
	if seg := d.state.Customer.Segment; !offer.SoldTo(seg) {
		d.reject(reject(CodeSegmentNotEligible, "ORD-3",
			fmt.Sprintf("%s is not available to %s customers", offer.Name, seg),
			map[string]string{"offer_id": offer.ID, "segment": seg}))
		return
	}
	q := s.Quantity
	if c.Quantity != nil {
		switch {
		case *c.Quantity < 1:
			d.reject(invalidField("data.quantity", "must be at least 1 (omit it to upgrade every license)"))
			return
		case *c.Quantity > s.Quantity:
			d.reject(reject(CodeQuantityOutOfRange, "UPG-4",
				fmt.Sprintf("subscription %s holds %d licenses; %d cannot be upgraded", s.ID, s.Quantity, *c.Quantity),
				map[string]string{"subscription_id": s.ID, "field": "data.quantity", "quantity": strconv.Itoa(*c.Quantity),
					"max_quantity": strconv.Itoa(s.Quantity)}))
			return
		}
		q = *c.Quantity
	}
	if scheduled {
		d.scheduleUpgrade(s, offer, c.TargetSubscriptionID, q)
		return
	}
	d.upgradeNow(s, offer, q, c.TargetSubscriptionID)
}

// upgradePath is UPG-2 then UPG-1 for a subscription and a target offer.
func upgradePath(cat *catalog.Catalog, s *Subscription, target *catalog.Offer) *messages.Rejection {
	data := map[string]string{"subscription_id": s.ID, "from_offer_id": s.OfferID, "target_offer_id": target.ID}
	if cat.Policy.UpgradeUnsupported(s.OfferID, target.ID) {
		return reject(CodeUpgradeNotSupported, "UPG-2",
			fmt.Sprintf("upgrading %s to %s is not supported by the programme", s.OfferName, target.Name), data)
	}
	if src, ok := cat.Offer(s.OfferID); !ok || !src.UpgradesTo(target.ID) {
		return reject(CodeUpgradePathNotSupported, "UPG-1",
			fmt.Sprintf("%s is not an upgrade of %s (only a higher SKU on the catalog's upgrade paths; no downgrades)", target.Name, s.OfferName), data)
	}
	return nil
}

// scheduleUpgrade is UPG-7's upgrade at term end: it is stored as the
// scheduled offer change (SCH-1) and the renewal applies it in place,
// keeping the other scheduled changes. It needs auto-renew on (SCH-2) and
// moves every license: a partial upgrade is immediate only.
// Decision: it cannot name a target subscription (the stored schedule has
// no place for one; upgrade into an existing subscription now instead).
// The target must sell the plan the renewal will start (the scheduled term
// and billing frequency, or the current ones) in the customer's currency,
// for the license count the renewal will have.
func (d *decision) scheduleUpgrade(s *Subscription, offer *catalog.Offer, targetID string, q int) {
	data := map[string]string{"subscription_id": s.ID, "auto_renew": strconv.FormatBool(s.AutoRenew)}
	switch {
	case targetID != "":
		d.reject(invalidField("data.target_subscription_id", "a scheduled upgrade (when=renewal) happens in place at renewal; upgrade into an existing subscription now (UPG-7)"))
		return
	case !s.AutoRenew:
		d.reject(reject(CodeUpgradeScheduleNotAllowed, "SCH-2",
			fmt.Sprintf("subscription %s does not renew (auto-renew is off): an upgrade cannot be scheduled for its renewal", s.ID), data))
		return
	case q != s.Quantity:
		data["quantity"], data["held"] = strconv.Itoa(q), strconv.Itoa(s.Quantity)
		d.reject(reject(CodeUpgradeScheduledPartial, "UPG-7",
			fmt.Sprintf("a scheduled upgrade moves all %d licenses of %s; upgrade %d now (partial upgrade, UPG-4) instead", s.Quantity, s.ID, q), data))
		return
	}
	want := ScheduledChange{}
	if s.Scheduled != nil {
		want = *s.Scheduled
	}
	want.OfferID = offer.ID
	term, freq, qty := s.Term, s.BillingFrequency, s.Quantity
	if want.Term != "" {
		term = want.Term
	}
	if want.BillingFrequency != "" {
		freq = want.BillingFrequency
	}
	if want.Quantity != 0 {
		qty = want.Quantity
	}
	if _, rej := d.upgradePlan(offer, term, freq, s.Currency); rej != nil {
		d.reject(rej)
		return
	}
	if _, rej := lineQuantity(offer, &qty, "data.quantity"); rej != nil {
		d.reject(rej)
		return
	}
	if rej := d.onePerCustomer(offer); rej != nil {
		d.reject(rej)
		return
	}
	months, err := termMonths(term)
	if err != nil {
		d.reject(reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil))
		return
	}
	next := s.clone()
	next.Scheduled = &want
	d.putSubscription(&next)

	var warnings []string
	if want.Quantity != 0 && want.Quantity != s.Quantity {
		warnings = append(warnings, warnSCH4)
	}
	warnings = append(warnings, d.reassignWarnings(offer, s.ID, "")...)
	renewsOn := s.termEndsAt()
	d.emit(messages.EvtSubscriptionUpgraded, &messages.SubscriptionUpgradedEvent{
		SubscriptionID: s.ID, FromOfferID: s.OfferID, TargetOfferID: offer.ID, TargetSubscriptionID: s.ID,
		Quantity: s.Quantity, Mode: UpgradeScheduled,
		Warning: strings.Join(warnings, " "), LicensesReassigned: len(warnings) == 0,
		SourceQuantity: s.Quantity, SourceStatus: s.Status,
		TargetQuantity: qty, Term: term, BillingFrequency: freq, TermEnd: formatDate(termEnd(renewsOn, months)),
		Currency: s.Currency, RenewsOn: formatDate(renewsOn),
		Scheduled: &messages.ScheduledChangeView{OfferID: want.OfferID, Quantity: want.Quantity, Term: want.Term, BillingFrequency: want.BillingFrequency},
	})
}

// upgradePlan returns the target offer's price of one license for one
// billing period of the plan (GEN-4, GEN-3).
func (d *decision) upgradePlan(offer *catalog.Offer, term, freq, currency string) (int64, *messages.Rejection) {
	plan, ok := offer.Plan(term, freq)
	if !ok {
		return 0, reject(CodePlanNotAvailable, "GEN-4",
			fmt.Sprintf("%s is not sold with term %q billed %q", offer.Name, term, freq),
			map[string]string{"offer_id": offer.ID, "term": term, "billing_frequency": freq})
	}
	price, ok := plan.Prices[currency]
	if !ok {
		return 0, reject(CodePriceNotAvailable, "GEN-3",
			fmt.Sprintf("%s has no price in %s", offer.Name, currency),
			map[string]string{"offer_id": offer.ID, "currency": currency})
	}
	return price, nil
}

// upgradeNow applies an immediate (mid-term) upgrade of q licenses.
//
// Money (GEN-2, GEN-3; integers, each amount rounded half up once). The q
// licenses are taken from the source's newest lots first (as takeLicenses
// removes them); each lot's part is prorated exactly as a QTY-2 decrease
// of those licenses would be (lotProration: the days counted before the
// lot was added, then every started day since it was added or the period
// began to be used):
//
//	credit = round(Σ parts source.unit_price × n × unused_part / period_days)
//	charge = round(Σ parts target_unit_price × n × unused_part / period_days)
//
// Decision: an upgrade gives back what a decrease or a cancellation of the
// same licenses would, lot by lot, and charges the new price for exactly
// the license-days it credited, so every way of removing a license agrees
// on the days the partner pays for. Counting every moved license's days
// from the period's start instead credited a license added during the
// period one day it had held whenever the two counts round differently.
//
// The credit is on the source subscription (billing.credit), the charge
// on the target (billing.charge), both with reason "upgrade" and rule
// UPG-3 (full) or UPG-4 (partial), and both emitted even when zero; with
// parts of several lots the events carry lot_prorations. In place and for
// a new subscription the target's unit price is the target offer's price
// for the source's term and billing frequency. Into an existing
// subscription the licenses are bought into it at now exactly as a QTY-1
// increase (increaseCharge: its own period, dates and unit price; it
// keeps its term and billing frequency, UPG-3).
//
// State:
//   - full in place: the ID stays; offer, unit price and cancellation
//     window hours become the target's; PeriodCharge = old - credit +
//     charge (what the period is billed, net).
//   - partial, new subscription: derived ID; same term and billing period
//     dates as the source (co-terminous, UPG-4), its own term-end and
//     billing-period timers (due at the same instants as the source's),
//     auto-renew as the source's, PeriodCharge = charge. Its lots are the
//     moved parts with their instants (AddedAt, Increase), so that a later
//     upgrade of it credits the days this one charged. The source keeps
//     the rest: its newest lots lose the licenses first, and its
//     PeriodCharge loses what the upgraded licenses were charged for the
//     period (their lots' share: unit price × n for licenses that came
//     with the period, the prorated QTY-1 charge for licenses added
//     during it), not just the credit. Decision: that keeps PeriodCharge
//     the period charge of the licenses it still holds, so cancelling
//     them later in their window (CAN-1) refunds exactly their unused
//     days; subtracting only the credit would refund the upgraded
//     licenses' used days a second time, and subtracting their full price
//     when they were a prorated lot would take part of the kept licenses'
//     charge with them.
//   - into an existing subscription: it gains q licenses as a new lot
//     (an increase at now) and PeriodCharge += charge; a full upgrade leaves the source with no
//     licenses, so it ends: status cancelled (final, CAN-2), its timers
//     deleted, PeriodCharge = old - credit; the subscription.upgraded event
//     (source_status "cancelled") is its notification, no
//     subscription.cancelled is emitted. Decision: adding licenses to the
//     target is a mid-term quantity change, so the target's scheduled
//     changes are deleted too (SCH-3).
//
// UPG-6 (no cancellation window after an upgrade, it cannot be undone):
// the upgraded licenses are never reducible and the upgraded subscription
// not cancellable. Their lots get ReducibleUntil = now, and an in-place or
// new subscription CancellableUntil = now (the half-open window is closed
// at once; an in-place upgrade closes a window that was still open). The
// source's remaining licenses keep their own windows.
//
// UPG-7/SCH-3: the source's scheduled changes (a scheduled upgrade
// included) are deleted, with subscription.schedule.changed.
//
// Events: subscription.schedule.changed (if any was deleted), then
// subscription.upgraded, billing.credit, billing.charge.
func (d *decision) upgradeNow(s *Subscription, offer *catalog.Offer, q int, targetID string) {
	full := q == s.Quantity
	now := d.in.Now
	var target *Subscription
	var price int64
	if targetID != "" {
		t, ok := d.eligibleTarget(s, offer, targetID, q)
		if !ok {
			return
		}
		target, price = t, t.UnitPrice
	} else {
		p, rej := d.upgradePlan(offer, s.Term, s.BillingFrequency, s.Currency)
		if rej == nil {
			_, rej = lineQuantity(offer, &q, "data.quantity")
		}
		if rej == nil {
			rej = d.onePerCustomer(offer)
		}
		if rej != nil {
			d.reject(rej)
			return
		}
		price = p
	}

	if !d.belowUpdateLimit(s) || target != nil && !d.belowUpdateLimit(target) { // QTY-4
		return
	}
	if rej := d.addonLimitsAfter(map[string]int{s.OfferID: -q, offer.ID: q}, s.ID); rej != nil { // ORD-7, ORD-8 (addon_limits.go)
		d.reject(rej)
		return
	}

	rule := "UPG-3"
	if !full {
		rule = "UPG-4"
	}
	src := s.clone()
	src.UpdateCount++                                   // QTY-4
	d.clearScheduled(&src, string(messages.CmdUpgrade)) // UPG-7, SCH-3
	parts := upgradeParts(s, q, now)
	credit := upgradeEvent(s, s.OfferID, s.UnitPrice, parts, rule)

	var dst *Subscription
	var mode string
	switch {
	case target != nil:
		t := target.clone()
		d.clearScheduled(&t, string(messages.CmdUpgrade)) // SCH-3: a mid-term quantity change
		t.Quantity += q
		t.UpdateCount++                                                                                              // QTY-4: its license count changed
		t.Lots = append(normalizedLots(target), Lot{Quantity: q, AddedAt: now, ReducibleUntil: now, Increase: true}) // UPG-6
		dst = &t
		if full {
			mode = UpgradeFullIntoExisting
			d.endSubscription(&src, endCancelled, "") // its schedule is already cleared
			src.Quantity, src.Lots = 0, nil
			src.PeriodCharge = max(s.PeriodCharge-credit.AmountMinor, 0)
		} else {
			mode = UpgradePartialIntoExisting
			takeLicenses(&src, q)
		}
	case full:
		mode = UpgradeFullInPlace
		dst = &src
		dst.OfferID, dst.OfferName = offer.ID, offer.Name
		dst.CommerceType, dst.BillingType = offer.CommerceType, offer.BillingType
		dst.UnitPrice, dst.CancelWindowHours = price, offer.CancelWindowHours
		dst.CancellableUntil = earlier(dst.CancellableUntil, now) // UPG-6
		for i := range dst.Lots {
			dst.Lots[i].ReducibleUntil = earlier(dst.Lots[i].ReducibleUntil, now)
		}
	default:
		if d.derivedIDTaken(0, rule) {
			return
		}
		mode = UpgradePartialNew
		takeLicenses(&src, q)
		dst = &Subscription{
			ID:        messages.DerivedID("sub", d.in.Command.CustomerID, d.in.Command.ID, 0),
			PartnerID: s.PartnerID, OrderID: s.OrderID, LineID: s.LineID,
			OfferID: offer.ID, OfferName: offer.Name, CommerceType: offer.CommerceType, BillingType: offer.BillingType,
			Quantity: q, Term: s.Term, BillingFrequency: s.BillingFrequency,
			Status: StatusActive, AutoRenew: s.AutoRenew,
			TermStart: s.TermStart, TermEnd: s.TermEnd, // UPG-4: co-terminous
			WindowOpenedAt: now, CancellableUntil: now, // UPG-6
			Currency: s.Currency, TaxInclusive: s.TaxInclusive, UnitPrice: price,
			PeriodStart: s.PeriodStart, PeriodEnd: s.PeriodEnd, PeriodIndex: s.PeriodIndex,
			// The proration of a later change counts used days from
			// here, so it is the source's: the days before the upgrade
			// are not the new subscription's to be refunded.
			PeriodStartedAt:   s.PeriodStartedAt,
			CancelWindowHours: offer.CancelWindowHours,
			Lots:              movedLots(parts, now), // UPG-6
		}
		carryResellers(dst, s) // PTN-3, PTN-4 (derived_resellers.go)
	}
	var charge *messages.BillingEvent
	if target != nil {
		charge, _ = increaseCharge(target, q, now)
		charge.Reason, charge.Rule = messages.BillingReasonUpgrade, rule
	} else {
		for i := range parts {
			parts[i].Proration.BaseMinor = price * int64(parts[i].Quantity)
		}
		charge = upgradeEvent(dst, offer.ID, price, parts, rule)
	}
	if mode == UpgradeFullInPlace {
		dst.PeriodCharge = max(s.PeriodCharge-credit.AmountMinor, 0) + charge.AmountMinor
	} else {
		dst.PeriodCharge += charge.AmountMinor
	}

	if dst != &src && mode != UpgradeFullIntoExisting { // an emptied source was stored by endSubscription
		d.putSubscription(&src)
	}
	d.putSubscription(dst)
	if mode == UpgradePartialNew {
		d.scheduleTermTimers(dst)
	}

	var warnings []string
	if !full {
		warnings = append(warnings, warnPartial)
	}
	warnings = append(warnings, d.reassignWarnings(offer, s.ID, dst.ID)...)
	ev := &messages.SubscriptionUpgradedEvent{
		SubscriptionID: s.ID, FromOfferID: s.OfferID, TargetOfferID: offer.ID, TargetSubscriptionID: dst.ID,
		Quantity: q, Mode: mode, Warning: strings.Join(warnings, " "), LicensesReassigned: len(warnings) == 0,
		SourceQuantity: src.Quantity, SourceStatus: src.Status,
		TargetQuantity: dst.Quantity, Term: dst.Term, BillingFrequency: dst.BillingFrequency, TermEnd: formatDate(dst.TermEnd),
		CreditMinor: credit.AmountMinor, ChargeMinor: charge.AmountMinor, Currency: s.Currency,
	}
	d.emit(messages.EvtSubscriptionUpgraded, ev)
	ev.CreditEventID = d.nextEventID()
	d.emit(messages.EvtBillingCredit, credit)
	ev.ChargeEventID = d.nextEventID()
	d.emit(messages.EvtBillingCharge, charge)
}

// eligibleTarget checks the existing subscription the licenses go into
// (UPG-3, UPG-5): the acting partner's (PTN-1), of the target offer, an
// active paid subscription, not renewing (REN-4), outside its own
// cancellation window, with the source's term length, ending on or after
// the source's end date, and with room for q more licenses (ORD-6).
func (d *decision) eligibleTarget(s *Subscription, offer *catalog.Offer, id string, q int) (*Subscription, bool) {
	switch {
	case !messages.ValidToken(id):
		d.reject(invalidField("data.target_subscription_id", "must be 1-64 letters, digits, '-' or '_'"))
		return nil, false
	case id == s.ID:
		d.reject(invalidField("data.target_subscription_id", "must differ from subscription_id"))
		return nil, false
	}
	t, ok := d.subscriptionOfPartner(id)
	if !ok || !d.notFinal(t) {
		return nil, false
	}
	data := map[string]string{"subscription_id": s.ID, "target_subscription_id": t.ID}
	switch {
	case t.OfferID != offer.ID:
		data["target_offer_id"], data["target_subscription_offer_id"] = offer.ID, t.OfferID
		d.reject(reject(CodeUpgradeTargetOfferMismatch, "UPG-3",
			fmt.Sprintf("subscription %s is %s, not %s", t.ID, t.OfferName, offer.Name), data))
		return nil, false
	case t.Trial || t.Status != StatusActive:
		data["status"], data["trial"] = t.Status, strconv.FormatBool(t.Trial)
		what := t.Status
		if t.Trial {
			what = "a trial"
		}
		d.reject(reject(CodeUpgradeTargetNotActive, "UPG-1",
			fmt.Sprintf("subscription %s is %s: licenses can only be upgraded into an active paid subscription", t.ID, what), data))
		return nil, false
	}
	if !d.notPendingRenewal(t) {
		return nil, false
	}
	switch {
	case d.in.Now.Before(t.CancellableUntil):
		data["window_end"] = t.CancellableUntil.Format(time.RFC3339Nano)
		d.reject(reject(CodeUpgradeTargetInWindow, "UPG-5",
			fmt.Sprintf("subscription %s is inside its cancellation window until %s and cannot receive upgraded licenses", t.ID, t.CancellableUntil.Format(time.RFC3339)), data))
		return nil, false
	case t.Term != s.Term:
		data["term"], data["target_term"] = s.Term, t.Term
		d.reject(reject(CodeUpgradeTargetTermDiffers, "UPG-5",
			fmt.Sprintf("subscription %s has term %s, the source %s: the term lengths must match", t.ID, t.Term, s.Term), data))
		return nil, false
	case t.TermEnd.Before(s.TermEnd):
		data["term_end"], data["target_term_end"] = formatDate(s.TermEnd), formatDate(t.TermEnd)
		d.reject(reject(CodeUpgradeTargetEndsBefore, "UPG-5",
			fmt.Sprintf("subscription %s ends on %s, before the source's %s", t.ID, formatDate(t.TermEnd), formatDate(s.TermEnd)), data))
		return nil, false
	}
	if total := t.Quantity + q; total > offer.MaxQuantity {
		d.reject(reject(CodeQuantityOutOfRange, "ORD-6",
			fmt.Sprintf("subscription %s would hold %d licenses, more than %d for %s", t.ID, total, offer.MaxQuantity, offer.Name),
			map[string]string{"offer_id": offer.ID, "field": "data.quantity", "quantity": strconv.Itoa(total),
				"max_quantity": strconv.Itoa(offer.MaxQuantity), "target_subscription_id": t.ID}))
		return nil, false
	}
	return t, true
}

// upgradePart is n licenses of one of the source's lots that an upgrade
// moves, with their proration at the upgrade (lotProration).
type upgradePart struct {
	Lot
	Proration messages.Proration
}

// upgradeParts are the q licenses an upgrade at now takes from s: newest
// lots first, whether or not they are still reducible (the order
// takeLicenses removes them in), each part prorated as a QTY-2 decrease of
// those licenses (lotProration). Part i holds Lot.Quantity licenses.
func upgradeParts(s *Subscription, q int, now time.Time) []upgradePart {
	lots := normalizedLots(s)
	var parts []upgradePart
	for i := len(lots) - 1; i >= 0 && q > 0; i-- {
		n := min(lots[i].Quantity, q)
		l := lots[i]
		l.Quantity = n
		parts = append(parts, upgradePart{Lot: l, Proration: lotProration(s, lots[i], n, now)})
		q -= n
	}
	return parts
}

// movedLots are the lots of a new subscription made of the moved parts,
// oldest first, keeping their instants (so that their days are counted as
// on the source) but reducible no longer (UPG-6).
func movedLots(parts []upgradePart, now time.Time) []Lot {
	lots := make([]Lot, 0, len(parts))
	for i := len(parts) - 1; i >= 0; i-- {
		l := parts[i].Lot
		l.ReducibleUntil = earlier(l.ReducibleUntil, now)
		lots = append(lots, l)
	}
	return lots
}

// upgradeEvent is the credit on the source or the charge on an in-place
// or new target of an upgrade: the parts' prorations (base = unitPrice ×
// their licenses) summed exactly and rounded half up once (GEN-3), on s's
// current billing period.
func upgradeEvent(s *Subscription, offerID string, unitPrice int64, parts []upgradePart, rule string) *messages.BillingEvent {
	prs := make([]messages.Proration, len(parts))
	q := 0
	for i, p := range parts {
		prs[i] = p.Proration
		q += p.Quantity
	}
	ev := billingEvent(s, messages.BillingReasonUpgrade, rule, prorateSum(prs))
	ev.OfferID, ev.Quantity, ev.UnitPriceMinor = offerID, q, unitPrice
	if len(prs) == 1 {
		ev.Proration = &prs[0]
	} else {
		ev.LotProrations = prs
	}
	return ev
}

// takeLicenses removes q licenses from a subscription that keeps the rest
// (UPG-4): newest lots first, and from the period charge what those
// licenses were charged for the current period (see upgradeNow): the full
// unit price for licenses that came with the period, the prorated QTY-1
// charge for a lot added during it. The difference is taken lot by lot,
// lotCharge(before) - lotCharge(after), as a QTY-2 decrease does, so that
// the period charge stays the sum of the kept lots' charges.
func takeLicenses(s *Subscription, q int) {
	lots := normalizedLots(s)
	var removed int64
	left := q
	for i := len(lots) - 1; i >= 0 && left > 0; i-- {
		n := min(lots[i].Quantity, left)
		removed += lotCharge(s, lots[i], lots[i].Quantity) - lotCharge(s, lots[i], lots[i].Quantity-n)
		lots[i].Quantity -= n
		left -= n
	}
	s.Quantity -= q
	s.PeriodCharge = max(s.PeriodCharge-removed, 0)
	kept := lots[:0]
	for _, l := range lots {
		if l.Quantity > 0 {
			kept = append(kept, l)
		}
	}
	s.Lots = kept
}

// reassignWarnings says when licenses cannot be reassigned automatically
// (UPG-3): the customer holds the target SKU under another partner of
// record (bought "from another partner or channel"), or holds several
// subscriptions of it after the upgrade. source and dest are excluded
// from the count of other subscriptions.
func (d *decision) reassignWarnings(offer *catalog.Offer, source, dest string) []string {
	var elsewhere, others bool
	for _, x := range d.state.sortedSubscriptions() {
		if x.OfferID != offer.ID || x.ID == source || x.ID == dest ||
			(x.Status != StatusActive && x.Status != StatusSuspended) {
			continue
		}
		if x.PartnerID != d.in.PartnerID {
			elsewhere = true
		} else {
			others = true
		}
	}
	var out []string
	if elsewhere {
		out = append(out, fmt.Sprintf(warnElsewhere, offer.Name))
	}
	if others {
		out = append(out, fmt.Sprintf(warnSeveral, offer.Name))
	}
	return out
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
