package model

import (
	"math/big"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
)

// The model is the billing check's oracle, so its arithmetic is pinned here
// to Partner Center's worked examples and to hand computations,
// independently of the processor it checks.

const basic = "CFQ7TTC0LH18:0001" // Microsoft 365 Business Basic, USD 72.00 a year

func newModel(t *testing.T) (*Model, *Customer) {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	m := New(cat)
	c := &Customer{ID: "C-1", Partner: "P-1", Country: "US", Currency: "USD"}
	m.CreateCustomer(c)
	return m, c
}

func buy(t *testing.T, m *Model, c *Customer, at time.Time, qty int) *Sub {
	t.Helper()
	s, out, err := m.Buy(c, at, "O-"+at.Format("150405"), "1", basic, "P1Y", "annual", qty)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Bills) != 1 || out.Bills[0].Amount != 7200*int64(qty) || out.Bills[0].Reason != ReasonPurchase {
		t.Fatalf("purchase bills %+v, want one charge of %d", out.Bills, 7200*qty)
	}
	s.ID = "S-" + at.Format("150405")
	return s
}

func oneBill(t *testing.T, out Outcome, kind Kind, reason string, amount int64) {
	t.Helper()
	if out.Rejected != "" || len(out.Bills) != 1 {
		t.Fatalf("outcome %+v, want one %s", out, kind)
	}
	if b := out.Bills[0]; b.Kind != kind || b.Reason != reason || b.Amount != amount || b.Currency != "USD" {
		t.Fatalf("bill %+v, want %s %s of %d USD", b, kind, reason, amount)
	}
}

// CAN-1's worked example: 10 annual licenses of USD 72.00 cancelled at hour
// 167 give back 358 of 365 days, 720.00 × 358 / 365 = 706.19; at hour 169
// the window is closed.
func TestRule_CAN_1_WorkedExampleCreditsTheUnusedDaysInsideTheWindowOnly(t *testing.T) {
	m, c := newModel(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	inside, outside := buy(t, m, c, at, 10), buy(t, m, c, at, 10)
	oneBill(t, m.Cancel(inside, at.Add(167*time.Hour)), Credit, ReasonCancellation, 70619)
	if inside.Status != Cancelled {
		t.Fatalf("status %s after the cancellation", inside.Status)
	}
	if out := m.Cancel(outside, at.Add(169*time.Hour)); out.Rejected != RejectCancelWindowClosed || len(out.Bills) != 0 {
		t.Fatalf("cancel at hour 169: %+v, want %s and no bill", out, RejectCancelWindowClosed)
	}
	if outside.Status != Active {
		t.Fatalf("a refused cancellation changed the status to %s", outside.Status)
	}
}

// QTY-1 and CAN-1 lot by lot: licenses added on day 3 are charged from day 3
// (36000 × 363/365 = 35803); a cancellation at hour 100 gives back 360 of 365
// days of each lot, (72000 + 36000) × 360 / 365 = 106520.55 → 106521, rounded
// once (GEN-3).
func TestRule_CAN_1_CancelAfterAnIncreaseRefundsEachLotForTheDaysItWasPaidFor(t *testing.T) {
	m, c := newModel(t)
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	s := buy(t, m, c, t0, 10)
	oneBill(t, m.ChangeQuantity(s, t0.Add(30*time.Hour), 15), Charge, ReasonIncrease, 35803)
	oneBill(t, m.Cancel(s, t0.Add(100*time.Hour)), Credit, ReasonCancellation, 106521)
}

// QTY-2: only licenses added within the last 168 hours can be removed,
// newest first, each credited for the days it will not use.
func TestRule_QTY_2_DecreaseRemovesOnlyLicensesStillInsideTheirWindow(t *testing.T) {
	m, c := newModel(t)
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	s := buy(t, m, c, t0, 10)
	m.ChangeQuantity(s, t0.Add(30*time.Hour), 15) // a lot of 5, removable until hour 198
	at := t0.Add(180 * time.Hour)
	if got := s.Reducible(at); got != 5 {
		t.Fatalf("reducible at hour 180: %d, want 5 (the purchase's window closed at hour 168)", got)
	}
	if out := m.ChangeQuantity(s, at, 9); out.Rejected != RejectQuantityNotReducible || s.Qty != 15 {
		t.Fatalf("removing 6 of 5 removable: %+v, quantity %d; want %s and 15 kept", out, s.Qty, RejectQuantityNotReducible)
	}
	// The lot bought at hour 30 (day 3 of the period) and held 150 hours
	// (7 started days) used 2 + 7 days: 3 × 7200 × 356 / 365 = 21067.40.
	oneBill(t, m.ChangeQuantity(s, at, 12), Credit, ReasonDecrease, 21067)
	if s.Qty != 12 || s.Reducible(at) != 2 {
		t.Fatalf("after the decrease: quantity %d, reducible %d; want 12 and 2", s.Qty, s.Reducible(at))
	}
	if out := m.ChangeQuantity(s, t0.Add(198*time.Hour), 11); out.Rejected != RejectQuantityNotReducible {
		t.Fatalf("decrease at hour 198, when the last window closed: %+v", out)
	}
}

// GEN-2: every started day counts, at least one.
func TestRule_GEN_2_EveryStartedDayCounts(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{0, 1}, {time.Nanosecond, 1}, {24 * time.Hour, 1}, {24*time.Hour + time.Nanosecond, 2}, {167 * time.Hour, 7}, {168 * time.Hour, 7},
	} {
		if got := heldDaysUsed(tc.d); got != tc.want {
			t.Errorf("days used after holding a lot %s = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// GEN-3: a prorated amount is rounded once, half up, over the sum of its parts.
func TestRule_GEN_3_ProrationRoundsOnceHalfUp(t *testing.T) {
	for _, tc := range []struct {
		name   string
		period int64
		parts  [][2]int64
		want   int64
	}{
		{"exact", 365, [][2]int64{{365, 100}}, 100},
		{"half rounds up", 2, [][2]int64{{1, 1}}, 1},
		{"just under a half rounds down", 2000, [][2]int64{{999, 1}}, 0},
		{"the worked example", 365, [][2]int64{{72000, 358}}, 70619},
		// Rounding each part alone would give 0 + 0.
		{"parts summed before rounding", 4, [][2]int64{{1, 1}, {1, 1}}, 1},
		{"no unused days", 365, [][2]int64{{72000, 0}}, 0},
	} {
		if got := daySum(tc.period, tc.parts...); got != tc.want {
			t.Errorf("%s: sum of the days = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// GEN-4: a term of months ends on the same day of the month, or on the
// month's last day when it has no such day.
func TestRule_GEN_4_MonthsEndOnTheSameDayOrTheMonthsLast(t *testing.T) {
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{date(2026, 1, 31), 1, date(2026, 2, 28)},
		{date(2028, 1, 31), 1, date(2028, 2, 29)},
		{date(2026, 3, 10), 12, date(2027, 3, 10)},
		{date(2026, 11, 30), 3, date(2027, 2, 28)},
		{date(2026, 8, 31), 1, date(2026, 9, 30)},
	} {
		if got := plusMonths(tc.from, tc.n); !got.Equal(tc.want) {
			t.Errorf("%s + %d months = %s, want %s", tc.from.Format("2006-01-02"), tc.n, got.Format("2006-01-02"), tc.want.Format("2006-01-02"))
		}
	}
}

// TRF-3: the target pays for the days of the current period still unused at
// the transfer (10 days and 3 hours in: 11 started days used, 354 of 365
// left, 72000 × 354 / 365 = 69830.14); the source's subscription is cancelled
// with no credit, and the moved one opens no window.
func TestRule_TRF_3_TheTargetPaysFromTheTransferAndTheSourceGetsNoRefund(t *testing.T) {
	m, c := newModel(t)
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	s := buy(t, m, c, t0, 10)
	at := t0.Add(10*24*time.Hour + 3*time.Hour)
	moved, out, err := m.Transfer(c, s, at, "P-2")
	if err != nil {
		t.Fatal(err)
	}
	oneBill(t, out, Charge, ReasonTransfer, 69830)
	if out.Bills[0].Sub != moved || moved.Partner != "P-2" || moved.Qty != 10 || !moved.TermEnd.Equal(s.TermEnd) || !moved.PeriodStart.Equal(s.PeriodStart) {
		t.Fatalf("moved subscription %+v", moved)
	}
	if s.Status != Cancelled || s.AutoRenew {
		t.Fatalf("source subscription %s, auto-renew %v; want cancelled without renewal", s.Status, s.AutoRenew)
	}
	if out := m.Cancel(moved, at.Add(time.Hour)); out.Rejected != RejectCancelWindowClosed {
		t.Fatalf("cancelling the moved subscription an hour later: %+v, want %s (no window opens)", out, RejectCancelWindowClosed)
	}
	if n := moved.Reducible(at.Add(time.Hour)); n != 0 {
		t.Fatalf("%d licenses of the moved subscription reducible, want 0", n)
	}
}

// TRF-3: the target pays as for licenses bought at the transfer (QTY-1):
// the whole period only at 00:00 UTC of its first day; at the purchase
// instant (14:00) that day has started and counts as used (GEN-2).
//
//	purchase instant, 10 × 7200 annual (365 days): round(72000 × 364 / 365)
//	= round(71802.74) = 71803
//	4 × 630 billed monthly, at 2026-04-10T00:00 (period ..2026-05-09,
//	30 days): 2520; at 00:00:01: round(2520 × 29 / 30) = 2436
func TestRule_TRF_3_TransferCountsDaysAsLicensesBoughtThen(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	m, c := newModel(t)
	s := buy(t, m, c, t0, 10)
	_, out, err := m.Transfer(c, s, t0, "P-2")
	if err != nil {
		t.Fatal(err)
	}
	oneBill(t, out, Charge, ReasonTransfer, 71803)

	next := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		at     time.Time
		amount int64
	}{{next, 2520}, {next.Add(time.Second), 2436}} {
		m, c := newModel(t)
		s, _, err := m.Buy(c, t0, "O-1", "1", basic, "P1Y", "monthly", 4)
		if err != nil {
			t.Fatal(err)
		}
		if bills := m.AdvanceTo(c, tc.at); len(bills) != 1 || bills[0].Amount != 2520 || !s.PeriodStart.Equal(next) {
			t.Fatalf("period bills %+v, period start %v", bills, s.PeriodStart)
		}
		_, out, err := m.Transfer(c, s, tc.at, "P-2")
		if err != nil {
			t.Fatal(err)
		}
		oneBill(t, out, Charge, ReasonTransfer, tc.amount)
	}
}

// heldDaysUsed is how many days of a 365-day period a lot held for d
// counts as used: the day book's own decision, day by day.
func heldDaysUsed(d time.Duration) int64 {
	first := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	b := openBook(first, first.AddDate(0, 0, 364), first.Add(14*time.Hour))
	b.withPeriod(1, 36500, first, first)
	var used int64
	b.lots[0].eachPaid(func(j, _ int, _ *big.Rat) {
		if b.lots[0].heldDayUsed(j, b.began.Add(d)) {
			used++
		}
	})
	return used
}

// daySum is parts of [amount for the whole period, days] summed day by day
// at amount/period each, exactly, then rounded once.
func daySum(period int64, parts ...[2]int64) int64 {
	sum := new(big.Rat)
	for _, p := range parts {
		for range p[1] {
			sum.Add(sum, big.NewRat(p[0], period))
		}
	}
	return roundHalfUp(sum)
}
