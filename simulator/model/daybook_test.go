package model

import (
	"math/big"
	"testing"
	"time"
)

// The day book's amounts, worked by hand: a day is worth price/days per
// license, a started day is used, one rounding at the end.

var (
	bookFirst = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) // an annual period 2026-03-10..2027-03-09: 365 days
	bookLast  = bookFirst.AddDate(1, 0, -1)
	bought    = bookFirst.Add(14 * time.Hour) // the purchase instant
)

func annualBook(t *testing.T, n int, window time.Duration) *book {
	t.Helper()
	b := openBook(bookFirst, bookLast, bought)
	if b.days != 365 {
		t.Fatalf("%d days in the period, want 365", b.days)
	}
	// ORD-14: the licenses that come with the period pay all of it: 10 × 7200.
	if got := roundHalfUp(b.withPeriod(n, 7200, bought, bought.Add(window))); got != 7200*int64(n) {
		t.Fatalf("purchase charge %d, want %d", got, 7200*int64(n))
	}
	return b
}

func wantMinor(t *testing.T, what string, got *big.Rat, want int64) {
	t.Helper()
	if r := roundHalfUp(got); r != want {
		t.Errorf("%s = %d (exactly %s), want %d", what, r, got.FloatString(4), want)
	}
}

// QTY-1: licenses bought during the period pay the days not started.
//
//	at the purchase instant (14:00): day 0 began at 00:00 and is used,
//	5 × 7200 × 364/365 = 35901.37 → 35901
//	30 hours later (day 1 began at 14:00 the next day): 2 days used,
//	5 × 7200 × 363/365 = 35802.74 → 35803
//	at 00:00 of a period used from 00:00: nothing used, 5 × 7200 = 36000
//	at a renewal's completion (00:30): day 0 used, 35901
func TestRule_QTY_1_BookChargesTheDaysNotStarted(t *testing.T) {
	b := annualBook(t, 10, 168*time.Hour)
	wantMinor(t, "increase at the purchase instant", b.buy(5, 7200, bought, bought), 35901)
	wantMinor(t, "increase at hour 30", b.buy(5, 7200, bought.Add(30*time.Hour), bought), 35803)
	atMidnight := openBook(bookFirst, bookLast, bookFirst)
	wantMinor(t, "increase at 00:00 of the first day", atMidnight.buy(5, 7200, bookFirst, bookFirst), 36000)
	renewed := openBook(bookFirst, bookLast, bookFirst.Add(30*time.Minute))
	wantMinor(t, "increase at the renewal's completion", renewed.buy(5, 7200, renewed.began, renewed.began), 35901)
}

// QTY-2: newest lots first, only inside their window; each lot gives back
// the days it paid for and has not started to hold.
//
//	10 at 14:00 (window 168 h), 4 bought at hour 30 (paid 363 days).
//	Removing 6 at hour 100: the 4 of hour 30, held 70 h = 3 started days,
//	give back 360 days: 4 × 7200 × 360/365 = 28405.48 → 28405; then 2 of
//	the purchase, held 100 h = 5 days: 2 × 7200 × 360/365 = 14202.74 → 14203.
//	At hour 168 the purchase's window is closed: nothing to remove.
func TestRule_QTY_2_BookRemovesNewestFirstInsideTheWindow(t *testing.T) {
	b := annualBook(t, 10, 168*time.Hour)
	b.buy(4, 7200, bought.Add(30*time.Hour), bought.Add(198*time.Hour))
	credits, ok := b.remove(6, bought.Add(100*time.Hour))
	if !ok || len(credits) != 2 || credits[0].n != 4 || credits[1].n != 2 {
		t.Fatalf("credits %+v, ok %v; want 4 then 2", credits, ok)
	}
	wantMinor(t, "the newest lot's credit", credits[0].value, 28405)
	wantMinor(t, "the purchase lot's credit", credits[1].value, 14203)
	if q := b.quantity(); q != 8 {
		t.Fatalf("quantity %d, want 8", q)
	}
	if _, ok := b.remove(1, bought.Add(168*time.Hour)); ok {
		t.Fatal("removed a license whose window closed at hour 168")
	}
}

// CAN-1: every lot's unused days summed exactly, rounded once.
//
//	1 license at 3650 (10 a day) held 167 h = 7 days: 358 × 10 = 3580.
//	Two lots of one license at price 1 over 2 days, each giving back one
//	day of 0.5: one rounding of 1.0 gives 1 (rounding each gives 1 + 1).
func TestRule_CAN_1_BookRefundsEveryLotRoundedOnce(t *testing.T) {
	b := openBook(bookFirst, bookLast, bought)
	b.withPeriod(1, 3650, bought, bought)
	wantMinor(t, "refund at hour 167", b.refundAll(bought.Add(167*time.Hour)), 3580)
	if b.quantity() != 0 {
		t.Fatal("licenses left after the refund")
	}
	two := openBook(bookFirst, bookFirst.AddDate(0, 0, 1), bookFirst)
	two.withPeriod(1, 1, bookFirst, bookFirst)
	two.withPeriod(1, 1, bookFirst, bookFirst)
	wantMinor(t, "two half days", two.refundAll(bookFirst.Add(time.Hour)), 1)
}

// UPG-3: the days not started are given back at the old price and paid at
// the new one.
//
//	10 × 7200 → 14400 at hour 50: days 0, 1 and 2 started, 362 not:
//	credit 72000 × 362/365 = 71408.22 → 71408, charge 144000 × 362/365 =
//	142816.44 → 142816. At 00:00 of a period used from 00:00 the first day
//	still counts as started: 72000 × 364/365 = 71802.74 → 71803.
func TestRule_UPG_3_BookRepricesTheDaysNotStarted(t *testing.T) {
	b := annualBook(t, 10, 168*time.Hour)
	credit, charge := b.reprice(14400, bought.Add(50*time.Hour))
	wantMinor(t, "upgrade credit", credit, 71408)
	wantMinor(t, "upgrade charge", charge, 142816)
	b.closeWindows(bought.Add(50 * time.Hour))
	if n := b.reducible(bought.Add(50 * time.Hour)); n != 0 {
		t.Fatalf("%d reducible after the upgrade", n)
	}
	m := openBook(bookFirst, bookLast, bookFirst)
	m.withPeriod(10, 7200, bookFirst, bookFirst)
	credit, _ = m.reprice(14400, bookFirst)
	wantMinor(t, "upgrade credit at 00:00", credit, 71803)
}

// TRF-3: the target's licenses pay the days not started at the transfer;
// the source gets nothing back.
//
//	10 days and 3 hours after the purchase: day 0 and days 1..10 started,
//	354 left: 72000 × 354/365 = 69830.14 → 69830.
func TestRule_TRF_3_BookMovesTheLicensesPayingTheDaysNotStarted(t *testing.T) {
	b := annualBook(t, 10, 168*time.Hour)
	at := bought.Add(10*24*time.Hour + 3*time.Hour)
	to, charge := b.moveAll(7200, at)
	wantMinor(t, "transfer charge", charge, 69830)
	if b.quantity() != 0 || to.quantity() != 10 || to.reducible(at) != 0 {
		t.Fatalf("source %d, target %d (%d reducible)", b.quantity(), to.quantity(), to.reducible(at))
	}
}

// GEN-4: a new billing period is paid in full by every license, and the
// lots keep their reduction windows.
//
//	monthly 630 a license, 2026-04-10..2026-05-09 (30 days), 3 + 2
//	licenses: 5 × 630 = 3150.
func TestRule_GEN_4_BookOpensTheNextPeriodInFull(t *testing.T) {
	first := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	b := openBook(first, first.AddDate(0, 1, -1), first.Add(14*time.Hour))
	b.withPeriod(3, 630, b.began, b.began.Add(168*time.Hour))
	b.buy(2, 630, time.Date(2026, 4, 8, 9, 0, 0, 0, time.UTC), time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC))
	next, charge := b.nextPeriod(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 5, 9, 0, 0, 0, 0, time.UTC), 630)
	if next.days != 30 {
		t.Fatalf("%d days, want 30", next.days)
	}
	wantMinor(t, "period charge", charge, 3150)
	if n := next.reducible(time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC)); n != 2 {
		t.Fatalf("%d reducible in the new period, want the 2 of the increase", n)
	}
}

// GEN-3: half up, once.
func TestRule_GEN_3_BookRoundsHalfUp(t *testing.T) {
	for _, tc := range []struct {
		r    *big.Rat
		want int64
	}{{big.NewRat(1, 2), 1}, {big.NewRat(999, 2000), 0}, {big.NewRat(3, 2), 2}, {big.NewRat(70619, 1), 70619}} {
		if got := roundHalfUp(tc.r); got != tc.want {
			t.Errorf("round(%s) = %d, want %d", tc.r, got, tc.want)
		}
	}
}
