package model

import (
	"fmt"
	"time"
)

// CreateCustomer: no money.
func (m *Model) CreateCustomer(c *Customer) Outcome {
	c.Created = true
	if c.TrialsTaken == nil {
		c.TrialsTaken = map[string]bool{}
	}
	return Outcome{}
}

// Buy is a one-line order of a paid license offer (ORD-14): the first
// billing period is charged in full — the term starts on the purchase
// date and the partner pays for the whole first period.
func (m *Model) Buy(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int) (*Sub, Outcome, error) {
	unit, ok := m.Price(offer, term, freq, c.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", offer, term, freq, c.Currency)
	}
	s := m.newSub(c, now, orderID, lineID, offer, term, freq, qty, unit)
	c.Subs = append(c.Subs, s)
	return s, Outcome{Bills: []Bill{bill(Charge, ReasonPurchase, s, unit*int64(qty),
		fmt.Sprintf("order %s: %d × %s %s/%s at %d", orderID, qty, offer, term, freq, unit))}}, nil
}

func (m *Model) newSub(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int, unit int64) *Sub {
	start := midnight(now)
	window := time.Duration(m.windowHours(offer)) * time.Hour
	return &Sub{
		Customer: c.ID, Partner: c.Partner, OrderID: orderID, LineID: lineID, Offer: offer, Term: term, Freq: freq, Currency: c.Currency,
		Qty: qty, Unit: unit, Status: Active, AutoRenew: true, WindowHours: m.windowHours(offer),
		TermStart: start, TermEnd: plusMonths(start, months(term)).AddDate(0, 0, -1),
		CancelUntil: now.Add(window),
		PeriodStart: start, PeriodEnd: plusMonths(start, periodMonths(freq, term)).AddDate(0, 0, -1),
		Began: now,
		Lots:  []Lot{{N: qty, AddedAt: now, ReducibleUntil: now.Add(window)}},
	}
}

// BuyTrial is a one-line order of a trial offer: free, no billing event
// (ORD-10); it converts or expires at its end (TRI-1, see timers.go).
func (m *Model) BuyTrial(c *Customer, now time.Time, orderID, lineID, offer string) (*Sub, Outcome, error) {
	o, ok := m.cat.Offer(offer)
	if !ok || o.Trial == nil {
		return nil, Outcome{}, fmt.Errorf("model: %s is not a trial offer", offer)
	}
	s := m.newSub(c, now, orderID, lineID, offer, o.Trial.Term, "monthly", o.Trial.Licenses, 0)
	s.Trial = true
	c.Subs = append(c.Subs, s)
	c.TrialsTaken[offer] = true
	return s, Outcome{}, nil
}

// ChangeQuantity is QTY-1 (an increase is charged for the rest of the
// period from the day it is bought) and QTY-2 (a decrease takes the newest
// licenses still inside their window first, each lot credited for the days
// it will not use; more than that is rejected).
func (m *Model) ChangeQuantity(s *Sub, now time.Time, q int) Outcome {
	p := s.periodDays()
	cause := fmt.Sprintf("quantity %d → %d at %s", s.Qty, q, now.Format(time.RFC3339))
	if q > s.Qty {
		n := q - s.Qty
		window := time.Duration(s.WindowHours) * time.Hour
		s.Lots = append(s.Lots, Lot{N: n, AddedAt: now, ReducibleUntil: now.Add(window), Bought: true})
		s.Qty = q
		amount := share(p, [2]int64{s.Unit * int64(n), p - s.usedBefore(now)})
		return Outcome{Bills: []Bill{bill(Charge, ReasonIncrease, s, amount, cause)}}
	}
	remove := s.Qty - q
	if remove > s.Reducible(now) {
		return Outcome{Rejected: RejectQuantityNotReducible}
	}
	var out Outcome
	for i := len(s.Lots) - 1; i >= 0 && remove > 0; i-- {
		l := &s.Lots[i]
		if !now.Before(l.ReducibleUntil) {
			continue
		}
		take := min(remove, l.N)
		amount := share(p, [2]int64{s.Unit * int64(take), s.lotUnused(*l, now)})
		out.Bills = append(out.Bills, bill(Credit, ReasonDecrease, s, amount,
			fmt.Sprintf("%s: %d of the lot added %s", cause, take, l.AddedAt.Format(time.RFC3339))))
		l.N -= take
		remove -= take
	}
	s.dropEmptyLots()
	s.Qty = q
	return out
}

func (s *Sub) dropEmptyLots() {
	kept := s.Lots[:0]
	for _, l := range s.Lots {
		if l.N > 0 {
			kept = append(kept, l)
		}
	}
	s.Lots = kept
}

// Suspend turns auto-renew off (SUS-4); billing goes on (SUS-3).
func (m *Model) Suspend(s *Sub) Outcome {
	s.Status, s.AutoRenew = Suspended, false
	return Outcome{}
}

// Reactivate does not turn auto-renew back on (SUS-4).
func (m *Model) Reactivate(s *Sub) Outcome {
	s.Status = Active
	return Outcome{}
}

// SetAutoRenew: no money now; it decides renewal or expiry (REN-1, REN-3).
func (m *Model) SetAutoRenew(s *Sub, on bool) Outcome {
	s.AutoRenew = on
	return Outcome{}
}

// Cancel is CAN-1: inside the window, one credit for what the licenses of
// the current period were paid for and will not use, lot by lot, rounded
// once; outside it, rejected. Cancelled is final (CAN-2).
func (m *Model) Cancel(s *Sub, now time.Time) Outcome {
	if !s.InWindow(now) {
		return Outcome{Rejected: RejectCancelWindowClosed}
	}
	p := s.periodDays()
	parts := make([][2]int64, 0, len(s.Lots))
	for _, l := range s.Lots {
		parts = append(parts, [2]int64{s.Unit * int64(l.N), s.lotUnused(l, now)})
	}
	amount := share(p, parts...)
	s.Status, s.AutoRenew = Cancelled, false
	return Outcome{Bills: []Bill{bill(Credit, ReasonCancellation, s, amount,
		fmt.Sprintf("cancel at %s, window until %s", now.Format(time.RFC3339), s.CancelUntil.Format(time.RFC3339)))}}
}

// UpgradeAll is UPG-3 in place: the unused days of the period are credited
// at the old price and charged at the new one, for every license; the
// upgrade cannot be undone, so the cancellation window and every lot's
// reduction window close (UPG-6).
func (m *Model) UpgradeAll(s *Sub, now time.Time, target string) (Outcome, error) {
	unit, ok := m.Price(target, s.Term, s.Freq, s.Currency)
	if !ok {
		return Outcome{}, fmt.Errorf("model: no %s %s/%s price for %s", target, s.Term, s.Freq, s.Currency)
	}
	p := s.periodDays()
	unused := max(p-startedDays(now.Sub(s.Began)), 0)
	q := int64(s.Qty)
	cause := fmt.Sprintf("upgrade %s → %s of %d licenses at %s", s.Offer, target, s.Qty, now.Format(time.RFC3339))
	credit := bill(Credit, ReasonUpgrade, s, share(p, [2]int64{s.Unit * q, unused}), cause)
	charge := bill(Charge, ReasonUpgrade, s, share(p, [2]int64{unit * q, unused}), cause)
	s.Offer, s.Unit, s.WindowHours = target, unit, m.windowHours(target)
	if now.Before(s.CancelUntil) {
		s.CancelUntil = now
	}
	for i := range s.Lots {
		if now.Before(s.Lots[i].ReducibleUntil) {
			s.Lots[i].ReducibleUntil = now
		}
	}
	return Outcome{Bills: []Bill{credit, charge}}, nil
}

// Transfer is TRF-3 for one active subscription: the target partner gets a
// new subscription with the same offer, plan, quantity, auto-renewal, term
// and current billing period, charged from now for the days of the period
// still unused (every started day since the period began counts as used,
// GEN-2) at the catalog's current price; no window opens on it (the
// licenses were bought by the source). The source's subscription is
// cancelled without a refund. The new subscription's ID is learned from
// its subscription.created event.
//
// The target pays from the transfer as for licenses bought at now
// (usedBefore, as QTY-1): at 00:00 UTC of the period's first day the whole
// period, at any later instant — the purchase or renewal instant included,
// whose day has started — every started day counts as used (GEN-2, at
// least 1); the processor (handlers/rules, moveSubscription) decides the
// same.
func (m *Model) Transfer(c *Customer, s *Sub, now time.Time, target string) (*Sub, Outcome, error) {
	unit, ok := m.Price(s.Offer, s.Term, s.Freq, s.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no %s %s/%s price for %s", s.Offer, s.Term, s.Freq, s.Currency)
	}
	p := s.periodDays()
	n := &Sub{
		Customer: s.Customer, Partner: target, Offer: s.Offer, Term: s.Term, Freq: s.Freq, Currency: s.Currency,
		Qty: s.Qty, Unit: unit, Status: Active, AutoRenew: s.AutoRenew, WindowHours: s.WindowHours,
		TermStart: s.TermStart, TermEnd: s.TermEnd, CancelUntil: now,
		PeriodStart: s.PeriodStart, PeriodEnd: s.PeriodEnd, Began: s.Began,
		Lots: []Lot{{N: s.Qty, AddedAt: now, ReducibleUntil: now, Bought: true}},
	}
	amount := share(p, [2]int64{unit * int64(s.Qty), p - s.usedBefore(now)})
	s.Status, s.AutoRenew = Cancelled, false
	c.Subs = append(c.Subs, n)
	return n, Outcome{Bills: []Bill{bill(Charge, ReasonTransfer, n, amount,
		fmt.Sprintf("transfer of %s from %s to %s at %s", s, s.Partner, target, now.Format(time.RFC3339)))}}, nil
}
