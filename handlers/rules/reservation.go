package rules

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Azure reservations (Partner Center's pages on selling software and on
// Azure reservations): ORD-5, CAN-5, CAN-6, RES-1, RES-2 and their ROL-1
// roles. Decisions, where the rule catalogue and those pages are silent or
// disagree:
//
//   - Purchase is an order.placed line of an azure_reservation offer. The
//     order itself needs a subscription role (ROL-1); a reservation line
//     also needs a reservation role (Partner Center), so only Admin agent,
//     Helpdesk agent and Sales agent can buy one: a Billing admin's
//     reservation line is rejected forbidden (ROL-1), the order's other
//     lines are not.
//   - A line needs scope single (with the Azure subscription's GUID) or
//     shared (without one). Other lines may not carry either field.
//   - Reservations do not renew (Partner Center says nothing of renewal):
//     auto renew is off and the reservation expires at its term end
//     (reservation_ended). Monthly-paid ones are charged every month of the
//     term, like any monthly billing.
//   - A reservation has no CAN-1 window: its cancellation is
//     reservation.cancel (CAN-5), so its cancellable_until is the purchase
//     instant and subscription.cancel is answered cancellation_window_closed
//     (and its licenses are never reducible, QTY-2).
//   - RES-1: the reservation ID and reservation order ID are GUIDs derived
//     from the customer, the command and the line, so a redelivered command
//     gives the same IDs; an exchange creates a new reservation in a new
//     reservation order.
//   - CAN-5: "days since purchase" counts every started day (GEN-2): within
//     the offer's full-refund days (cancel_window_hours / 24, 5 days) means
//     at most 120 hours after purchase, both ends included. The balance is
//     what was paid for the current billing period (the whole term when
//     paid up front, the month when paid monthly; later months are simply
//     no longer charged): 100% of it, or its value prorated daily (GEN-2,
//     GEN-3), plus what an exchange prepaid and is still unused (CAN-6).
//     Partner Center speaks of "the remaining months"; the catalogue's
//     GEN-2 daily proration wins. After the full-refund days the credit is
//     the exact balance less the policy's percentage (12), rounded half up
//     once at the end (GEN-3); the fee shown is the rounded balance minus
//     the credit (see cancellationRefund). A reservation created by an
//     exchange counts its days from the first purchase of the chain.
//   - CAN-5 cap: Partner Center caps the refund at USD 50,000 per year; the
//     catalogue's decision wins: per customer over a rolling window (365
//     days, policy), a cancellation whose credit would pass the cap is
//     rejected (refund_cap_exceeded) naming the headroom. A refund counts
//     in the cap's currency converted with the policy's exact rates,
//     rounded up. The ledger (CustomerState.Refunds) keeps the window's
//     refunds by UTC day (refund_ledger.go).
//   - CAN-6: the old reservation's refund is prorated without fee (also in
//     its first days: the 100% row is CAN-5's, for cancellations) and
//     applied to the new reservation's price for its whole term, not only
//     to its first charge; only a refund beyond that price is paid out,
//     and, after the full-refund days, less CAN-5's fee; the new
//     reservation keeps the first purchase's CAN-5 day count. So no
//     sequence of exchanges and cancellations returns more than cancelling
//     at the first exchange's instant (exchangeAmounts has the details).
//     The difference is one billing.charge (>= 0) or one billing.credit.
//     The applied refund does not count against the cap (the reservations page caps
//     refunds, and an exchange keeps the money in a reservation); a
//     paid-out credit does count, so an exchange whose credit would pass
//     the cap is rejected like a cancellation. The target must be a
//     reservation of the same resource type (Azure exchanges stay within a
//     product family), available to the customer (ORD-3, ORD-5); the new
//     reservation keeps the old one's scope. A suspended reservation cannot
//     be exchanged (reactivate first) but can be cancelled or re-scoped.
//   - RES-2: refunds are the partner's: every billing event goes to the
//     partner of record, and the reservation events say refund_paid_to
//     partner.

// ReservationState is what a reservation subscription holds beyond the
// common fields (RES-1). It is replaced, never changed in place.
type ReservationState struct {
	ReservationID      string `json:"reservation_id"`
	ReservationOrderID string `json:"reservation_order_id"`
	// ResourceType, SKU and Region are the offer's, copied at purchase.
	ResourceType string `json:"resource_type"`
	SKU          string `json:"sku"`
	Region       string `json:"region"`
	// Scope is single or shared; AzureSubscriptionID is set for single.
	Scope               string `json:"scope"`
	AzureSubscriptionID string `json:"azure_subscription_id,omitempty"`
	// PurchasedAt is the instant of purchase (or exchange): CAN-5 counts
	// days from it, or from OriginalPurchasedAt when that is set.
	PurchasedAt time.Time `json:"purchased_at"`
	// FullRefundDays is the offer's CAN-5 full-refund window at purchase,
	// kept so that a catalog change does not change an existing
	// reservation's terms. An exchange keeps the old reservation's.
	FullRefundDays int `json:"full_refund_days"`
	// OriginalPurchasedAt is set on a reservation created by an exchange
	// (CAN-6): the purchase instant of the first reservation of the chain.
	// CAN-5 counts its days from it, so an exchange never opens a new
	// full-refund window. Zero: CAN-5 counts from PurchasedAt.
	OriginalPurchasedAt time.Time `json:"original_purchased_at,omitzero"`
	// PrepaidMinor is what remains of the refund an exchange applied to
	// this reservation beyond its first billing period's charge (CAN-6,
	// monthly plans): each later billing period is paid from it first and
	// charged only the rest. It is refundable with the current period's
	// balance (CAN-5) and carried into a further exchange.
	PrepaidMinor int64 `json:"prepaid_minor,omitempty"`
	// ExchangedFrom and ExchangedTo link the two subscriptions of an
	// exchange (CAN-6).
	ExchangedFrom string `json:"exchanged_from,omitempty"`
	ExchangedTo   string `json:"exchanged_to,omitempty"`
}

// Rejection codes of reservations.
const (
	CodeReservationUnavailable = "reservation_unavailable_in_market" // ORD-5
	CodeRefundCapExceeded      = "refund_cap_exceeded"               // CAN-5
	CodeNotReservation         = "not_a_reservation"                 // RES-1
	CodeReservationNoChange    = "no_change"                         // RES-1
	CodeExchangeTarget         = "exchange_target_not_reservation"   // CAN-6
	CodeExchangeResourceType   = "exchange_resource_type_differs"    // CAN-6
)

// CAN-5's table rows, as reservation.cancelled names them.
const (
	rowFullRefund      = "full_refund"
	rowProrated        = "prorated"
	rowProratedWithFee = "prorated_with_fee"
)

// reservationRoles may manage Azure reservations (ROL-1, as Partner Center
// says).
var reservationRoles = []messages.Role{
	messages.RoleAdminAgent, messages.RoleGlobalAdmin, messages.RoleHelpdeskAgent, messages.RoleSalesAgent,
	messages.RoleUserManagementAdmin,
}

// reservationNamespace scopes the derived reservation GUIDs (RES-1).
var reservationNamespace = uuid.MustParse("0b7c5d2e-93a4-5f61-8e2d-4c1a7b9e6f30")

// reservationGUID derives a reservation or reservation order ID from the
// command that created it (RES-1).
func reservationGUID(kind, customerID, commandID string, idx int) string {
	return uuid.NewSHA1(reservationNamespace, fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", kind, customerID, commandID, idx)).String()
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// reservationScope checks a scope and its Azure subscription (RES-1) and
// returns them normalised (the GUID in lowercase).
func reservationScope(scope, azureSub, scopeField, subField string) (string, string, *messages.Rejection) {
	switch scope {
	case messages.ScopeSingle:
		if !guidPattern.MatchString(azureSub) {
			return "", "", invalidField(subField, "scope single needs the Azure subscription ID the reservation applies to (a GUID)")
		}
		return scope, strings.ToLower(azureSub), nil
	case messages.ScopeShared:
		if azureSub != "" {
			return "", "", invalidField(subField, "a shared reservation applies to every eligible Azure subscription and names none")
		}
		return scope, "", nil
	}
	return "", "", invalidField(scopeField, "must be single or shared (RES-1)")
}

// reservationRoleAllowed is ROL-1 for a reservation line of an order: the
// order's role must also be a reservation role (Partner Center).
func (d *decision) reservationRoleAllowed() *messages.Rejection {
	if d.in.Role == "" {
		return nil
	}
	for _, r := range reservationRoles {
		if r == d.in.Role {
			return nil
		}
	}
	names := make([]string, len(reservationRoles))
	for i, r := range reservationRoles {
		names[i] = string(r)
	}
	return reject(CodeForbidden, "ROL-1",
		fmt.Sprintf("role %s may not buy Azure reservations; it needs one of %s", d.in.Role, strings.Join(names, ", ")),
		map[string]string{"role": string(d.in.Role), "command_type": string(d.in.Command.Type), "allowed_roles": strings.Join(names, ",")})
}

// reservationAvailable is ORD-3 and ORD-5 for a reservation offer: only for
// the offer's segments (commercial, as Partner Center says) and not in the
// unavailable markets (Partner Center's list, policy data).
func (d *decision) reservationAvailable(cust *Customer, offer *catalog.Offer) *messages.Rejection {
	if !offer.SoldTo(cust.Segment) {
		return reject(CodeSegmentNotEligible, "ORD-3",
			fmt.Sprintf("%s is not available to %s customers", offer.Name, cust.Segment),
			map[string]string{"offer_id": offer.ID, "segment": cust.Segment})
	}
	if names := d.in.Catalog.Policy.Reservations.UnavailableIn(cust.Country); names != nil {
		return reject(CodeReservationUnavailable, "ORD-5",
			fmt.Sprintf("Azure reservations are not available in %s (%s)", cust.Country, strings.Join(names, ", ")),
			map[string]string{"offer_id": offer.ID, "country": cust.Country, "market": strings.Join(names, ", ")})
	}
	return nil
}

// reservationLine decides an order line of an azure_reservation offer
// (mine is true), and rejects reservation fields on any other line (mine
// is true too); other lines are left to fulfilLine (mine is false).
func (d *decision) reservationLine(cust *Customer, orderID string, idx int, line messages.OrderLine, offer *catalog.Offer, field func(string) string) (sub *Subscription, rej *messages.Rejection, mine bool) {
	if offer.CommerceType != catalog.CommerceTypeReservation {
		switch {
		case line.Scope != "":
			return nil, invalidField(field("scope"), "only an Azure reservation line has a scope"), true
		case line.AzureSubscriptionID != "":
			return nil, invalidField(field("azure_subscription_id"), "only an Azure reservation line names an Azure subscription"), true
		}
		return nil, nil, false
	}
	sub, rej = d.fulfilReservationLine(cust, orderID, idx, line, offer, field)
	return sub, rej, true
}

// fulfilReservationLine checks a reservation line (ROL-1, ORD-3, ORD-5,
// RES-1, GEN-4, GEN-3, ORD-6, ORD-2, ORD-12) and creates the reservation:
// subscription.created, billing.charge (ORD-14: the whole price when paid
// up front, the first month when paid monthly) and reservation.created.
func (d *decision) fulfilReservationLine(cust *Customer, orderID string, idx int, line messages.OrderLine, offer *catalog.Offer, field func(string) string) (*Subscription, *messages.Rejection) {
	if rej := d.reservationRoleAllowed(); rej != nil {
		return nil, rej
	}
	if rej := d.reservationAvailable(cust, offer); rej != nil {
		return nil, rej
	}
	if line.BaseSubscriptionID != "" {
		return nil, invalidField(field("base_subscription_id"), "only an add-on line names a base subscription")
	}
	scope, azureSub, rej := reservationScope(line.Scope, line.AzureSubscriptionID, field("scope"), field("azure_subscription_id"))
	if rej != nil {
		return nil, rej
	}
	plan, price, quantity, rej := reservationPlan(offer, cust.Currency, line.Term, line.BillingFrequency, line.Quantity, field("quantity"))
	if rej != nil {
		return nil, rej
	}
	if rej := d.onePerCustomer(offer); rej != nil {
		return nil, rej
	}
	if rej := d.subscriptionLimit(); rej != nil { // ORD-12 (limits.go)
		return nil, rej
	}
	sub, err := d.newReservation(cust, offer, plan, price, quantity, idx, scope, azureSub)
	if err != nil { // the catalog was validated at start; this is a bug
		return nil, reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil)
	}
	sub.OrderID, sub.LineID = orderID, line.LineID
	d.putSubscription(sub)
	d.scheduleTermTimers(sub)
	d.planWindowNotices(sub) // CAN-5's full-refund window (notices.go)
	d.emitReservationCreated(sub, offer)
	d.emit(messages.EvtBillingCharge, billingEvent(sub, messages.BillingReasonPurchase, "ORD-14", sub.PeriodCharge))
	d.emitReservationState(sub)
	return sub, nil
}

// reservationPlan is GEN-4, GEN-3 and ORD-6 for a reservation: the plan on
// sale, its price in the customer's currency and the number of instances.
func reservationPlan(offer *catalog.Offer, currency, term, freq string, q *int, quantityField string) (*catalog.Plan, int64, int, *messages.Rejection) {
	plan, ok := offer.Plan(term, freq)
	if !ok {
		return nil, 0, 0, reject(CodePlanNotAvailable, "GEN-4",
			fmt.Sprintf("%s is not sold with term %q billed %q", offer.Name, term, freq),
			map[string]string{"offer_id": offer.ID, "term": term, "billing_frequency": freq})
	}
	price, ok := plan.Prices[currency]
	if !ok {
		return nil, 0, 0, reject(CodePriceNotAvailable, "GEN-3",
			fmt.Sprintf("%s has no price in %s", offer.Name, currency),
			map[string]string{"offer_id": offer.ID, "currency": currency})
	}
	quantity, rej := lineQuantity(offer, q, quantityField)
	if rej != nil {
		return nil, 0, 0, rej
	}
	return plan, price, quantity, nil
}

// newReservation builds a reservation subscription bought now by the
// current command (idx: its line), with the subscription ID of an order
// line (ORD-1). It never renews and has no CAN-1 window (see the package
// decisions above).
func (d *decision) newReservation(cust *Customer, offer *catalog.Offer, plan *catalog.Plan, price int64, quantity, idx int, scope, azureSub string) (*Subscription, error) {
	sub, err := newSubscription(d.in, cust, offer, plan, price, quantity)
	if err != nil {
		return nil, err
	}
	now := d.in.Now
	sub.ID = messages.DerivedID("sub", cust.ID, d.in.Command.ID, idx)
	sub.AutoRenew = false
	sub.CancelWindowHours = 0
	sub.CancellableUntil = now
	for i := range sub.Lots {
		sub.Lots[i].ReducibleUntil = now
	}
	sub.Reservation = &ReservationState{
		ReservationID:      reservationGUID("reservation", cust.ID, d.in.Command.ID, idx),
		ReservationOrderID: reservationGUID("reservation_order", cust.ID, d.in.Command.ID, idx),
		ResourceType:       offer.Reservation.ResourceType, SKU: offer.Reservation.SKU, Region: offer.Reservation.Region,
		Scope: scope, AzureSubscriptionID: azureSub,
		PurchasedAt: now, FullRefundDays: offer.CancelWindowHours / 24,
	}
	return sub, nil
}

func (d *decision) emitReservationCreated(sub *Subscription, offer *catalog.Offer) {
	d.emit(messages.EvtSubscriptionCreated, &messages.SubscriptionCreatedEvent{
		SubscriptionID: sub.ID, OrderID: sub.OrderID, LineID: sub.LineID, OfferID: offer.ID, OfferName: offer.Name,
		Quantity: sub.Quantity, Term: sub.Term, BillingFrequency: sub.BillingFrequency,
		TermStart: formatDate(sub.TermStart), TermEnd: formatDate(sub.TermEnd),
		AutoRenew: sub.AutoRenew, CancellableUntil: sub.CancellableUntil,
	})
}

func (d *decision) emitReservationState(sub *Subscription) {
	r := sub.Reservation
	d.emit(messages.EvtReservationCreated, &messages.ReservationCreatedEvent{
		SubscriptionID: sub.ID, ReservationID: r.ReservationID, ReservationOrderID: r.ReservationOrderID,
		ResourceType: r.ResourceType, SKU: r.SKU, Region: r.Region, Quantity: sub.Quantity,
		Scope: r.Scope, AzureSubscriptionID: r.AzureSubscriptionID, ExpiresOn: formatDate(sub.TermEnd),
		ExchangedFrom: r.ExchangedFrom,
	})
}

// reservationOfPartner is PTN-1, CAN-2/REN-3 (not final) and RES-1 (a
// reservation) for the reservation commands.
func (d *decision) reservationOfPartner(id string) (*Subscription, bool) {
	s, ok := d.subscriptionOfPartner(id)
	if !ok || !d.notFinal(s) {
		return nil, false
	}
	if s.Reservation == nil {
		d.reject(reject(CodeNotReservation, "RES-1",
			fmt.Sprintf("subscription %s (%s) is not an Azure reservation", s.ID, s.OfferName),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID}))
		return nil, false
	}
	return s, true
}

// reservationScopeChange is RES-1: the scope and the Azure subscription a
// reservation applies to can be changed, also while it is suspended; the
// same values are rejected no_change.
func (d *decision) reservationScopeChange(c *messages.ReservationScopeChangeData) {
	s, ok := d.reservationOfPartner(c.SubscriptionID)
	if !ok {
		return
	}
	scope, azureSub, rej := reservationScope(c.Scope, c.AzureSubscriptionID, "data.scope", "data.azure_subscription_id")
	if rej != nil {
		d.reject(rej)
		return
	}
	old := s.Reservation
	if scope == old.Scope && azureSub == old.AzureSubscriptionID {
		d.reject(reject(CodeReservationNoChange, "RES-1",
			fmt.Sprintf("reservation %s already has scope %s", old.ReservationID, scope),
			map[string]string{"subscription_id": s.ID, "scope": scope, "azure_subscription_id": azureSub}))
		return
	}
	next := s.clone()
	r := *old
	r.Scope, r.AzureSubscriptionID = scope, azureSub
	next.Reservation = &r
	d.putSubscription(&next)
	d.emit(messages.EvtReservationScopeChanged, &messages.ReservationScopeChangedEvent{
		SubscriptionID: s.ID, ReservationID: r.ReservationID,
		PreviousScope: old.Scope, PreviousAzureSubscriptionID: old.AzureSubscriptionID,
		Scope: scope, AzureSubscriptionID: azureSub,
	})
}

// reservationRefund is CAN-5's table for a cancellation at now (see the
// decisions above): the row, the balance (100% of the current billing
// period's charge, or its prorated remaining value, plus what the
// reservation still has prepaid from an exchange), the fee and the
// credit.
type reservationRefund struct {
	days      int
	row       string
	balance   int64
	prepaid   int64
	feePct    int
	fee       int64
	credit    int64
	proration *messages.Proration
}

// cancellationRefund computes CAN-5's credit exactly and rounds it half up
// once, at the end (GEN-3): the credit is round(exact balance × (100 −
// fee%) / 100), not the rounded balance minus a fee rounded on its own
// (that rounds twice and can be a minor unit off). The balance shown is
// the exact balance rounded; the fee shown is balance − credit, so the
// three always add up.
func cancellationRefund(s *Subscription, now time.Time, used bool, feePercent int) reservationRefund {
	res := s.Reservation
	r := reservationRefund{days: usedDays(now.Sub(res.refundDaysFrom())), prepaid: res.PrepaidMinor}
	within := r.days <= res.FullRefundDays
	var exact *big.Rat
	switch {
	case within && !used:
		r.row, exact = rowFullRefund, new(big.Rat).SetInt64(s.PeriodCharge)
	case within:
		r.row = rowProrated
		exact, r.proration = exactPeriodBalance(s, now)
	default:
		r.row = rowProratedWithFee
		exact, r.proration = exactPeriodBalance(s, now)
	}
	exact.Add(exact, new(big.Rat).SetInt64(res.PrepaidMinor))
	r.balance, r.credit = roundHalfUp(exact), roundHalfUp(exact)
	if !within {
		r.feePct = feePercent
		r.credit = roundHalfUp(lessFee(exact, feePercent))
		r.fee = r.balance - r.credit
	}
	return r
}

// refundDaysFrom is the instant CAN-5's days count from: the first
// purchase of an exchange chain (CAN-6), else this reservation's.
func (r *ReservationState) refundDaysFrom() time.Time {
	if !r.OriginalPurchasedAt.IsZero() {
		return r.OriginalPurchasedAt
	}
	return r.PurchasedAt
}

// fullRefundUntil is the first instant at which a cancellation pays CAN-5's
// fee: the full-refund days count every started day and include the last
// day's final instant (cancellationRefund), so the window ends a
// nanosecond after the last day does. Window notices name it.
func (r *ReservationState) fullRefundUntil() time.Time {
	return r.refundDaysFrom().Add(time.Duration(r.FullRefundDays)*day + time.Nanosecond)
}

// exactPeriodBalance is the remaining value of the current billing
// period's charge, unrounded: every started day since the period started
// to be used counts as used (GEN-2).
func exactPeriodBalance(s *Subscription, now time.Time) (*big.Rat, *messages.Proration) {
	periodDays := daysBetween(s.PeriodStart, s.PeriodEnd.AddDate(0, 0, 1))
	used := usedDays(now.Sub(s.PeriodStartedAt))
	unused := max(periodDays-used, 0)
	exact := new(big.Rat)
	if periodDays > 0 && s.PeriodCharge > 0 {
		exact.SetFrac(new(big.Int).Mul(big.NewInt(s.PeriodCharge), big.NewInt(int64(unused))), big.NewInt(int64(periodDays)))
	}
	return exact, &messages.Proration{BaseMinor: s.PeriodCharge, UsedDays: used, UnusedDays: unused, PeriodDays: periodDays}
}

// lessFee is an exact amount less CAN-5's fee of feePercent, unrounded.
func lessFee(exact *big.Rat, feePercent int) *big.Rat {
	return new(big.Rat).Mul(exact, big.NewRat(int64(100-feePercent), 100))
}

// roundHalfUp is GEN-3's one rounding of an exact non-negative amount to
// minor units (a negative one is 0).
func roundHalfUp(r *big.Rat) int64 {
	if r.Sign() <= 0 {
		return 0
	}
	num := new(big.Int).Mul(r.Num(), big.NewInt(2))
	num.Add(num, r.Denom())
	return num.Quo(num, new(big.Int).Mul(r.Denom(), big.NewInt(2))).Int64()
}

// refundCap is CAN-5's cap: amount (in currency) converted to the cap's
// currency, and the headroom left before it in the rolling window ending
// now. A refund over the headroom is rejected refund_cap_exceeded, naming
// the headroom.
func (d *decision) refundCap(currency string, amount int64) (counted, headroom int64, rej *messages.Rejection) {
	pol := d.in.Catalog.Policy.Reservations
	counted, ok := pol.ToCapCurrency(currency, amount)
	if !ok {
		return 0, 0, reject(CodePriceNotAvailable, "GEN-3",
			fmt.Sprintf("the catalog has no rate from %s to the refund cap's currency %s", currency, pol.RefundCapCurrency),
			map[string]string{"currency": currency, "refund_cap_currency": pol.RefundCapCurrency})
	}
	from := d.in.Now.Add(-time.Duration(pol.RefundCapWindowDays) * day)
	spent := refundsSince(d.state.Refunds, from, pol)
	headroom = max(pol.RefundCapMinor-spent, 0)
	if counted > headroom {
		return counted, headroom, reject(CodeRefundCapExceeded, "CAN-5",
			fmt.Sprintf("a refund of %d %s (%d %s) would pass the refund cap of %d %s per %d days; %d %s remain",
				amount, currency, counted, pol.RefundCapCurrency, pol.RefundCapMinor, pol.RefundCapCurrency,
				pol.RefundCapWindowDays, headroom, pol.RefundCapCurrency),
			map[string]string{"refund_minor": strconv.FormatInt(amount, 10), "currency": currency,
				"refund_counted_minor": strconv.FormatInt(counted, 10), "refund_cap_currency": pol.RefundCapCurrency,
				"refund_cap_minor": strconv.FormatInt(pol.RefundCapMinor, 10), "headroom_minor": strconv.FormatInt(headroom, 10),
				"window_days": strconv.Itoa(pol.RefundCapWindowDays), "window_start": from.Format(time.RFC3339Nano)})
	}
	return counted, headroom - counted, nil
}

// recordRefund adds a paid refund to the customer's ledger (CAN-5,
// refund_ledger.go) and drops the days that have left the cap's window.
func (d *decision) recordRefund(s *Subscription, amount, counted int64) {
	if amount <= 0 {
		return
	}
	pol := d.in.Catalog.Policy.Reservations
	days := addRefund(d.state.Refunds, pol.RefundCapCurrency, DayRefund{At: d.in.Now, CapMinor: counted, AmountMinor: amount, Currency: s.Currency})
	d.state.Refunds = pruneRefunds(days, d.in.Now.Add(-time.Duration(pol.RefundCapWindowDays)*day))
	d.changed = append(d.changed, fieldRefunds)
}

// reservationCancel is CAN-5 with CAN-2, CAN-7 and RES-2: a reservation
// can be cancelled at any time (also while suspended); the credit follows
// Partner Center's table and the refund cap; it emits billing.credit (to the
// partner, RES-2), subscription.cancelled and reservation.cancelled.
func (d *decision) reservationCancel(c *messages.ReservationCancelData) {
	s, ok := d.reservationOfPartner(c.SubscriptionID)
	if !ok {
		return
	}
	if c.Used == nil {
		d.reject(invalidField("data.used", "required: whether the reservation was used (CAN-5)"))
		return
	}
	pol := d.in.Catalog.Policy.Reservations
	r := cancellationRefund(s, d.in.Now, *c.Used, pol.EarlyTerminationFeePercent)
	counted, headroom, rej := d.refundCap(s.Currency, r.credit)
	if rej != nil {
		d.reject(rej)
		return
	}
	// The credit's proration is the formula of its amount (GEN-3): with a
	// fee or a prepaid part it is not, and reservation.cancelled explains
	// it instead.
	creditProration := r.proration
	if r.fee != 0 || r.prepaid != 0 {
		creditProration = nil
	}
	creditID := d.nextEventID()
	credit := billingEvent(s, messages.BillingReasonCancellation, "CAN-5", r.credit)
	credit.Proration = creditProration
	d.emit(messages.EvtBillingCredit, credit)
	next := s.clone()
	d.endSubscription(&next, endCancelled, string(messages.CmdReservationCancel))
	d.recordRefund(s, r.credit, counted)
	d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
		SubscriptionID: s.ID, CreditEventID: creditID, CreditMinor: r.credit, Currency: s.Currency,
	})
	d.emit(messages.EvtReservationCancelled, &messages.ReservationCancelledEvent{
		SubscriptionID: s.ID, ReservationID: s.Reservation.ReservationID, ReservationOrderID: s.Reservation.ReservationOrderID,
		DaysSincePurchase: r.days, Used: *c.Used, Row: r.row,
		BalanceMinor: r.balance, Proration: r.proration, PrepaidMinor: r.prepaid, FeePercent: r.feePct, FeeMinor: r.fee, CreditMinor: r.credit, Currency: s.Currency,
		CreditEventID: creditID, RefundCapCurrency: pol.RefundCapCurrency, RefundCountedMinor: counted,
		CapHeadroomMinor: headroom, RefundPaidTo: messages.RefundPaidToPartner, Rule: "CAN-5",
	})
}

// reservationExchange is CAN-6 with RES-2 (see the decisions above and
// exchangeAmounts): the old reservation's prorated refund pays towards the
// new one's whole term; one billing.charge or billing.credit of the
// difference; the old is cancelled (subscription.cancelled names that
// billing event and the old one's refund less any fee on what was paid
// out), the new created (subscription.created with no order,
// reservation.created), then reservation.exchanged.
func (d *decision) reservationExchange(x *messages.ReservationExchangeData) {
	s, ok := d.reservationOfPartner(x.SubscriptionID)
	if !ok {
		return
	}
	if s.Status == StatusSuspended {
		d.reject(reject(CodeSubscriptionSuspended, "CAN-6",
			fmt.Sprintf("reservation subscription %s is suspended: reactivate it before exchanging it", s.ID),
			map[string]string{"subscription_id": s.ID}))
		return
	}
	cust := d.state.Customer
	offer, ok := d.in.Catalog.Offer(x.TargetOfferID)
	if !ok {
		d.reject(reject(CodeOfferNotFound, "CAN-6", fmt.Sprintf("offer %q is not in the catalog", x.TargetOfferID),
			map[string]string{"offer_id": x.TargetOfferID}))
		return
	}
	if offer.CommerceType != catalog.CommerceTypeReservation {
		d.reject(reject(CodeExchangeTarget, "CAN-6", fmt.Sprintf("%s is not an Azure reservation", offer.Name),
			map[string]string{"offer_id": offer.ID, "commerce_type": offer.CommerceType}))
		return
	}
	if offer.Reservation.ResourceType != s.Reservation.ResourceType {
		d.reject(reject(CodeExchangeResourceType, "CAN-6",
			fmt.Sprintf("a %s reservation can only be exchanged for another %s reservation, not %s", s.Reservation.ResourceType, s.Reservation.ResourceType, offer.Reservation.ResourceType),
			map[string]string{"offer_id": offer.ID, "resource_type": s.Reservation.ResourceType, "target_resource_type": offer.Reservation.ResourceType}))
		return
	}
	if rej := d.reservationAvailable(cust, offer); rej != nil {
		d.reject(rej)
		return
	}
	plan, price, quantity, rej := reservationPlan(offer, cust.Currency, x.Term, x.BillingFrequency, x.Quantity, "data.quantity")
	if rej != nil {
		d.reject(rej)
		return
	}
	if d.derivedIDTaken(0, "CAN-6") {
		return
	}
	sub, err := d.newReservation(cust, offer, plan, price, quantity, 0, s.Reservation.Scope, s.Reservation.AzureSubscriptionID)
	if err != nil {
		d.reject(reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil))
		return
	}
	sub.PartnerID = s.PartnerID
	carryResellers(sub, s) // PTN-3, PTN-4 (derived_resellers.go)
	sub.Reservation.ExchangedFrom = s.ID
	// CAN-5's days keep counting from the chain's first purchase, with its
	// full-refund days: an exchange opens no new window.
	sub.Reservation.OriginalPurchasedAt = s.Reservation.refundDaysFrom()
	sub.Reservation.FullRefundDays = s.Reservation.FullRefundDays
	pol := d.in.Catalog.Policy.Reservations
	m, err := exchangeAmounts(s, sub, d.in.Now, pol.EarlyTerminationFeePercent)
	if err != nil {
		d.reject(reject(CodePlanNotAvailable, "GEN-4", err.Error(), nil))
		return
	}
	sub.Reservation.PrepaidMinor = m.prepaid
	var counted int64
	if m.payout > 0 {
		if counted, _, rej = d.refundCap(sub.Currency, m.payout); rej != nil {
			d.reject(rej)
			return
		}
	}

	billingID := d.nextEventID()
	bill := billingEvent(sub, messages.BillingReasonReservationExchange, "CAN-6", m.charge)
	bill.OrderID, bill.OfferID = "", offer.ID // the exchange names no order
	if m.payout == 0 {
		d.emit(messages.EvtBillingCharge, bill)
	} else {
		bill.AmountMinor = m.payout
		d.emit(messages.EvtBillingCredit, bill)
	}

	old := s.clone()
	r := *s.Reservation
	r.ExchangedTo = sub.ID
	r.PrepaidMinor = 0 // carried into the new reservation's refund
	old.Reservation = &r
	d.endSubscription(&old, endCancelled, string(messages.CmdReservationExchange))
	d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
		SubscriptionID: s.ID, CreditEventID: billingID, CreditMinor: m.refund - m.fee, Currency: s.Currency,
	})

	d.putSubscription(sub)
	d.scheduleTermTimers(sub)
	d.planWindowNotices(sub) // CAN-5's full-refund window (notices.go)
	d.emitReservationCreated(sub, offer)
	d.emitReservationState(sub)
	if m.payout > 0 {
		d.recordRefund(sub, m.payout, counted)
	}
	ev := &messages.ReservationExchangedEvent{
		SubscriptionID: s.ID, ReservationID: s.Reservation.ReservationID,
		NewSubscriptionID: sub.ID, NewReservationID: sub.Reservation.ReservationID,
		NewReservationOrderID: sub.Reservation.ReservationOrderID,
		RefundMinor:           m.refund, Proration: m.proration, PrepaidMinor: s.Reservation.PrepaidMinor,
		NewPriceMinor: m.termPrice, AppliedMinor: m.applied, NewPrepaidMinor: m.prepaid,
		FeePercent: m.feePct, FeeMinor: m.fee, NetMinor: m.charge - m.payout,
		Currency: sub.Currency, BillingEventID: billingID,
		RefundCapCurrency: pol.RefundCapCurrency, RefundCountedMinor: counted, Rule: "CAN-6",
	}
	if m.payout > 0 {
		ev.RefundPaidTo = messages.RefundPaidToPartner
	}
	d.emit(messages.EvtReservationExchanged, ev)
}

// exchangeMoney is what an exchange (CAN-6) moves; see exchangeAmounts.
type exchangeMoney struct {
	refund    int64 // the old reservation's refund, no fee
	proration *messages.Proration
	termPrice int64 // the new reservation's price for its whole term
	applied   int64 // min(refund, termPrice)
	prepaid   int64 // applied beyond the new first billing period's charge
	charge    int64 // the new first billing period's charge less applied
	payout    int64 // refund beyond termPrice, paid out less the fee
	feePct    int
	fee       int64
}

// exchangeAmounts is CAN-6's money, decided so that no sequence of
// exchanges and cancellations returns more than cancelling the original
// reservation at the first exchange's instant would (CAN-5's fee cannot be
// escaped):
//
//   - The old reservation's refund is its current billing period's
//     prorated value plus what it still had prepaid, with no fee and
//     prorated also within the full-refund days (an exchange is not
//     CAN-5's 100% row).
//   - It is applied to the new reservation's price for its WHOLE term (up
//     front: its one charge; monthly: the month's charge times the term's
//     billing periods), not to its first charge only: first to the first
//     billing period (what is left of that is charged now), then, as
//     PrepaidMinor, to the later periods, each charged only what the
//     prepaid part does not cover. So a monthly target does not turn most
//     of the refund into cash.
//   - Only the refund beyond the whole term's price leaves the
//     reservation: it is paid out as a cancellation would pay it at this
//     instant (CAN-5): after the full-refund days less the fee, exact and
//     rounded half up once (GEN-3); it counts against the refund cap.
//   - The new reservation does not get a new full-refund window: CAN-5
//     counts its days from the chain's first purchase (OriginalPurchasedAt)
//     with that purchase's full-refund days, and its prepaid part is
//     refundable with the same fee as the rest.
//
// With that, each step keeps or loses value: what stays in the chain is
// worth at most what was applied and paid for it, each new reservation
// uses at least its first day (GEN-2), and whatever leaves the chain
// after the full-refund days pays the fee once.
func exchangeAmounts(old, sub *Subscription, now time.Time, feePercent int) (exchangeMoney, error) {
	months, err := termMonths(sub.Term)
	if err != nil {
		return exchangeMoney{}, err
	}
	periodMonths, err := billingMonths(sub.BillingFrequency, months)
	if err != nil {
		return exchangeMoney{}, err
	}
	exact, proration := exactPeriodBalance(old, now)
	exact.Add(exact, new(big.Rat).SetInt64(old.Reservation.PrepaidMinor))
	x := exchangeMoney{refund: roundHalfUp(exact), proration: proration}
	x.termPrice = sub.PeriodCharge * int64(months/periodMonths)
	x.applied = min(x.refund, x.termPrice)
	first := min(x.applied, sub.PeriodCharge)
	x.prepaid = x.applied - first
	x.charge = sub.PeriodCharge - first
	if x.refund > x.termPrice {
		excess := exact.Sub(exact, new(big.Rat).SetInt64(x.termPrice))
		x.payout = x.refund - x.termPrice
		if usedDays(now.Sub(old.Reservation.refundDaysFrom())) > old.Reservation.FullRefundDays {
			x.feePct = feePercent
			x.payout = roundHalfUp(lessFee(excess, feePercent))
			x.fee = x.refund - x.termPrice - x.payout
		}
	}
	return x, nil
}

// payFromPrepaid pays a reservation's new billing period from what an
// exchange prepaid (CAN-6, see exchangeAmounts) and returns what is left to
// charge. PeriodCharge stays the period's whole value: CAN-5 prorates it,
// however it was paid. Other subscriptions are charged their PeriodCharge.
func payFromPrepaid(next *Subscription) int64 {
	r := next.Reservation
	if r == nil || r.PrepaidMinor <= 0 {
		return next.PeriodCharge
	}
	paid := min(r.PrepaidMinor, next.PeriodCharge)
	nr := *r
	nr.PrepaidMinor -= paid
	next.Reservation = &nr
	return next.PeriodCharge - paid
}

// CodeReservationNotSupported answers a generic subscription command that
// does not apply to an Azure reservation.
const CodeReservationNotSupported = "not_supported_for_reservations"

// reservationRefuses keeps the generic subscription commands away from
// Azure reservations (GEN-5): a reservation does not renew, change quantity
// or plan, or get upgraded; it is cancelled with reservation.cancel
// (CAN-5) and changed with reservation.exchange (CAN-6). Suspend,
// reactivate and turning auto-renew off (it is off) still apply. Only the
// partner of record is told; others get PTN-1's answer from the rules.
func (d *decision) reservationRefuses() bool {
	id := targetSubscription(d.in.Command.Type, d.in.Command.Data)
	s, ok := d.subscriptionOrTomb(id)
	if id == "" || !ok || s.Reservation == nil || s.PartnerID != d.in.PartnerID ||
		!d.state.Customer.HasRelationship(d.in.PartnerID) {
		return false
	}
	switch c := d.in.Command.Data.(type) {
	case *messages.SuspendData, *messages.ReactivateData:
		return false
	case *messages.AutoRenewSetData:
		if c.Enabled != nil && !*c.Enabled {
			return false
		}
	}
	hint := "reservations do not renew, change quantity or plan, or upgrade; use reservation.exchange"
	if d.in.Command.Type == messages.CmdSubscriptionCancel {
		hint = "cancel a reservation with reservation.cancel (CAN-5)"
	}
	d.reject(reject(CodeReservationNotSupported, "GEN-5",
		fmt.Sprintf("%s does not apply to reservation %s: %s", d.in.Command.Type, s.ID, hint),
		map[string]string{"subscription_id": s.ID, "command_type": string(d.in.Command.Type)}))
	return true
}
