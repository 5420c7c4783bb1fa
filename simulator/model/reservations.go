package model

import (
	"fmt"
	"math/big"
	"slices"
	"time"
)

// Azure reservations (RES-1, RES-2, ORD-5, CAN-5, CAN-6 and their ROL-1
// roles), as the billing system sees them:
//
//   - A reservation is bought by an order line of an azure_reservation
//     offer and charged its first billing period in full (ORD-14): the
//     whole term when paid one_time, the first month when paid monthly.
//     It never renews and has no CAN-1 window; a monthly one is charged
//     each later month (GEN-4), first from what an exchange prepaid.
//   - Cancelling (CAN-5) gives back, counted from the chain's first
//     purchase: within the offer's full-refund days an unused reservation
//     its current billing period's whole value, a used one the value of
//     the period's days not used; after them that value less the policy's
//     fee. What an exchange prepaid is given back with it. One rounding.
//   - Exchanging (CAN-6) turns the old reservation's unused days (always
//     prorated, no fee) plus its prepaid part into a payment towards the
//     new reservation's whole term; only what is left beyond that leaves
//     the chain, after the full-refund days less the fee.
//   - Every refund paid out counts against the policy's cap per customer
//     over a rolling window, in the cap's currency at the catalog's exact
//     rate rounded up; a refund past the remaining headroom is rejected.
//
// The amounts come from the day book (daybook.go): a day of a period is
// worth its exact share of the period's price, the used days are the
// started ones, and each amount is rounded once.

// Reservation is what a reservation subscription holds beyond a license
// subscription's fields.
type Reservation struct {
	// ResourceType is the offer's: an exchange stays within one (CAN-6).
	ResourceType string
	// First is the purchase instant of the chain's first reservation:
	// CAN-5's days count from it, also after exchanges. Bought is this
	// reservation's own purchase or exchange instant.
	First, Bought time.Time
	// FullRefundDays is the first purchase's offer's full-refund window
	// in days (its cancel_window_hours / 24).
	FullRefundDays int
	// Prepaid is what an exchange applied beyond the new reservation's
	// first billing period: it pays the later periods first.
	Prepaid int64
	// From is the reservation this one was exchanged from (nil: bought).
	From *Sub
}

// Refund is one reservation refund paid out to the partner (RES-2), as it
// counts against the cap (CAN-5).
type Refund struct {
	At      time.Time
	Counted int64 // in the cap's currency's minor units
}

// Billing reason and rules of reservations, as the processor's events
// spell them.
const (
	ReasonReservationExchange = "reservation_exchange"
	RuleReservationCancel     = "CAN-5"
	RuleReservationExchange   = "CAN-6"
)

// Rejections of reservations the generator provokes on purpose.
const (
	RejectForbidden         = "forbidden"                         // ROL-1
	RejectReservationMarket = "reservation_unavailable_in_market" // ORD-5
	RejectRefundCapExceeded = "refund_cap_exceeded"               // CAN-5
	reservationCommerceType = "azure_reservation"
)

// ReservationRoles may manage Azure reservations (ROL-1: admin agent,
// global admin, helpdesk agent, sales agent, user management admin).
var ReservationRoles = []string{"admin_agent", "global_admin", "helpdesk_agent", "sales_agent", "user_management_admin"}

// UnavailableMarket tells whether reservations are not sold in the
// customer's billing country (ORD-5, the catalog policy's list).
func (m *Model) UnavailableMarket(country string) bool {
	return m.cat.Policy.Reservations.UnavailableIn(country) != nil
}

// BuyReservation is a one-line order of a reservation offer placed in
// role: rejected forbidden when the role may not manage reservations
// (ROL-1) and reservation_unavailable_in_market in the unavailable
// markets (ORD-5); otherwise its first billing period is charged in full
// (ORD-14). The reservation has no cancellation window or reducible
// licenses (CAN-5 and CAN-6 replace them) and does not renew.
func (m *Model) BuyReservation(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int, role string) (*Sub, Outcome, error) {
	if !slices.Contains(ReservationRoles, role) {
		return nil, Outcome{Rejected: RejectForbidden}, nil
	}
	if m.UnavailableMarket(c.Country) {
		return nil, Outcome{Rejected: RejectReservationMarket}, nil
	}
	o, ok := m.cat.Offer(offer)
	if !ok || o.CommerceType != reservationCommerceType || o.Reservation == nil {
		return nil, Outcome{}, fmt.Errorf("model: %s is not a reservation offer", offer)
	}
	unit, ok := m.Price(offer, term, freq, c.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", offer, term, freq, c.Currency)
	}
	s, charge := m.newReservation(c, now, orderID, lineID, offer, term, freq, qty, unit)
	s.Res = &Reservation{ResourceType: o.Reservation.ResourceType, First: now, Bought: now,
		FullRefundDays: o.CancelWindowHours / 24}
	c.hold(s)
	return s, Outcome{Bills: []Bill{bill(Charge, ReasonPurchase, RulePurchase, s, roundHalfUp(charge),
		fmt.Sprintf("order %s: reservation %d × %s %s/%s at %d", orderID, qty, offer, term, freq, unit))}}, nil
}

// newReservation is a new subscription of a reservation offer bought now:
// no renewal, no window (the licenses' windows close at once).
func (m *Model) newReservation(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int, unit int64) (*Sub, *big.Rat) {
	s, charge := m.newSub(c, now, orderID, lineID, offer, term, freq, qty, unit)
	s.AutoRenew, s.WindowHours, s.CancelUntil = false, 0, now
	s.book.closeWindows(now)
	return s, charge
}

// ReservationLive tells whether the generator may cancel or exchange s at
// now: a live, active reservation known to the generator, inside its term.
func (s *Sub) ReservationLive(now time.Time) bool {
	return s.Res != nil && s.Status == Active && s.ID != "" && now.Before(s.termEndsAt())
}

// WithinFullRefundDays: is a cancellation at now inside the chain's
// full-refund days (CAN-5)?
func (s *Sub) WithinFullRefundDays(now time.Time) bool {
	return startedDaysSince(s.Res.First, now) <= s.Res.FullRefundDays
}

// FullRefundEnds is the first instant at which CAN-5's fee applies to a
// cancellation: the full-refund days are whole days of 24 hours from the
// chain's first purchase, and a day started at its last instant is not yet
// the next, so the next day (and the fee) starts a nanosecond after them.
func (s *Sub) FullRefundEnds() time.Time {
	lastInstant := s.Res.First.Add(time.Duration(s.Res.FullRefundDays) * 24 * time.Hour)
	return lastInstant.Add(time.Nanosecond)
}

// startedDaysSince counts the days started from the instant from to t:
// the first from the first instant, the next 24 h later, and so on.
func startedDaysSince(from, t time.Time) int {
	n := 1
	for from.Add(time.Duration(n) * 24 * time.Hour).Before(t) {
		n++
	}
	return n
}

// unusedValue is what the book's licenses paid for the days they will not
// use at t, exactly; the book is left as it is.
func (b *book) unusedValue(t time.Time) *big.Rat {
	sum := new(big.Rat)
	for _, l := range b.lots {
		sum.Add(sum, l.unusedValue(l.n, t))
	}
	return sum
}

// paidValue is everything the book's licenses paid for the period.
func (b *book) paidValue() *big.Rat {
	sum := new(big.Rat)
	for _, l := range b.lots {
		sum.Add(sum, l.paidValue(l.n))
	}
	return sum
}

// afterFee is an exact amount less the policy's early-termination fee.
func (m *Model) afterFee(exact *big.Rat) *big.Rat {
	pct := int64(m.cat.Policy.Reservations.EarlyTerminationFeePercent)
	return new(big.Rat).Mul(exact, big.NewRat(100-pct, 100))
}

// ReservationCredit is CAN-5's credit for cancelling s at now, and whether
// it is prorated (GEN-2, GEN-3) rather than the whole period's value.
func (m *Model) ReservationCredit(s *Sub, now time.Time, used bool) (credit int64, prorated bool) {
	within := s.WithinFullRefundDays(now)
	var exact *big.Rat
	if within && !used {
		exact = s.book.paidValue()
	} else {
		exact, prorated = s.book.unusedValue(now), true
	}
	exact.Add(exact, new(big.Rat).SetInt64(s.Res.Prepaid))
	if !within {
		exact = m.afterFee(exact)
	}
	return roundHalfUp(exact), prorated
}

// CapCounted is a refund as it counts against the cap: in the cap's
// currency, at the catalog's exact rate, rounded up.
func (m *Model) CapCounted(currency string, amount int64) int64 {
	p := m.cat.Policy.Reservations
	if currency == p.RefundCapCurrency {
		return amount
	}
	r := p.RefundCapRates[currency]
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(r.Numerator))
	den := big.NewInt(r.Denominator)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// CapHeadroom is what remains of the customer's refund cap at now: the
// cap less every refund counted in the rolling window ending now (a
// refund exactly one window ago no longer counts).
func (m *Model) CapHeadroom(c *Customer, now time.Time) int64 {
	p := m.cat.Policy.Reservations
	from := now.Add(-time.Duration(p.RefundCapWindowDays) * 24 * time.Hour)
	spent := int64(0)
	for _, r := range c.Refunds {
		if r.At.After(from) {
			spent += r.Counted
		}
	}
	return max(p.RefundCapMinor-spent, 0)
}

// PassesCap tells whether a refund of amount in the customer's currency
// would be rejected at now (CAN-5).
func (m *Model) PassesCap(c *Customer, now time.Time, amount int64) bool {
	return m.CapCounted(c.Currency, amount) > m.CapHeadroom(c, now)
}

// capRejection is CAN-5's rejection, naming the headroom.
func (m *Model) capRejection(c *Customer, now time.Time) Outcome {
	return Outcome{Rejected: RejectRefundCapExceeded,
		RejectData: map[string]string{"headroom_minor": fmt.Sprint(m.CapHeadroom(c, now))}}
}

func (m *Model) recordRefund(c *Customer, now time.Time, amount int64) {
	if amount > 0 {
		c.Refunds = append(c.Refunds, Refund{At: now, Counted: m.CapCounted(c.Currency, amount)})
	}
}

// CancelReservation is CAN-5 (see the file's comment) sent in role: one
// credit to the partner (RES-2), or forbidden (ROL-1), or rejected past
// the refund cap with nothing changed.
func (m *Model) CancelReservation(c *Customer, s *Sub, now time.Time, used bool, role string) Outcome {
	if !slices.Contains(ReservationRoles, role) {
		return Outcome{Rejected: RejectForbidden}
	}
	credit, prorate := m.ReservationCredit(s, now, used)
	if m.PassesCap(c, now, credit) {
		return m.capRejection(c, now)
	}
	m.recordRefund(c, now, credit)
	days := startedDaysSince(s.Res.First, now)
	s.Status, s.AutoRenew = Cancelled, false
	s.book.lots = nil
	b := bill(Credit, ReasonCancellation, RuleReservationCancel, s, credit,
		fmt.Sprintf("reservation cancel at %s, day %d of the chain (full refund %d days), used %t, prepaid %d",
			now.Format(time.RFC3339), days, s.Res.FullRefundDays, used, s.Res.Prepaid))
	if prorate {
		b = prorated(b)
	}
	return Outcome{Bills: []Bill{b}}
}

// termPeriods counts the new term's billing periods, date by date.
func (s *Sub) termPeriods() int64 {
	n := int64(0)
	for start := s.TermStart; !start.After(s.TermEnd); start = s.periodEndFrom(start).AddDate(0, 0, 1) {
		n++
	}
	return n
}

// ExchangeReservation is CAN-6 sent in role: the old reservation's
// refund pays the new one's whole term, its first period first; one
// charge of what the refund does not cover of the first period, or one
// credit of what exceeds the whole term (less CAN-5's fee after the
// chain's full-refund days; against the cap). The new reservation is on
// the new subscription, whose ID is learned from reservation.exchanged.
func (m *Model) ExchangeReservation(c *Customer, s *Sub, now time.Time, target, term, freq string, qty int, role string) (*Sub, Outcome, error) {
	if !slices.Contains(ReservationRoles, role) {
		return nil, Outcome{Rejected: RejectForbidden}, nil
	}
	o, ok := m.cat.Offer(target)
	if !ok || o.Reservation == nil || o.Reservation.ResourceType != s.Res.ResourceType {
		return nil, Outcome{}, fmt.Errorf("model: %s is not a %s reservation", target, s.Res.ResourceType)
	}
	unit, ok := m.Price(target, term, freq, c.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", target, term, freq, c.Currency)
	}
	exact := s.book.unusedValue(now)
	exact.Add(exact, new(big.Rat).SetInt64(s.Res.Prepaid))
	refund := roundHalfUp(exact)

	n, first := m.newReservation(c, now, "", "", target, term, freq, qty, unit)
	n.Partner = s.Partner
	n.Res = &Reservation{ResourceType: s.Res.ResourceType, First: s.Res.First, Bought: now, FullRefundDays: s.Res.FullRefundDays, From: s}
	firstCharge := roundHalfUp(first)
	termPrice := firstCharge * n.termPeriods()
	applied := min(refund, termPrice)
	paysFirst := min(applied, firstCharge)
	var payout int64
	if refund > termPrice {
		payout = refund - termPrice
		if !s.WithinFullRefundDays(now) {
			payout = roundHalfUp(m.afterFee(new(big.Rat).Sub(exact, new(big.Rat).SetInt64(termPrice))))
		}
	}
	if payout > 0 && m.PassesCap(c, now, payout) {
		return nil, m.capRejection(c, now), nil
	}
	n.Res.Prepaid = applied - paysFirst
	cause := fmt.Sprintf("exchange of %s at %s: refund %s (rounded %d) pays %d of the new term's %d (%d × %s %s/%s)",
		s, now.Format(time.RFC3339), exact.FloatString(2), refund, applied, termPrice, qty, target, term, freq)
	b := bill(Charge, ReasonReservationExchange, RuleReservationExchange, n, firstCharge-paysFirst, cause)
	if payout > 0 {
		m.recordRefund(c, now, payout)
		b = bill(Credit, ReasonReservationExchange, RuleReservationExchange, n, payout, cause+fmt.Sprintf(", %d paid out", payout))
	}
	s.Status, s.AutoRenew = Cancelled, false
	s.book.lots = nil
	c.hold(n)
	return n, Outcome{Bills: []Bill{prorated(b)}}, nil
}

// payFromPrepaid pays a reservation's billing period charge from what an
// exchange prepaid (CAN-6) and returns what is left to charge.
func (r *Reservation) payFromPrepaid(b Bill) Bill {
	if r == nil || r.Prepaid <= 0 {
		return b
	}
	paid := min(r.Prepaid, b.Amount)
	r.Prepaid -= paid
	b.Amount -= paid
	b.Cause += fmt.Sprintf(", %d paid by an exchange", paid)
	b.Also = append(b.Also, RuleReservationExchange)
	return b
}
