package model

import (
	"fmt"
	"math/big"
	"time"
)

// Upgrades of some licences (UPG-4) and into an existing subscription
// (UPG-3's second form, UPG-5). UpgradeAll (commands.go) is the full
// upgrade in place.
//
//   - The licences an upgrade moves leave the source newest lots first,
//     whether or not their reduction window is still open; each lot gives
//     back the days it paid for and has not used, counted in its own frame
//     exactly as a decrease of it would (one credit for all of them,
//     rounded once).
//   - A partial upgrade without a target (UPG-4) creates a new
//     subscription of the target offer, co-terminous with the source
//     (same term, billing period and dates, auto-renew), holding the
//     moved lots, which pay those same unused days at the target offer's
//     price for the source's plan; neither it nor its licences can be
//     cancelled or reduced (UPG-6). Its ID is learned from
//     subscription.upgraded.
//   - Into an existing subscription of the target offer (UPG-3 with every
//     licence: the source ends, cancelled; UPG-4 with some) the licences
//     are bought into the target's current billing period at its own
//     price as licences added by an increase (the days not started),
//     never reducible (UPG-6); the target keeps its term and billing
//     frequency. It is eligible (UPG-5) outside its own cancellation
//     window, with the source's term length, ending on or after the
//     source.
//   - The source's scheduled changes are deleted (UPG-7, SCH-3), and the
//     target's too (a mid-term quantity change).

// Rule IDs of upgrades besides UPG-3 (rules.go).
const (
	RulePartialUpgrade = "UPG-4"
	RuleUpgradeTarget  = "UPG-5" // an existing subscription eligible to take the licences
)

// take removes n licences at t, newest lots first, reducible or not; it
// returns what they paid for the days not used at t in their own frame,
// and the moved licences as lots (oldest first) with their frames and
// paid days, no longer reducible (UPG-6).
func (b *book) take(n int, t time.Time) (*big.Rat, []*lot) {
	credit := new(big.Rat)
	var moved []*lot
	for k := len(b.lots) - 1; k >= 0 && n > 0; k-- {
		l := b.lots[k]
		n0 := min(n, l.n)
		credit.Add(credit, l.unusedValue(n0, t))
		m := &lot{n: n0, added: l.added, reducibleUntil: l.reducibleUntil, held: l.held, paid: append([]span(nil), l.paid...)}
		if t.Before(m.reducibleUntil) {
			m.reducibleUntil = t
		}
		moved = append([]*lot{m}, moved...)
		l.n -= n0
		n -= n0
	}
	b.dropEmptyLots()
	return credit, moved
}

// UpgradePartial is UPG-4 without a target: q of s's licences (fewer than
// it holds) move to a new subscription of offer target.
func (m *Model) UpgradePartial(c *Customer, s *Sub, now time.Time, target string, q int) (*Sub, Outcome, error) {
	unit, ok := m.Price(target, s.Term, s.Freq, s.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no %s %s/%s price for %s", target, s.Term, s.Freq, s.Currency)
	}
	cause := fmt.Sprintf("upgrade of %d of %d × %s to %s at %s", q, s.Qty, s.Offer, target, now.Format(time.RFC3339))
	back, moved := s.book.take(q, now)
	nb := &book{start: s.book.start, began: s.book.began, days: s.book.days, lots: moved}
	v := nb.dayValue(unit)
	pay := new(big.Rat)
	for _, l := range moved {
		_, p := l.reprice(v, now)
		pay.Add(pay, p)
	}
	n := &Sub{
		Customer: s.Customer, Partner: s.Partner, OrderID: s.OrderID, LineID: s.LineID, Offer: target, Term: s.Term, Freq: s.Freq,
		Currency: s.Currency, Qty: q, Unit: unit, Status: Active, AutoRenew: s.AutoRenew, WindowHours: m.windowHours(target),
		TermStart: s.TermStart, TermEnd: s.TermEnd, CancelUntil: now, PeriodStart: s.PeriodStart, PeriodEnd: s.PeriodEnd, book: nb,
	}
	s.Qty -= q
	s.dropSchedule()
	c.hold(n)
	return n, Outcome{Bills: []Bill{
		prorated(bill(Credit, ReasonUpgrade, RulePartialUpgrade, s, roundHalfUp(back), cause)),
		prorated(bill(Charge, ReasonUpgrade, RulePartialUpgrade, n, roundHalfUp(pay), cause)),
	}}, nil
}

// UpgradeInto moves q of s's licences into t, an existing subscription of
// a higher offer (UPG-3 when q is all of them: s ends; UPG-4 otherwise).
func (m *Model) UpgradeInto(s, t *Sub, now time.Time, q int) Outcome {
	rule := RuleUpgrade
	if q < s.Qty {
		rule = RulePartialUpgrade
	}
	cause := fmt.Sprintf("upgrade of %d of %d × %s into %s (%s) at %s", q, s.Qty, s.Offer, t, t.Offer, now.Format(time.RFC3339))
	back, _ := s.book.take(q, now)
	pay := t.book.buy(q, t.Unit, now, now) // UPG-6: never reducible
	t.Qty += q
	t.dropSchedule()
	s.Qty -= q
	s.dropSchedule()
	if s.Qty == 0 {
		s.Status, s.AutoRenew = Cancelled, false
	}
	credit := prorated(bill(Credit, ReasonUpgrade, rule, s, roundHalfUp(back), cause))
	charge := prorated(bill(Charge, ReasonUpgrade, rule, t, roundHalfUp(pay), cause))
	charge.Also = append(charge.Also, RuleUpgradeTarget)
	return Outcome{Bills: []Bill{credit, charge}}
}

// RejectTargetInWindow is UPG-5's rejection of an existing target still
// inside its own cancellation window.
const RejectTargetInWindow = "target_in_cancellation_window"

// UpgradeIntoRefused is an upgrade into a target that is otherwise
// eligible but still inside its cancellation window (UPG-5): rejected,
// nothing changes.
func (m *Model) UpgradeIntoRefused() Outcome { return Outcome{Rejected: RejectTargetInWindow} }

// CanReceive tells whether t can take q upgraded licences of s to t's
// offer at now (UPG-1, UPG-3, UPG-5, ORD-6): another active paid
// subscription of the same partner, renewing not now, outside its own
// cancellation window, with s's term length, ending on or after s, with
// room for them. The offer being a supported upgrade of s's is the
// caller's to check.
func (m *Model) CanReceive(s, t *Sub, now time.Time, q int) bool {
	o, ok := m.cat.Offer(t.Offer)
	return ok && t != s && t.Status == Active && t.Changeable(now) && t.Partner == s.Partner &&
		!now.Before(t.CancelUntil) && t.Term == s.Term && !t.TermEnd.Before(s.TermEnd) && t.Qty+q <= o.MaxQuantity
}
