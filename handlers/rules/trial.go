package rules

import (
	"fmt"
	"strconv"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Rejection codes of the trial rules (TRI-*).
const (
	// CodeTrialNoChange: no quantity or status change during a trial
	// (TRI-3). Turning auto-renew off stays allowed (TRI-1).
	CodeTrialNoChange = "trial_no_change"
	// CodeTrialAlreadyUsed: the customer already had this trial (TRI-1
	// Decision: one trial per trial offer per customer, ever).
	CodeTrialAlreadyUsed = "trial_already_used"
	// CodeTrialQuantityFixed: a trial line names another quantity than
	// the trial's licenses (TRI-1).
	CodeTrialQuantityFixed = "trial_quantity_fixed"
	// CodeNotATrial: subscription.trial.convert on a paid subscription.
	CodeNotATrial = "not_a_trial"
	// CodeConversionTargetNotAllowed: the target offer is neither the
	// trial's paid SKU nor a higher SKU on its upgrade paths (TRI-2).
	CodeConversionTargetNotAllowed = "conversion_target_not_allowed"
	// CodeConversionTargetNotEligible: the existing target subscription
	// is not an active paid subscription (TRI-2, TRI-4).
	CodeConversionTargetNotEligible = "conversion_target_not_eligible"
	// CodeConversionTargetEndsEarly: the existing target ends before the
	// trial (TRI-4).
	CodeConversionTargetEndsEarly = "conversion_target_ends_before_trial"
	// CodeConversionQuantity: an immediate conversion below the trial's
	// licenses, or into an existing subscription with another number than
	// the trial's licenses (TRI-5).
	CodeConversionQuantity = "conversion_quantity_not_allowed"
	// CodeConversionKeepsTargetPlan: a term or billing frequency named for
	// a conversion into an existing subscription, which keeps its own
	// (TRI-5).
	CodeConversionKeepsTargetPlan = "conversion_keeps_target_plan"
	// CodeConversionNeedsAutoRenew: a scheduled conversion needs auto-renew
	// on (TRI-6).
	CodeConversionNeedsAutoRenew = "conversion_needs_autorenew"
)

// ExpiredTrialConversionFailed is the subscription.expired reason of a
// trial whose conversion at its end was impossible (the paid offer left
// the catalog, ORD-2 forbids a second subscription, ...): it expires
// rather than being charged for something nobody asked for.
const ExpiredTrialConversionFailed = "trial_conversion_failed"

// Values of TrialConvertData.When and TrialConvertedEvent.Mode.
const (
	convertNow        = "now"
	convertAtTrialEnd = "trial_end"

	ConversionNew          = "new"
	ConversionIntoExisting = "into_existing"
	ConversionScheduled    = "scheduled"
)

// Trials (TRI-1..TRI-6, ORD-10). Decisions, where Partner Center is silent:
//
//   - A trial is bought as an order line of a trial offer (catalog
//     trial spec): quantity may be left out and is then the spec's
//     licenses (25); any other quantity is rejected trial_quantity_fixed.
//     Term and billing frequency may be left out (the trial plan). Its
//     subscription is Trial, auto-renew on, P1M, price 0, and emits NO
//     billing.charge: no money moves for a trial (ORD-10); billing starts
//     with the conversion's charge. subscription.created is emitted as
//     for any line.
//   - A customer may take each trial offer once, ever, through any
//     partner: a second trial line of the same offer is rejected
//     trial_already_used whatever the first trial's status (active,
//     converted, expired, cancelled), so trials cannot be chained.
//   - A converted trial ends with status expired (ExpiredAt = the
//     conversion instant, auto-renew off, timers deleted); no separate
//     subscription.expired is emitted, subscription.trial.converted is
//     its notification, and its TrialConversion keeps the conversion that
//     happened (target offer and subscription, quantity, plan) as a
//     record. Every later command on it is answered subscription_expired.
//   - Conversion prices are the catalog's list prices in the customer's
//     currency; no promotion applies (TRI-4).
//   - A new paid subscription from a conversion starts its term on the
//     conversion date with its own 168-hour window from the conversion
//     instant, its first billing period charged in full
//     (billing.charge reason trial_conversion), and its own timers. Its
//     ID derives from the command (immediate) or the trial-end timer
//     command (at the trial's end), position 0; it keeps the trial's
//     order and line IDs for traceability.
//   - Into an existing subscription the licenses form a new lot, charged
//     for the rest of the target's current billing period exactly like a
//     QTY-1 increase (increaseCharge), and count as one update (QTY-4);
//     the target's scheduled changes are deleted (SCH-3: a mid-term
//     quantity change). The target must be the trial partner's active
//     paid subscription of the target offer ending on or after the
//     trial's end date (TRI-4); one renewing answers conflict (REN-4).
//   - Immediate conversion (TRI-5): new subscription at least the trial's
//     licenses, any plan the target offer sells (default: the spec's
//     annual, billed monthly); into existing exactly the trial's licenses
//     (a term or billing frequency named is rejected: the target keeps
//     its own).
//   - Scheduled conversion (TRI-6, When = trial_end): needs auto-renew on;
//     the quantity may be lower than the trial's (and as high as the
//     offer allows). It is stored on the trial and replaces an earlier
//     one; an immediate conversion replaces it. It is applied when the
//     trial ends only if auto-renew is still on; otherwise the trial
//     expires (TRI-1).
//   - At the trial's end the scheduled conversion is checked again. If
//     its target subscription can no longer take the licenses (cancelled,
//     suspended, ...), the same licenses are converted into a new
//     subscription of the same offer and plan, and the event's note says
//     so; if even that is impossible the trial expires
//     (trial_conversion_failed). Without a scheduled conversion the
//     default one (TRI-1: paid offer, trial licenses, the spec's plan)
//     applies, or the trial expires likewise.
//   - Conversion deletes the trial's own scheduled changes (SCH-3).
type conversion struct {
	trial    *Subscription
	offer    *catalog.Offer
	plan     *catalog.Plan // new subscription only
	price    int64         // new subscription only
	target   *Subscription // into an existing subscription
	quantity int
}

type conversionRequest struct {
	offerID, targetID string
	quantity          *int
	term, frequency   string
}

// trialConvert converts a trial now (TRI-5) or schedules the conversion
// for its end (TRI-6).
func (d *decision) trialConvert(c *messages.TrialConvertData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) {
		return
	}
	if !s.Trial {
		d.reject(reject(CodeNotATrial, "TRI-2", fmt.Sprintf("subscription %s is not a trial", s.ID),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID}))
		return
	}
	when := orDefault(c.When, convertNow)
	if when != convertNow && when != convertAtTrialEnd {
		d.reject(invalidField("data.when", fmt.Sprintf("%q is not now or trial_end (TRI-2)", c.When)))
		return
	}
	if !d.withinTerm(s, "TRI-2") {
		return
	}
	if when == convertAtTrialEnd && !s.AutoRenew {
		d.reject(reject(CodeConversionNeedsAutoRenew, "TRI-6",
			fmt.Sprintf("a conversion can be scheduled only with auto-renew on; turn auto-renew on for trial %s first", s.ID),
			map[string]string{"subscription_id": s.ID, "auto_renew": "false"}))
		return
	}
	conv, rej := d.planConversion(s, conversionRequest{offerID: c.TargetOfferID, targetID: c.TargetSubscriptionID,
		quantity: c.Quantity, term: c.Term, frequency: c.BillingFrequency}, when)
	if rej != nil {
		d.reject(rej)
		return
	}
	if when == convertNow {
		if conv.target != nil && !d.notPendingRenewal(conv.target) { // REN-4: parked or conflict
			return
		}
		d.convert(conv, "TRI-5", "")
		return
	}
	d.scheduleConversion(conv)
}

// scheduleConversion stores a conversion for the trial's end (TRI-6).
func (d *decision) scheduleConversion(c *conversion) {
	s := c.trial
	tc := &TrialConversion{TargetOfferID: c.offer.ID, Quantity: c.quantity}
	ev := &messages.TrialConvertedEvent{TrialSubscriptionID: s.ID, TargetOfferID: c.offer.ID, Quantity: c.quantity,
		Mode: ConversionScheduled, Rule: "TRI-6", EffectiveAt: s.termEndsAt(), TrialEnd: formatDate(s.TermEnd), Currency: s.Currency}
	if t := c.target; t != nil {
		tc.TargetSubscriptionID, tc.Term, tc.BillingFrequency = t.ID, t.Term, t.BillingFrequency
		ev.TargetSubscriptionID, ev.TermStart, ev.TermEnd = t.ID, formatDate(t.TermStart), formatDate(t.TermEnd)
		ev.TargetQuantity = t.Quantity + c.quantity
	} else {
		tc.Term, tc.BillingFrequency = c.plan.Term, c.plan.BillingFrequency
		if months, err := termMonths(c.plan.Term); err == nil {
			ev.TermStart, ev.TermEnd = formatDate(s.termEndsAt()), formatDate(termEnd(s.termEndsAt(), months))
		}
		ev.TargetQuantity = c.quantity
	}
	ev.Term, ev.BillingFrequency = tc.Term, tc.BillingFrequency
	next := s.clone()
	next.TrialConversion = tc
	d.putSubscription(&next)
	d.emit(messages.EvtTrialConverted, ev)
}

// trialEnded runs at 00:00 UTC the day after the trial's end date (the
// term_end timer): with auto-renew off the trial expires (TRI-1);
// otherwise the scheduled conversion (TRI-6) or the default one (TRI-1)
// is applied. See the decisions above for what happens when it cannot be.
func (d *decision) trialEnded(s *Subscription) {
	switch {
	case s.Status == StatusSuspended: // cannot happen (TRI-3), kept for safety
		d.expire(s, messages.ExpiredSuspendedAtTermEnd, true)
		return
	case !s.AutoRenew:
		d.expire(s, messages.ExpiredAutoRenewOff, false)
		return
	}
	if tc := s.TrialConversion; tc != nil {
		q := tc.Quantity
		req := conversionRequest{offerID: tc.TargetOfferID, targetID: tc.TargetSubscriptionID, quantity: &q,
			term: tc.Term, frequency: tc.BillingFrequency}
		conv, rej := d.planConversion(s, req, convertAtTrialEnd)
		if rej == nil {
			d.convert(conv, "TRI-6", "")
			return
		}
		if tc.TargetSubscriptionID != "" {
			req.targetID = ""
			if conv, rej2 := d.planConversion(s, req, convertAtTrialEnd); rej2 == nil {
				d.convert(conv, "TRI-6", fmt.Sprintf(
					"The scheduled target subscription %s could not take the licenses (%s: %s); they were converted into a new subscription.",
					tc.TargetSubscriptionID, rej.Code, rej.Description))
				return
			}
		}
		d.expire(s, ExpiredTrialConversionFailed, false)
		return
	}
	conv, rej := d.planConversion(s, conversionRequest{}, convertAtTrialEnd)
	if rej != nil {
		d.expire(s, ExpiredTrialConversionFailed, false)
		return
	}
	d.convert(conv, "TRI-1", "")
}

// planConversion checks a conversion of trial s (TRI-2, TRI-4, TRI-5,
// TRI-6) and resolves its defaults; nothing changes yet.
func (d *decision) planConversion(s *Subscription, req conversionRequest, when string) (*conversion, *messages.Rejection) {
	cust := d.state.Customer
	trialOffer, ok := d.in.Catalog.Offer(s.OfferID)
	if !ok || trialOffer.Trial == nil {
		return nil, reject(CodeOfferNotFound, "TRI-2", fmt.Sprintf("trial offer %s is no longer in the catalog", s.OfferID),
			map[string]string{"offer_id": s.OfferID})
	}
	spec := trialOffer.Trial
	c := &conversion{trial: s}
	offerID := req.offerID
	if req.targetID != "" {
		t, rej := d.conversionTarget(s, req.targetID)
		if rej != nil {
			return nil, rej
		}
		if offerID == "" {
			offerID = t.OfferID
		} else if offerID != t.OfferID {
			return nil, reject(CodeConversionTargetNotAllowed, "TRI-2",
				fmt.Sprintf("subscription %s is %s, not %s", t.ID, t.OfferID, offerID),
				map[string]string{"target_subscription_id": t.ID, "target_offer_id": offerID, "target_subscription_offer_id": t.OfferID})
		}
		c.target = t
	}
	offer, rej := d.conversionOffer(cust, spec, orDefault(offerID, spec.PaidOfferID))
	if rej != nil {
		return nil, rej
	}
	c.offer = offer
	c.quantity = s.Quantity
	if req.quantity != nil {
		c.quantity = *req.quantity
	}
	qdata := map[string]string{"subscription_id": s.ID, "quantity": strconv.Itoa(c.quantity), "trial_licenses": strconv.Itoa(s.Quantity)}

	if t := c.target; t != nil {
		if (req.term != "" && req.term != t.Term) || (req.frequency != "" && req.frequency != t.BillingFrequency) {
			return nil, reject(CodeConversionKeepsTargetPlan, "TRI-5",
				fmt.Sprintf("converting into subscription %s keeps its term %s billed %s", t.ID, t.Term, t.BillingFrequency),
				map[string]string{"target_subscription_id": t.ID, "term": t.Term, "billing_frequency": t.BillingFrequency})
		}
		if when == convertNow && c.quantity != s.Quantity {
			return nil, reject(CodeConversionQuantity, "TRI-5",
				fmt.Sprintf("an immediate conversion into an existing subscription adds the trial's %d licenses, not %d; schedule the conversion for the trial's end to convert fewer", s.Quantity, c.quantity), qdata)
		}
		if c.quantity < 1 || t.Quantity+c.quantity > offer.MaxQuantity {
			return nil, reject(CodeQuantityOutOfRange, "ORD-6",
				fmt.Sprintf("subscription %s would hold %d licenses, outside %d..%d for %s", t.ID, t.Quantity+c.quantity, offer.MinQuantity, offer.MaxQuantity, offer.Name),
				map[string]string{"offer_id": offer.ID, "field": "data.quantity", "quantity": strconv.Itoa(c.quantity),
					"max_quantity": strconv.Itoa(offer.MaxQuantity), "target_subscription_id": t.ID})
		}
		if limit := d.in.Catalog.Policy.MaxSubscriptionUpdates; t.UpdateCount >= limit {
			return nil, reject(CodeQuantityUpdateLimit, "QTY-4",
				fmt.Sprintf("subscription %s was updated %d times, the limit is %d; convert into a new subscription instead", t.ID, t.UpdateCount, limit),
				map[string]string{"target_subscription_id": t.ID, "update_count": strconv.Itoa(t.UpdateCount), "max_updates": strconv.Itoa(limit)})
		}
		return c, nil
	}

	term, freq := orDefault(req.term, spec.ConvertTerm), orDefault(req.frequency, spec.ConvertBillingFrequency)
	plan, ok := offer.Plan(term, freq)
	if !ok {
		return nil, reject(CodePlanNotAvailable, "GEN-4", fmt.Sprintf("%s is not sold with term %q billed %q", offer.Name, term, freq),
			map[string]string{"offer_id": offer.ID, "term": term, "billing_frequency": freq})
	}
	price, ok := plan.Prices[cust.Currency]
	if !ok {
		return nil, reject(CodePriceNotAvailable, "GEN-3", fmt.Sprintf("%s has no price in %s", offer.Name, cust.Currency),
			map[string]string{"offer_id": offer.ID, "currency": cust.Currency})
	}
	if when == convertNow && c.quantity < s.Quantity {
		qdata["minimum"] = strconv.Itoa(s.Quantity)
		return nil, reject(CodeConversionQuantity, "TRI-5",
			fmt.Sprintf("an immediate conversion needs at least the trial's %d licenses, not %d; schedule the conversion for the trial's end to convert fewer", s.Quantity, c.quantity), qdata)
	}
	q := c.quantity
	if _, rej := lineQuantity(offer, &q, "data.quantity"); rej != nil {
		return nil, rej
	}
	if rej := d.onePerCustomer(offer); rej != nil {
		return nil, rej
	}
	c.plan, c.price = plan, price
	return c, nil
}

// conversionOffer is TRI-2's target offer: the trial's equivalent paid
// SKU or a higher SKU on its upgrade paths (UPG-1, not in UPG-2's table),
// license-based, neither a trial nor an add-on, sold to the customer's
// segment (ORD-3).
func (d *decision) conversionOffer(cust *Customer, spec *catalog.TrialSpec, id string) (*catalog.Offer, *messages.Rejection) {
	data := map[string]string{"paid_offer_id": spec.PaidOfferID, "target_offer_id": id}
	offer, ok := d.in.Catalog.Offer(id)
	if !ok {
		return nil, reject(CodeOfferNotFound, "TRI-2", fmt.Sprintf("offer %q is not in the catalog", id), data)
	}
	if id != spec.PaidOfferID {
		if rej := upgradeAllowed(d.in.Catalog, spec.PaidOfferID, id); rej != nil {
			data["reason"] = rej.Code
			return nil, reject(CodeConversionTargetNotAllowed, "TRI-2",
				fmt.Sprintf("a trial converts to its paid SKU %s or a higher SKU on its upgrade paths; %s is neither (%s)", spec.PaidOfferID, id, rej.Description), data)
		}
	}
	if offer.Trial != nil || offer.Addon != nil || offer.BillingType != catalog.BillingTypeLicense {
		return nil, reject(CodeConversionTargetNotAllowed, "TRI-2",
			fmt.Sprintf("%s is not a paid license-based base offer", offer.Name), data)
	}
	if !offer.SoldTo(cust.Segment) {
		return nil, reject(CodeSegmentNotEligible, "ORD-3",
			fmt.Sprintf("%s is not available to %s customers", offer.Name, cust.Segment),
			map[string]string{"offer_id": offer.ID, "segment": cust.Segment})
	}
	return offer, nil
}

// conversionTarget checks the existing subscription a trial converts into
// (TRI-2, TRI-4): the trial partner's (PTN-1) active paid subscription,
// ending on or after the trial's end date.
func (d *decision) conversionTarget(s *Subscription, id string) (*Subscription, *messages.Rejection) {
	if !messages.ValidToken(id) {
		return nil, invalidField("data.target_subscription_id", "must be 1-64 letters, digits, '-' or '_'")
	}
	t, ok := d.state.Subscriptions[id]
	if !ok {
		return nil, reject(CodeSubscriptionNotFound, "PTN-1", fmt.Sprintf("customer %s has no subscription %s", d.in.Command.CustomerID, id),
			map[string]string{"target_subscription_id": id})
	}
	if t.PartnerID != s.PartnerID {
		return nil, reject(CodeNotPartnerOfRecord, "PTN-1",
			fmt.Sprintf("partner %s is not the partner of record of subscription %s", s.PartnerID, id),
			map[string]string{"target_subscription_id": id})
	}
	data := map[string]string{"target_subscription_id": t.ID, "status": t.Status}
	if t.Trial || t.Status != StatusActive {
		what := t.Status
		if t.Trial {
			what = "a trial"
		}
		return nil, reject(CodeConversionTargetNotEligible, "TRI-4",
			fmt.Sprintf("subscription %s is %s: a trial converts only into an active paid subscription", t.ID, what), data)
	}
	if t.TermEnd.Before(s.TermEnd) {
		return nil, reject(CodeConversionTargetEndsEarly, "TRI-4",
			fmt.Sprintf("subscription %s ends on %s, before the trial's end date %s", t.ID, formatDate(t.TermEnd), formatDate(s.TermEnd)),
			map[string]string{"target_subscription_id": t.ID, "target_term_end": formatDate(t.TermEnd), "trial_term_end": formatDate(s.TermEnd)})
	}
	return t, nil
}

// convert applies a checked conversion now: it creates the paid
// subscription or adds the licenses to the existing one, charges it, and
// ends the trial. Events, in order: subscription.created (new) or
// subscription.schedule.changed (when the target's scheduled changes are
// deleted), billing.charge, subscription.schedule.changed (the trial's,
// if any), subscription.trial.converted.
func (d *decision) convert(c *conversion, rule, note string) {
	now := d.in.Now
	s := c.trial
	ev := &messages.TrialConvertedEvent{TrialSubscriptionID: s.ID, TargetOfferID: c.offer.ID, Quantity: c.quantity,
		Rule: rule, EffectiveAt: now, TrialEnd: formatDate(s.TermEnd), Currency: s.Currency, Note: note}
	var charge *messages.BillingEvent
	var dst *Subscription
	if c.target == nil {
		if d.derivedIDTaken(0, rule) {
			return
		}
		sub, err := newSubscription(d.in, d.state.Customer, c.offer, c.plan, c.price, c.quantity)
		if err != nil { // the catalog was validated at start; this is a bug
			d.reject(reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil))
			return
		}
		sub.ID = messages.DerivedID("sub", d.in.Command.CustomerID, d.in.Command.ID, 0)
		sub.PartnerID = s.PartnerID
		sub.OrderID, sub.LineID = s.OrderID, s.LineID
		carryResellers(sub, s) // PTN-3, PTN-4 (derived_resellers.go)
		d.putSubscription(sub)
		d.scheduleTermTimers(sub)
		d.planWindowNotices(sub) // CAN-1, QTY-2 notices (notices.go)
		d.emit(messages.EvtSubscriptionCreated, &messages.SubscriptionCreatedEvent{
			SubscriptionID: sub.ID, OrderID: sub.OrderID, LineID: sub.LineID, OfferID: c.offer.ID, OfferName: c.offer.Name,
			Quantity: sub.Quantity, Term: sub.Term, BillingFrequency: sub.BillingFrequency,
			TermStart: formatDate(sub.TermStart), TermEnd: formatDate(sub.TermEnd),
			AutoRenew: sub.AutoRenew, CancellableUntil: sub.CancellableUntil,
		})
		charge = billingEvent(sub, "", "", sub.PeriodCharge) // reason and rule: below
		charge.OfferID = c.offer.ID
		ev.Mode, dst = ConversionNew, sub
	} else {
		t := c.target.clone()
		var lot Lot
		charge, lot = increaseCharge(c.target, c.quantity, now) // QTY-1's proration
		t.Lots = append(normalizedLots(c.target), lot)
		t.Lots = compactLots(t.Lots, now, periodBegan(c.target))
		t.Quantity += c.quantity
		t.PeriodCharge += charge.AmountMinor
		t.UpdateCount++                                        // QTY-4
		d.clearScheduled(&t, string(messages.CmdTrialConvert)) // SCH-3
		d.putSubscription(&t)
		d.planWindowNotices(&t) // QTY-2: the converted licenses are a lot of their own
		ev.Mode, dst = ConversionIntoExisting, &t
	}
	charge.Reason, charge.Rule = messages.BillingReasonConversion, rule
	ev.TargetSubscriptionID, ev.TargetQuantity = dst.ID, dst.Quantity
	ev.Term, ev.BillingFrequency = dst.Term, dst.BillingFrequency
	ev.TermStart, ev.TermEnd = formatDate(dst.TermStart), formatDate(dst.TermEnd)
	ev.ChargeEventID, ev.ChargeMinor = d.nextEventID(), charge.AmountMinor
	d.emit(messages.EvtBillingCharge, charge)

	trial := s.clone()
	trial.TrialConversion = &TrialConversion{TargetOfferID: c.offer.ID, TargetSubscriptionID: dst.ID, Quantity: c.quantity,
		Term: dst.Term, BillingFrequency: dst.BillingFrequency}
	d.endSubscription(&trial, endExpired, string(messages.CmdTrialConvert))
	d.emit(messages.EvtTrialConverted, ev)
}

// trialLine prepares an order line of a trial offer (TRI-1): the plan
// defaults to the trial's, the quantity to its licenses, and no other
// quantity is accepted.
func trialLine(offer *catalog.Offer, line messages.OrderLine, field string) (messages.OrderLine, *messages.Rejection) {
	spec := offer.Trial
	if line.Term == "" {
		line.Term = spec.Term
	}
	if line.BillingFrequency == "" {
		for _, p := range offer.Plans {
			if p.Term == line.Term {
				line.BillingFrequency = p.BillingFrequency
				break
			}
		}
	}
	if line.Quantity == nil {
		q := spec.Licenses
		line.Quantity = &q
	}
	if *line.Quantity != spec.Licenses {
		return line, reject(CodeTrialQuantityFixed, "TRI-1",
			fmt.Sprintf("%s comes with %d licenses, not %d", offer.Name, spec.Licenses, *line.Quantity),
			map[string]string{"offer_id": offer.ID, "field": field, "quantity": strconv.Itoa(*line.Quantity), "licenses": strconv.Itoa(spec.Licenses)})
	}
	return line, nil
}

// trialOnce is the TRI-1 Decision: one trial per trial offer per
// customer, ever, through any partner.
func (d *decision) trialOnce(offer *catalog.Offer) *messages.Rejection {
	for _, s := range d.state.sortedSubscriptions() {
		if s.OfferID == offer.ID && s.Trial {
			return reject(CodeTrialAlreadyUsed, "TRI-1",
				fmt.Sprintf("the customer already had %s (subscription %s, %s); a trial can be taken once", offer.Name, s.ID, s.Status),
				map[string]string{"offer_id": offer.ID, "existing_subscription_id": s.ID, "status": s.Status})
		}
	}
	return nil
}

// notTrial is TRI-3 for status changes: a trial cannot be suspended or
// reactivated.
func (d *decision) notTrial(s *Subscription, what string) bool {
	if !s.Trial {
		return true
	}
	d.reject(reject(CodeTrialNoChange, "TRI-3",
		fmt.Sprintf("subscription %s is a trial: it cannot be %s; convert it or turn auto-renew off", s.ID, what),
		map[string]string{"subscription_id": s.ID, "trial_end": formatDate(s.TermEnd)}))
	return false
}
