package rules

import (
	"fmt"
	"strconv"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// orderPlaced places a cart (ORD-1): every line is decided on its own, and
// one rejected line does not fail the others. The order ends completed,
// partially_completed or failed, and is remembered under its order ID.
func (d *decision) orderPlaced(o *messages.OrderPlacedData) {
	cust, ok := d.customerOfPartner()
	if !ok {
		return
	}
	switch {
	case !messages.ValidToken(o.OrderID):
		d.reject(invalidField("data.order_id", "must be 1-64 letters, digits, '-' or '_'"))
		return
	case len(o.Lines) == 0:
		d.reject(invalidField("data.lines", "an order needs at least one line (ORD-1)"))
		return
	}
	prev, dup := d.state.Orders[o.OrderID]
	if !dup {
		prev = d.state.tombOrder(o.OrderID) // archived (archive.go)
		dup = prev != nil
	}
	if dup {
		d.reject(reject(CodeDuplicateOrder, "ORD-1",
			fmt.Sprintf("order %s was already placed by command %s", o.OrderID, prev.CommandID),
			map[string]string{"order_id": o.OrderID, "command_id": prev.CommandID}))
		return
	}
	// Line i's subscription (of any kind) is DerivedID("sub", customer,
	// command, i): one that exists means this command ID was applied before.
	for i := range o.Lines {
		if d.derivedIDTaken(i, "ORD-1") {
			return
		}
	}

	order := &Order{ID: o.OrderID, CommandID: d.in.Command.ID, PlacedAt: d.in.Now, PartnerID: d.in.PartnerID}
	result := &messages.OrderProcessedEvent{OrderID: o.OrderID}
	// Line IDs are judged in document order: the first of two equal IDs
	// is the valid one.
	badID := make([]bool, len(o.Lines))
	seenLines := map[string]bool{}
	for i, line := range o.Lines {
		badID[i] = !messages.ValidToken(line.LineID) || seenLines[line.LineID]
		seenLines[line.LineID] = true
	}
	// ORD-7..ORD-9: add-on lines are decided after every other line, so
	// that the base lines of the whole cart count (see addons.go).
	var first, addons []int
	for i, line := range o.Lines {
		if offer, ok := d.in.Catalog.Offer(line.OfferID); ok && offer.Addon != nil {
			addons = append(addons, i)
		} else {
			first = append(first, i)
		}
	}
	results := make([]messages.OrderLineResult, len(o.Lines))
	created := make([]*Subscription, len(o.Lines))
	fulfilled := 0
	for _, i := range append(first, addons...) {
		line := o.Lines[i]
		res := messages.OrderLineResult{LineID: line.LineID, OfferID: line.OfferID}
		var bases []*Subscription // this order's subscriptions, in line order
		for _, c := range created {
			if c != nil {
				bases = append(bases, c)
			}
		}
		sub, rej := d.fulfilLine(cust, o.OrderID, i, line, badID[i], bases)
		if rej != nil {
			res.Status, res.Rejection = messages.LineRejected, rej
		} else {
			res.Status, res.SubscriptionID = messages.LineFulfilled, sub.ID
			attachResellers(sub, line) // PTN-3, PTN-4 (partners.go)
			created[i] = sub
			fulfilled++
		}
		results[i] = res
	}
	for _, res := range results {
		result.Lines = append(result.Lines, res)
		order.Lines = append(order.Lines, OrderLineRecord{LineID: res.LineID, OfferID: res.OfferID,
			Status: res.Status, SubscriptionID: res.SubscriptionID, Code: codeOf(res.Rejection)})
	}
	switch fulfilled {
	case len(o.Lines):
		result.Status = messages.OrderCompleted
	case 0:
		result.Status = messages.OrderFailed
	default:
		result.Status = messages.OrderPartiallyCompleted
	}
	order.Status = result.Status
	d.state.Orders[order.ID] = order
	d.changed = append(d.changed, OrderField(order.ID))
	d.emit(messages.EvtOrderProcessed, result)
}

func codeOf(r *messages.Rejection) string {
	if r == nil {
		return ""
	}
	return r.Code
}

// fulfilLine checks one line and, when every check passes, creates its
// subscription and emits subscription.created and billing.charge (ORD-14).
// A trial line (TRI-1) emits no charge (ORD-10, see trial.go); an add-on
// line is checked against its base (ORD-7..ORD-9, see addons.go); created
// are the subscriptions this order created so far, in line order.
func (d *decision) fulfilLine(cust *Customer, orderID string, idx int, line messages.OrderLine, badID bool, created []*Subscription) (*Subscription, *messages.Rejection) {
	field := func(name string) string { return "data.lines[" + strconv.Itoa(idx) + "]." + name }
	if badID {
		return nil, invalidField(field("line_id"), "must be unique in the order and 1-64 letters, digits, '-' or '_'")
	}
	offer, ok := d.in.Catalog.Offer(line.OfferID)
	if !ok {
		return nil, reject(CodeOfferNotFound, "ORD-1", fmt.Sprintf("offer %q is not in the catalog", line.OfferID),
			map[string]string{"offer_id": line.OfferID})
	}
	if rej := d.lineResellers(cust, line, field); rej != nil { // PTN-3, PTN-4: reseller_id, additional_reseller_ids (partners.go)
		return nil, rej
	}
	if sub, rej, mine := d.reservationLine(cust, orderID, idx, line, offer, field); mine { // azure_reservation lines and their fields (reservation.go)
		return sub, rej
	}
	if !offer.SoldTo(cust.Segment) {
		return nil, reject(CodeSegmentNotEligible, "ORD-3",
			fmt.Sprintf("%s is not available to %s customers", offer.Name, cust.Segment),
			map[string]string{"offer_id": offer.ID, "segment": cust.Segment})
	}
	if offer.CommerceType == catalog.CommerceTypeMarketplace { // ORD-4 (marketplace.go)
		if rej := d.marketplaceAvailable(cust, offer); rej != nil {
			return nil, rej
		}
	}
	if line.BaseSubscriptionID != "" && offer.Addon == nil {
		return nil, invalidField(field("base_subscription_id"), "only an add-on line names a base subscription")
	}
	var base *Subscription
	var rej *messages.Rejection
	switch {
	case offer.Trial != nil:
		if line, rej = trialLine(offer, line, field("quantity")); rej != nil {
			return nil, rej
		}
	case offer.Addon != nil:
		if line, base, rej = d.addonLine(offer, line, created, field); rej != nil {
			return nil, rej
		}
	}
	plan, ok := offer.Plan(line.Term, line.BillingFrequency)
	if !ok {
		return nil, reject(CodePlanNotAvailable, "GEN-4",
			fmt.Sprintf("%s is not sold with term %q billed %q", offer.Name, line.Term, line.BillingFrequency),
			map[string]string{"offer_id": offer.ID, "term": line.Term, "billing_frequency": line.BillingFrequency})
	}
	price, ok := plan.Prices[cust.Currency]
	if !ok {
		return nil, reject(CodePriceNotAvailable, "GEN-3",
			fmt.Sprintf("%s has no price in %s", offer.Name, cust.Currency),
			map[string]string{"offer_id": offer.ID, "currency": cust.Currency})
	}
	quantity, rej := lineQuantity(offer, line.Quantity, field("quantity"))
	if rej != nil {
		return nil, rej
	}
	if offer.Trial != nil {
		if rej := d.trialOnce(offer); rej != nil {
			return nil, rej
		}
	}
	if rej := d.onePerCustomer(offer); rej != nil {
		return nil, rej
	}
	if offer.Addon != nil && base == nil {
		if base, rej = d.addonQuantity(offer, line, quantity, created, field); rej != nil {
			return nil, rej
		}
	}

	if rej := d.subscriptionLimit(); rej != nil { // ORD-12 (limits.go)
		return nil, rej
	}

	if offer.CommerceType == catalog.CommerceTypeSoftware { // perpetual software, keys (software.go)
		return d.fulfilSoftwareLine(cust, offer, plan, price, quantity, orderID, idx, line)
	}
	sub, err := newSubscription(d.in, cust, offer, plan, price, quantity)
	if err != nil { // the catalog was validated at start; this is a bug
		return nil, reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil)
	}
	sub.ID = messages.DerivedID("sub", cust.ID, d.in.Command.ID, idx)
	sub.OrderID, sub.LineID = orderID, line.LineID
	sub.Trial = offer.Trial != nil
	if offer.CommerceType == catalog.CommerceTypeMarketplace { // CAN-3 window, ORD-13 link (marketplace.go)
		d.marketplaceSubscription(sub, offer)
	}
	var proration *messages.Proration
	if base != nil {
		sub.BaseSubscriptionID = base.ID // SUS-5
		if offer.Addon.Kind == catalog.AddonCoterminous {
			proration = alignToBase(sub, base, d.in.Now) // ORD-9
		}
	}
	d.putSubscription(sub)
	d.scheduleTermTimers(sub)
	d.planWindowNotices(sub) // CAN-1, QTY-2 notices (notices.go)
	d.emit(messages.EvtSubscriptionCreated, &messages.SubscriptionCreatedEvent{
		SubscriptionID: sub.ID, OrderID: orderID, LineID: line.LineID, OfferID: offer.ID, OfferName: offer.Name,
		Quantity: sub.Quantity, Term: sub.Term, BillingFrequency: sub.BillingFrequency,
		TermStart: formatDate(sub.TermStart), TermEnd: formatDate(sub.TermEnd),
		AutoRenew: sub.AutoRenew, CancellableUntil: sub.CancellableUntil,
	})
	if sub.Trial {
		return sub, nil // ORD-10: a trial is free and is not charged
	}
	rule := "ORD-14"
	if proration != nil {
		rule = "ORD-9"
	}
	charge := billingEvent(sub, messages.BillingReasonPurchase, rule, sub.PeriodCharge)
	charge.Proration = proration
	d.emit(messages.EvtBillingCharge, charge)
	d.emitSetupLink(sub) // ORD-13: marketplace SaaS only (marketplace.go)
	return sub, nil
}

// lineQuantity is ORD-6: license-based lines need a quantity within the
// offer's bounds; usage-based lines have none.
func lineQuantity(offer *catalog.Offer, q *int, field string) (int, *messages.Rejection) {
	if offer.BillingType == "usage" {
		if q != nil {
			return 0, reject(CodeQuantityNotAllowed, "ORD-6",
				fmt.Sprintf("%s is usage-based and takes no quantity", offer.Name),
				map[string]string{"offer_id": offer.ID, "field": field})
		}
		return 0, nil
	}
	if q == nil {
		return 0, reject(CodeQuantityRequired, "ORD-6",
			fmt.Sprintf("%s is license-based and needs a quantity", offer.Name),
			map[string]string{"offer_id": offer.ID, "field": field})
	}
	if *q < offer.MinQuantity || *q > offer.MaxQuantity {
		return 0, reject(CodeQuantityOutOfRange, "ORD-6",
			fmt.Sprintf("quantity %d is outside %d..%d for %s", *q, offer.MinQuantity, offer.MaxQuantity, offer.Name),
			map[string]string{"offer_id": offer.ID, "field": field, "quantity": strconv.Itoa(*q),
				"min_quantity": strconv.Itoa(offer.MinQuantity), "max_quantity": strconv.Itoa(offer.MaxQuantity)})
	}
	return *q, nil
}

// onePerCustomer is ORD-2: an offer limited to one subscription per
// customer cannot be bought again while one is active or suspended
// (including one created by an earlier line of the same cart); when the
// existing one is suspended, the answer says to reactivate it instead.
func (d *decision) onePerCustomer(offer *catalog.Offer) *messages.Rejection {
	if !offer.OnePerCustomer {
		return nil
	}
	for _, s := range d.state.sortedSubscriptions() {
		if s.OfferID != offer.ID {
			continue
		}
		switch s.Status {
		case StatusActive:
			return reject(CodeOnePerCustomer, "ORD-2",
				fmt.Sprintf("%s is limited to one subscription per customer and subscription %s already exists", offer.Name, s.ID),
				map[string]string{"offer_id": offer.ID, "existing_subscription_id": s.ID})
		case StatusSuspended:
			return reject(CodeOnePerCustomerSuspended, "ORD-2",
				fmt.Sprintf("%s is limited to one subscription per customer; reactivate the suspended subscription %s instead of buying a new one", offer.Name, s.ID),
				map[string]string{"offer_id": offer.ID, "existing_subscription_id": s.ID})
		}
	}
	return nil
}

// newSubscription builds an active subscription bought now: its term
// starts on today's date (GEN-1, GEN-4), its cancellation window opens now
// (CAN-1), auto-renew is on (REN-1), and the first billing period is charged
// in full (ORD-14).
func newSubscription(in Input, cust *Customer, offer *catalog.Offer, plan *catalog.Plan, price int64, quantity int) (*Subscription, error) {
	months, err := termMonths(plan.Term)
	if err != nil {
		return nil, err
	}
	periodMonths, err := billingMonths(plan.BillingFrequency, months)
	if err != nil {
		return nil, err
	}
	start := dateOf(in.Now)
	charge := price * int64(quantity)
	var lots []Lot
	if quantity > 0 {
		lots = []Lot{{Quantity: quantity, AddedAt: in.Now, ReducibleUntil: in.Now.Add(offer.CancelWindow())}}
	}
	return &Subscription{
		Lots:      lots,
		PartnerID: in.PartnerID, OfferID: offer.ID, OfferName: offer.Name,
		CommerceType: offer.CommerceType, BillingType: offer.BillingType,
		Quantity: quantity, Term: plan.Term, BillingFrequency: plan.BillingFrequency,
		Status: StatusActive, AutoRenew: true,
		TermStart: start, TermEnd: termEnd(start, months),
		WindowOpenedAt: in.Now, CancellableUntil: in.Now.Add(offer.CancelWindow()),
		Currency: cust.Currency, TaxInclusive: in.Catalog.Policy.TaxInclusive(cust.Country), // ORD-11
		UnitPrice:   price,
		PeriodStart: start, PeriodEnd: addMonthsClamped(start, periodMonths).AddDate(0, 0, -1),
		PeriodStartedAt: in.Now, PeriodCharge: charge, CancelWindowHours: offer.CancelWindowHours,
	}, nil
}
