package model

import (
	"fmt"
	"math/big"
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
// date and the licenses come with the period, paying all of its days.
func (m *Model) Buy(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int) (*Sub, Outcome, error) {
	unit, ok := m.Price(offer, term, freq, c.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", offer, term, freq, c.Currency)
	}
	s, charge := m.newSub(c, now, orderID, lineID, offer, term, freq, qty, unit)
	c.hold(s)
	return s, Outcome{Bills: []Bill{bill(Charge, ReasonPurchase, RulePurchase, s, roundHalfUp(charge),
		fmt.Sprintf("order %s: %d × %s %s/%s at %d", orderID, qty, offer, term, freq, unit))}}, nil
}

func (m *Model) newSub(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int, unit int64) (*Sub, *big.Rat) {
	start := midnight(now)
	window := time.Duration(m.windowHours(offer)) * time.Hour
	s := &Sub{
		Customer: c.ID, Partner: c.Partner, OrderID: orderID, LineID: lineID, Offer: offer, Term: term, Freq: freq, Currency: c.Currency,
		Qty: qty, Unit: unit, Status: Active, AutoRenew: true, WindowHours: m.windowHours(offer),
		TermStart: start, TermEnd: plusMonths(start, months(term)).AddDate(0, 0, -1),
		CancelUntil: now.Add(window),
		PeriodStart: start, PeriodEnd: plusMonths(start, periodMonths(freq, term)).AddDate(0, 0, -1),
	}
	s.book = openBook(s.PeriodStart, s.PeriodEnd, now)
	return s, s.book.withPeriod(qty, unit, now, now.Add(window))
}

// BuyTrial is a one-line order of a trial offer: free, no billing event
// (ORD-10); it converts or expires at its end (TRI-1, see timers.go).
func (m *Model) BuyTrial(c *Customer, now time.Time, orderID, lineID, offer string) (*Sub, Outcome, error) {
	o, ok := m.cat.Offer(offer)
	if !ok || o.Trial == nil {
		return nil, Outcome{}, fmt.Errorf("model: %s is not a trial offer", offer)
	}
	s, _ := m.newSub(c, now, orderID, lineID, offer, o.Trial.Term, "monthly", o.Trial.Licenses, 0)
	s.Trial = true
	c.hold(s)
	c.TrialsTaken[offer] = true
	return s, Outcome{Free: RuleTrialFree}, nil
}

// ChangeQuantity is QTY-1 (added licenses pay the days of the period not
// started when they are bought) and QTY-2 (a decrease takes the newest
// licenses still inside their window first, each lot giving back the days
// it paid for and will not use, one credit per lot; more than that is
// rejected).
func (m *Model) ChangeQuantity(s *Sub, now time.Time, q int) Outcome {
	if out, ok := m.conflicting(s, now, func(at time.Time) Outcome { return m.changeParkedQuantity(s, at, q) }); ok {
		return out // REN-4 (renewal.go)
	}
	cause := fmt.Sprintf("quantity %d → %d at %s", s.Qty, q, now.Format(time.RFC3339))
	if q > s.Qty {
		if code := m.changeRefused(s, q-s.Qty); code != "" { // ORD-8 for a Copilot add-on (addon_follow.go)
			return Outcome{Rejected: code}
		}
		window := time.Duration(s.WindowHours) * time.Hour
		charge := s.book.buy(q-s.Qty, s.Unit, now, now.Add(window))
		s.Qty = q
		s.dropSchedule() // SCH-3
		return Outcome{Bills: []Bill{prorated(bill(Charge, ReasonIncrease, RuleIncrease, s, roundHalfUp(charge), cause))}}
	}
	if code := m.removalRefused(s, s.Qty-q); code != "" { // ORD-7, ORD-8 (addon_follow.go)
		return Outcome{Rejected: code}
	}
	credits, ok := s.book.remove(s.Qty-q, now)
	if !ok {
		return Outcome{Rejected: RejectQuantityNotReducible}
	}
	var out Outcome
	for _, c := range credits {
		out.Bills = append(out.Bills, prorated(bill(Credit, ReasonDecrease, RuleDecrease, s, roundHalfUp(c.value),
			fmt.Sprintf("%s: %d of the lot added %s", cause, c.n, c.added.Format(time.RFC3339)))))
	}
	s.Qty = q
	s.dropSchedule() // SCH-3
	return out
}

// Suspend turns auto-renew off (SUS-4); billing goes on (SUS-3).
func (m *Model) Suspend(s *Sub) Outcome {
	if out, ok := m.readOnly(s, s.lastParkedAt(), func(time.Time) Outcome { return m.Suspend(s) }); ok {
		return out // REN-4 (renewal.go)
	}
	s.Status, s.AutoRenew = Suspended, false
	s.dropSchedule() // SCH-3: auto-renew turned off
	return Outcome{}
}

// Reactivate does not turn auto-renew back on (SUS-4).
func (m *Model) Reactivate(s *Sub) Outcome {
	if out, ok := m.readOnly(s, s.lastParkedAt(), func(time.Time) Outcome { return m.Reactivate(s) }); ok {
		return out // REN-4 (renewal.go)
	}
	s.Status = Active
	return Outcome{}
}

// SetAutoRenew: no money now; it decides renewal or expiry (REN-1, REN-3).
func (m *Model) SetAutoRenew(s *Sub, on bool) Outcome {
	if out, ok := m.readOnly(s, s.lastParkedAt(), func(time.Time) Outcome { return m.SetAutoRenew(s, on) }); ok {
		return out // REN-4 (renewal.go)
	}
	if s.AutoRenew && !on {
		s.dropSchedule() // SCH-3
	}
	s.AutoRenew = on
	return Outcome{}
}

// Cancel is CAN-1: inside the window, one credit for the days every lot
// paid for and will not use, all lots summed exactly and rounded once;
// outside it, rejected. Cancelled is final (CAN-2).
func (m *Model) Cancel(s *Sub, now time.Time) Outcome {
	if out, ok := m.conflicting(s, now, func(at time.Time) Outcome { return m.Cancel(s, at) }); ok {
		return out // REN-4 (renewal.go)
	}
	if !s.InWindow(now) {
		return Outcome{Rejected: RejectCancelWindowClosed}
	}
	if code := m.removalRefused(s, s.Qty); code != "" { // ORD-7, ORD-8 (addon_follow.go)
		return Outcome{Rejected: code}
	}
	credit := s.book.refundAll(now)
	followers := s.followers()
	s.Status, s.AutoRenew = Cancelled, false
	bills := []Bill{prorated(bill(Credit, ReasonCancellation, RuleCancel, s, roundHalfUp(credit),
		fmt.Sprintf("cancel at %s, window until %s", now.Format(time.RFC3339), s.CancelUntil.Format(time.RFC3339))))}
	if len(followers) > 0 {
		bills = append(bills, m.cancelFollowers(s, now)...) // ORD-9 (addon_follow.go)
	}
	return Outcome{Bills: bills}
}

// UpgradeAll is UPG-3 in place: every lot gives back at the old price the
// days it paid for and has not used, counted in its own frame exactly as
// a decrease or a cancellation of it would (at least its first day used,
// GEN-2), and pays those same days at the new one; the upgrade cannot be
// undone, so the cancellation window and every lot's reduction window
// close (UPG-6), and the scheduled changes are deleted (UPG-7, SCH-3).
func (m *Model) UpgradeAll(s *Sub, now time.Time, target string) (Outcome, error) {
	unit, ok := m.Price(target, s.Term, s.Freq, s.Currency)
	if !ok {
		return Outcome{}, fmt.Errorf("model: no %s %s/%s price for %s", target, s.Term, s.Freq, s.Currency)
	}
	if out, ok := m.conflicting(s, now, func(at time.Time) Outcome { return m.upgradeParked(s, at, target) }); ok {
		return out, nil // REN-4 (renewal.go)
	}
	cause := fmt.Sprintf("upgrade %s → %s of %d licenses at %s", s.Offer, target, s.Qty, now.Format(time.RFC3339))
	back, pay := s.book.reprice(unit, now)
	credit := prorated(bill(Credit, ReasonUpgrade, RuleUpgrade, s, roundHalfUp(back), cause))
	charge := prorated(bill(Charge, ReasonUpgrade, RuleUpgrade, s, roundHalfUp(pay), cause))
	s.Offer, s.Unit, s.WindowHours = target, unit, m.windowHours(target)
	s.dropSchedule() // UPG-7, SCH-3
	if now.Before(s.CancelUntil) {
		s.CancelUntil = now
	}
	s.book.closeWindows(now)
	return Outcome{Bills: []Bill{credit, charge}}, nil
}

// Transfer is TRF-3 for one active subscription: the target partner gets a
// new subscription with the same offer, plan, quantity, auto-renewal, term
// and current billing period, its licenses paying at the catalog's current
// price the days of the period not started at the transfer, as licenses
// bought then (QTY-1): all of them only at 00:00 UTC of the period's first
// day; at any later instant — the purchase or renewal instant included,
// whose day has started — the started days are the source's (GEN-2); the
// processor (handlers/rules, moveSubscription) decides the same. No window
// opens on them (the licenses were bought by the source). The source's
// subscription is cancelled without a refund. The new subscription's ID
// is learned from its subscription.created event.
func (m *Model) Transfer(c *Customer, s *Sub, now time.Time, target string) (*Sub, Outcome, error) {
	unit, ok := m.Price(s.Offer, s.Term, s.Freq, s.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no %s %s/%s price for %s", s.Offer, s.Term, s.Freq, s.Currency)
	}
	n := &Sub{
		Customer: s.Customer, Partner: target, Offer: s.Offer, Term: s.Term, Freq: s.Freq, Currency: s.Currency,
		Qty: s.Qty, Unit: unit, Status: Active, AutoRenew: s.AutoRenew, WindowHours: s.WindowHours,
		TermStart: s.TermStart, TermEnd: s.TermEnd, CancelUntil: now,
		PeriodStart: s.PeriodStart, PeriodEnd: s.PeriodEnd,
	}
	var charge *big.Rat
	n.book, charge = s.book.moveAll(unit, now)
	s.Status, s.AutoRenew = Cancelled, false
	c.hold(n)
	return n, Outcome{Bills: []Bill{prorated(bill(Charge, ReasonTransfer, RuleTransfer, n, roundHalfUp(charge),
		fmt.Sprintf("transfer of %s from %s to %s at %s", s, s.Partner, target, now.Format(time.RFC3339))))}}, nil
}
