package model

import (
	"fmt"
	"time"
)

// Software (GEN-5, CAN-4): perpetual software and software subscriptions,
// bought per order line and cancelled per order within the policy's days.

// BuySoftware is a one-line order of a software offer (ORD-14): perpetual
// software is charged its price × quantity once, for the purchase date,
// and has no calendar; a software subscription is charged its first
// billing period in full and renews and bills like new commerce. The
// order's CAN-4 window ends the policy's days (× 24 h) after the purchase
// instant; a product the catalog excepts keeps its exception.
func (m *Model) BuySoftware(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, q int) (*Sub, Outcome, error) {
	o, ok := m.cat.Offer(offer)
	if !ok || o.Software == nil {
		return nil, Outcome{}, fmt.Errorf("model: %s is not software", offer)
	}
	var (
		s   *Sub
		out Outcome
		err error
	)
	if o.Software.Perpetual {
		unit, ok := m.Price(offer, term, freq, c.Currency)
		if !ok {
			return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", offer, term, freq, c.Currency)
		}
		today := midnight(now)
		s = &Sub{Customer: c.ID, Partner: c.Partner, OrderID: orderID, LineID: lineID, Offer: offer, Term: term, Freq: freq,
			Currency: c.Currency, Qty: q, Unit: unit, Status: Active, TermStart: today, PeriodStart: today, PeriodEnd: today,
			CancelUntil: now}
		s.book = openBook(today, today, now)
		charge := s.book.withPeriod(q, unit, now, now)
		c.hold(s)
		out = Outcome{Bills: []Bill{bill(Charge, ReasonPurchase, RulePurchase, s, roundHalfUp(charge),
			fmt.Sprintf("order %s: %d × perpetual %s at %d", orderID, q, offer, unit))}}
	} else if s, out, err = m.Buy(c, now, orderID, lineID, offer, term, freq, q); err != nil {
		return nil, Outcome{}, err
	}
	x := s.ext()
	x.Type, x.Perpetual = TypeSoftware, o.Software.Perpetual
	x.SoftwareBought, x.SoftwareUntil = now, now.Add(time.Duration(m.cat.Policy.Software.CancelWindowDays)*day)
	if !o.Software.Cancellable {
		x.Exception = o.Software.CancelException
	}
	return s, out, nil
}

// CancelSoftware is CAN-4 for one order's software items (the generator's
// orders have one line, so one item): an item the catalog excepts rejects
// the whole order with its exception (support_request_required,
// not_cancellable), before the window is looked at; after the window
// (purchase + the policy's days, exclusive) it is rejected; otherwise each
// live item gets one credit, in line order: perpetual software everything
// it was charged, a software subscription the days of its current period
// it paid for and will not use (every started day since the purchase
// counts as used, GEN-2), rounded once. Cancelled is final (CAN-2).
func (m *Model) CancelSoftware(items []*Sub, now time.Time) Outcome {
	var open []*Sub
	for _, s := range items {
		if s.Live() {
			open = append(open, s)
		}
	}
	for _, s := range open {
		if s.Ext.Exception != "" {
			return Outcome{Rejected: s.Ext.Exception}
		}
	}
	for _, s := range open {
		if !now.Before(s.Ext.SoftwareUntil) {
			return Outcome{Rejected: RejectCancelWindowClosed}
		}
	}
	var out Outcome
	for _, s := range open {
		cause := fmt.Sprintf("software order %s cancelled at %s, window until %s", s.OrderID, now.Format(time.RFC3339),
			s.Ext.SoftwareUntil.Format(time.RFC3339))
		var b Bill
		if s.Ext.Perpetual {
			b = bill(Credit, ReasonSoftwareCancel, RuleSoftwareCancel, s, s.book.paidByLot(), cause+": in full")
			s.book.lots = nil
		} else {
			b = prorated(bill(Credit, ReasonSoftwareCancel, RuleSoftwareCancel, s, roundHalfUp(s.book.refundAll(now)), cause))
		}
		s.Status, s.AutoRenew = Cancelled, false
		out.Bills = append(out.Bills, b)
	}
	return out
}
