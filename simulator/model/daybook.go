package model

import (
	"math/big"
	"time"
)

// The day book is the model's money: a licence-day ledger of one
// subscription's current billing period. It does not restate the
// processor's proration formulas; it counts days one by one.
//
//   - A billing period has D days, counted date by date (GEN-4), and a
//     per-licence price P for the whole of it; each of its days is worth
//     exactly P/D per licence (a big.Rat, never rounded).
//   - A lot (licences bought together, QTY-2) records which days of the
//     period it paid for, each with the value it paid.
//   - A charge is the sum, over the days a lot newly pays for, of n × P/D;
//     a credit the sum over the paid days it gives back. Each amount is
//     summed exactly and rounded half up once, at the end (GEN-3).
//   - Whether a day is used is decided by comparing instants (GEN-2: a
//     day counts as used once it has started, that is once an instant of
//     it has passed):
//   - in the period's frame (licences bought during the period, a
//     transfer, an upgrade), day 0 starts at 00:00 UTC of the period's
//     first date and day k ≥ 1 at began + k × 24 h, began being the
//     instant the period began to be used (the purchase or renewal
//     instant, or 00:00 for a billing period);
//   - in a lot's own frame (what it gives back), the lot's j-th paid day
//     starts at held + j × 24 h, held being when the lot began to be held
//     in this period, and its first paid day is used from the first
//     instant it is held (at least one day, GEN-2).
//
// Later rules (add-ons aligned to a base, legacy periods not billed while
// suspended, ...) can open a period whose lots pay only some of its days:
// a lot's paid days are a list of spans, not a count.
type book struct {
	start time.Time // 00:00 UTC of the period's first date
	began time.Time // the instant the period began to be used
	days  int       // D, the whole period's days
	// from is the first day the subscription covers: 0, unless it covers
	// only the period's tail (a co-terminous add-on bought mid-period,
	// ORD-9; a legacy subscription reactivated in a period that started
	// while it was suspended, SUS-2). The days before it were never
	// paid for and count as started; day from plays day 0's part.
	from int
	lots []*lot // in the order bought: the newest last
}

// lot is licences bought together.
type lot struct {
	n              int
	added          time.Time // when bought; orders the lots and opens the reduction window
	reducibleUntil time.Time // the QTY-2 window's end, exclusive
	held           time.Time // when the lot began to be held in this period
	paid           []span    // the period's days it paid for, ascending
}

// span is the period's days [from, to), each paid at value per licence.
type span struct {
	from, to int
	value    *big.Rat
}

// openBook opens the billing period of the dates first..last (included)
// that began to be used at began.
func openBook(first, last, began time.Time) *book {
	return &book{start: first, began: began, days: countDates(first, last)}
}

// countDates counts the calendar dates from first to last included.
func countDates(first, last time.Time) int {
	n := 0
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		n++
	}
	return n
}

// dayValue is one day's value per licence at a whole-period price: P/D.
func (b *book) dayValue(price int64) *big.Rat {
	return new(big.Rat).SetFrac64(price, int64(b.days))
}

// periodDayStarted: has day i of the period started at t, in the period's
// frame? Day 0 starts at 00:00 UTC of the first date, so at any instant
// after it — the purchase or renewal instant included — it has started;
// day k ≥ 1 starts k × 24 h after the period began to be used.
func (b *book) periodDayStarted(i int, t time.Time) bool {
	switch {
	case i < b.from:
		return true
	case i == b.from:
		return b.start.AddDate(0, 0, b.from).Before(t)
	}
	return b.began.Add(time.Duration(i-b.from) * day).Before(t)
}

// heldDayUsed: is the j-th day a lot paid for used at t? The first is
// used from the first instant the lot is held (GEN-2, at least one day);
// the j-th starts j × 24 h after that and is used once it has started.
func (l *lot) heldDayUsed(j int, t time.Time) bool {
	return j == 0 || l.held.Add(time.Duration(j)*day).Before(t)
}

// eachPaid calls f for every day the lot paid for, in order, with its
// index in the lot's own frame (j) and in the period (i).
func (l *lot) eachPaid(f func(j, i int, value *big.Rat)) {
	j := 0
	for _, s := range l.paid {
		for i := s.from; i < s.to; i++ {
			f(j, i, s.value)
			j++
		}
	}
}

// pay appends day i, paid at value, to the lot's spans.
func (l *lot) pay(i int, value *big.Rat) {
	if k := len(l.paid) - 1; k >= 0 && l.paid[k].to == i && l.paid[k].value == value {
		l.paid[k].to++
		return
	}
	l.paid = append(l.paid, span{from: i, to: i + 1, value: value})
}

// dayTotal adds up the values of days counted one by one, for n licences.
// Consecutive days of one value (the same *big.Rat, as a span's days are)
// are counted and multiplied out once when the value changes: the same
// exact sum as adding each day's n × value, without a big.Rat addition and
// normalisation per day (which made up a third of the simulator's CPU over
// a year of annual terms, 365 days each).
type dayTotal struct {
	n     int64
	sum   *big.Rat
	value *big.Rat // the value of the days counted since the last flush
	days  int64
}

func newDayTotal(n int) *dayTotal { return &dayTotal{n: int64(n), sum: new(big.Rat)} }

// day counts one day of value.
func (d *dayTotal) day(value *big.Rat) {
	if value != d.value {
		d.flush()
		d.value = value
	}
	d.days++
}

func (d *dayTotal) flush() {
	if d.days > 0 {
		d.sum.Add(d.sum, new(big.Rat).Mul(d.value, new(big.Rat).SetInt64(d.n*d.days)))
	}
	d.days = 0
}

// total is n × the values of every day counted.
func (d *dayTotal) total() *big.Rat {
	d.flush()
	return d.sum
}

// paidValue is what n licences of the lot paid for every day it paid for.
func (l *lot) paidValue(n int) *big.Rat {
	sum := newDayTotal(n)
	l.eachPaid(func(_, _ int, v *big.Rat) { sum.day(v) })
	return sum.total()
}

// withPeriod adds a lot of n licences that came with the period (bought
// with the subscription, at its renewal, or carried into a new billing
// period): it pays every day of the period the subscription covers and is held from the instant
// the period began to be used. It returns the exact charge.
func (b *book) withPeriod(n int, price int64, added, reducibleUntil time.Time) *big.Rat {
	l := &lot{n: n, added: added, reducibleUntil: reducibleUntil, held: b.began}
	v := b.dayValue(price)
	sum := newDayTotal(n)
	for i := b.from; i < b.days; i++ {
		l.pay(i, v)
		sum.day(v)
	}
	b.lots = append(b.lots, l)
	return sum.total()
}

// buy adds a lot of n licences bought at t during the period (QTY-1, and
// a transfer's target, TRF-3): it pays the days of the period not started
// at t — all of them at 00:00 of the first date, none of the day of a
// purchase or renewal instant later than that — and is held from t. It
// returns the exact charge.
func (b *book) buy(n int, price int64, t, reducibleUntil time.Time) *big.Rat {
	l := &lot{n: n, added: t, reducibleUntil: reducibleUntil, held: t}
	v := b.dayValue(price)
	sum := newDayTotal(n)
	for i := 0; i < b.days; i++ {
		if !b.periodDayStarted(i, t) {
			l.pay(i, v)
			sum.day(v)
		}
	}
	b.lots = append(b.lots, l)
	return sum.total()
}

// unusedValue is what n licences of a lot paid for the days not used at t.
func (l *lot) unusedValue(n int, t time.Time) *big.Rat {
	sum := newDayTotal(n)
	l.eachPaid(func(j, _ int, v *big.Rat) {
		if !l.heldDayUsed(j, t) {
			sum.day(v)
		}
	})
	return sum.total()
}

// quantity is the licences the book holds.
func (b *book) quantity() int {
	q := 0
	for _, l := range b.lots {
		q += l.n
	}
	return q
}

// reducible is how many licences are still inside their window at t.
func (b *book) reducible(t time.Time) int {
	n := 0
	for _, l := range b.lots {
		if t.Before(l.reducibleUntil) {
			n += l.n
		}
	}
	return n
}

// lotCredit is what one lot gives back when licences are removed.
type lotCredit struct {
	n     int
	added time.Time
	value *big.Rat
}

// remove takes n licences at t, newest lots first, only from lots still
// inside their window (QTY-2); each lot's licences give back the days
// they paid for and will not use. It reports false, changing nothing,
// when fewer than n are inside a window.
func (b *book) remove(n int, t time.Time) ([]lotCredit, bool) {
	if n > b.reducible(t) {
		return nil, false
	}
	var out []lotCredit
	for k := len(b.lots) - 1; k >= 0 && n > 0; k-- {
		l := b.lots[k]
		if !t.Before(l.reducibleUntil) {
			continue
		}
		take := min(n, l.n)
		out = append(out, lotCredit{n: take, added: l.added, value: l.unusedValue(take, t)})
		l.n -= take
		n -= take
	}
	b.dropEmptyLots()
	return out, true
}

// refundAll is every licence's unused paid days at t, all lots summed
// exactly (CAN-1); the book is emptied.
func (b *book) refundAll(t time.Time) *big.Rat {
	sum := new(big.Rat)
	for _, l := range b.lots {
		sum.Add(sum, l.unusedValue(l.n, t))
	}
	b.lots = nil
	return sum
}

// reprice changes the price of every licence at t (UPG-3): each lot gives
// back, at what it was paid, every day it paid for and has not used at t
// in its own frame (heldDayUsed, as a decrease or a cancellation of it
// would) and pays those same days again at the new price.
func (b *book) reprice(price int64, t time.Time) (credit, charge *big.Rat) {
	credit, charge = new(big.Rat), new(big.Rat)
	v := b.dayValue(price)
	for _, l := range b.lots {
		back, pay := l.reprice(v, t)
		credit.Add(credit, back)
		charge.Add(charge, pay)
	}
	return credit, charge
}

// reprice is one lot's share of book.reprice: the days it paid for and
// has not used at t (its own frame) are given back and paid again at v
// per licence.
func (l *lot) reprice(v *big.Rat, t time.Time) (credit, charge *big.Rat) {
	back, pay := newDayTotal(l.n), newDayTotal(l.n)
	old := l.paid
	l.paid = nil
	j := 0
	for _, s := range old {
		for i := s.from; i < s.to; i++ {
			if l.heldDayUsed(j, t) {
				l.pay(i, s.value)
			} else {
				back.day(s.value)
				pay.day(v)
				l.pay(i, v)
			}
			j++
		}
	}
	return back.total(), pay.total()
}

// closeWindows ends every reduction window still open at t (UPG-6).
func (b *book) closeWindows(t time.Time) {
	for _, l := range b.lots {
		if t.Before(l.reducibleUntil) {
			l.reducibleUntil = t
		}
	}
}

// moveAll is TRF-3: another subscription takes every licence at t, in the
// same billing period, paying at price the days not started at t as
// licences bought then (buy); nothing is given back to this book, which
// is emptied. No window opens on the moved licences.
func (b *book) moveAll(price int64, t time.Time) (*book, *big.Rat) {
	to := &book{start: b.start, began: b.began, days: b.days, from: b.from}
	charge := to.buy(b.quantity(), price, t, t)
	b.lots = nil
	return to, charge
}

// nextPeriod opens the billing period first..last, used from 00:00 of its
// first date (GEN-4): every lot keeps its licences and its window and
// pays all the new period's days at price. It returns the exact charge.
func (b *book) nextPeriod(first, last time.Time, price int64) (*book, *big.Rat) {
	nb := openBook(first, last, first)
	sum := new(big.Rat)
	for _, l := range b.lots {
		sum.Add(sum, nb.withPeriod(l.n, price, l.added, l.reducibleUntil))
	}
	return nb, sum
}

// roundHalfUp is GEN-3's one rounding of an exact non-negative amount to
// minor units.
func roundHalfUp(r *big.Rat) int64 {
	num := new(big.Int).Mul(r.Num(), big.NewInt(2))
	num.Add(num, r.Denom())
	den := new(big.Int).Mul(r.Denom(), big.NewInt(2))
	return num.Quo(num, den).Int64()
}

// dropEmptyLots forgets the lots whose licences all went.
func (b *book) dropEmptyLots() {
	kept := b.lots[:0]
	for _, l := range b.lots {
		if l.n > 0 {
			kept = append(kept, l)
		}
	}
	b.lots = kept
}
