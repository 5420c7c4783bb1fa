package model

import (
	"slices"
	"testing"
	"time"
)

// Scheduled changes, trial conversions and partial upgrades, worked by
// hand from the catalog's USD prices (deployments/catalog): Business Basic
// 7200 a year (P1Y annual) or 720 a month (P1M), Business Standard 15000
// (P1Y annual) or 1313 a month (P1Y monthly), Business Premium 26400 (P1Y
// annual), Microsoft 365 E5 68400 (P1Y annual) or 5985 a month (P1Y
// monthly).

const (
	standard = "CFQ7TTC0LDPB:0001"
	premium  = "CFQ7TTC0LCHC:0002"
	e5       = "CFQ7TTC0LFLX:0001"
	e5Trial  = "CFQ7TTC0LFLX:0007"
	bpTrial  = "CFQ7TTC0LCHC:0007" // Business Premium trial, converts to premium
)

func buyPlan(t *testing.T, m *Model, c *Customer, at time.Time, offer, term, freq string, qty int, id string) *Sub {
	t.Helper()
	s, _, err := m.Buy(c, at, "O-"+id, "1", offer, term, freq, qty)
	if err != nil {
		t.Fatal(err)
	}
	s.ID = id
	return s
}

func trialOf(t *testing.T, m *Model, c *Customer, at time.Time, offer, id string) *Sub {
	t.Helper()
	s, out, err := m.BuyTrial(c, at, "O-"+id, "1", offer)
	if err != nil || len(out.Bills) != 0 {
		t.Fatalf("trial %v %+v", err, out)
	}
	s.ID = id
	return s
}

func wantChangeBill(t *testing.T, what string, b Bill, kind Kind, reason, rule string, s *Sub, amount int64, also ...string) {
	t.Helper()
	if b.Kind != kind || b.Reason != reason || b.Rule != rule || b.Sub != s || b.Amount != amount {
		t.Errorf("%s: %s %s by %s on %s: %d, want %s %s by %s on %s: %d", what, b.Kind, b.Reason, b.Rule, b.Sub, b.Amount, kind, reason, rule, s, amount)
	}
	for _, id := range also {
		if !slices.Contains(b.Also, id) {
			t.Errorf("%s: also %v, want %s among them", what, b.Also, id)
		}
	}
}

// SCH-1, SCH-2, SCH-4 with REN-2: 10 × Business Basic P1Y annual bought
// 2026-01-05T06:17Z (term ..2027-01-04); scheduled: Business Standard, 12
// licenses, billed monthly. The renewal completes 2027-01-05T00:30Z and
// charges the scheduled plan's first month at its current price: 12 ×
// 1313 = 15756, period 2027-01-05..2027-02-04.
func TestRule_SCH_1_RenewalChargesTheScheduledPlan(t *testing.T) {
	m, c := newModel(t)
	s := buyPlan(t, m, c, time.Date(2026, 1, 5, 6, 17, 0, 0, time.UTC), basic, "P1Y", "annual", 10, "S-1")
	if out := m.SetSchedule(s, Schedule{Offer: standard, Qty: 12}); out.Rejected != "" {
		t.Fatal(out.Rejected)
	}
	if out := m.SetSchedule(s, Schedule{Freq: "monthly"}); out.Rejected != "" || *s.Scheduled != (Schedule{Offer: standard, Qty: 12, Freq: "monthly"}) {
		t.Fatalf("merged schedule %+v (%s)", s.Scheduled, out.Rejected)
	}
	bills := m.AdvanceTo(c, time.Date(2027, 1, 5, 0, 30, 0, 0, time.UTC))
	if len(bills) != 1 {
		t.Fatalf("bills %+v", bills)
	}
	wantChangeBill(t, "renewal", bills[0], Charge, ReasonRenewal, RuleRenewal, s, 15756, "SCH-1", "SCH-2", "SCH-4")
	if s.Offer != standard || s.Qty != 12 || s.Freq != "monthly" || s.Scheduled != nil ||
		!s.PeriodEnd.Equal(time.Date(2027, 2, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("renewed %+v", s)
	}
}

// SCH-2 and SCH-3: a subscription with auto-renew off cannot schedule; a
// suspension (auto-renew off, SUS-4) deletes the stored change and the
// renewal, after reactivation and auto-renew on, charges the 10 licenses
// held: 10 × 720 = 7200, not 12 × 720.
func TestRule_SCH_3_SuspensionDeletesTheScheduledChange(t *testing.T) {
	m, c := newModel(t)
	s := buyPlan(t, m, c, time.Date(2026, 1, 5, 6, 17, 0, 0, time.UTC), basic, "P1M", "monthly", 10, "S-1")
	m.SetAutoRenew(s, false)
	if out := m.SetSchedule(s, Schedule{Qty: 12}); out.Rejected != RejectScheduleNotAllowed {
		t.Fatalf("schedule with auto-renew off: %+v", out)
	}
	m.SetAutoRenew(s, true)
	m.SetSchedule(s, Schedule{Qty: 12})
	m.Suspend(s)
	m.Reactivate(s)
	m.SetAutoRenew(s, true)
	if s.Scheduled != nil {
		t.Fatalf("schedule %+v kept after the suspension", s.Scheduled)
	}
	if out := m.DeleteSchedule(s); out.Rejected != RejectNoScheduledChanges {
		t.Fatalf("delete of nothing: %+v", out)
	}
	bills := m.AdvanceTo(c, time.Date(2026, 2, 5, 0, 30, 0, 0, time.UTC))
	if len(bills) != 1 {
		t.Fatalf("bills %+v", bills)
	}
	wantChangeBill(t, "renewal", bills[0], Charge, ReasonRenewal, RuleRenewal, s, 7200, "SCH-3")
}

// TRI-5 into a new subscription: E5 trial bought 2026-01-05T06:17Z,
// converted 2026-01-10T12:17Z to 30 licenses (P1Y monthly): the term
// starts on the conversion date, the first month is charged in full,
// 30 × 5985 = 179550.
func TestRule_TRI_5_ConversionNowChargesTheFirstPeriodInFull(t *testing.T) {
	m, c := newModel(t)
	trial := trialOf(t, m, c, time.Date(2026, 1, 5, 6, 17, 0, 0, time.UTC), e5Trial, "T-1")
	paid, out, err := m.ConvertNow(c, trial, time.Date(2026, 1, 10, 12, 17, 0, 0, time.UTC), e5, "P1Y", "monthly", 30)
	if err != nil || len(out.Bills) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	wantChangeBill(t, "conversion", out.Bills[0], Charge, ReasonConversion, "TRI-5", paid, 179550, "TRI-2")
	if trial.Status != Expired || !paid.TermStart.Equal(time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)) ||
		!paid.PeriodEnd.Equal(time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("trial %s, paid %+v", trial.Status, paid)
	}
	if bills := m.AdvanceTo(c, time.Date(2026, 2, 6, 0, 0, 0, 0, time.UTC)); len(bills) != 0 {
		t.Errorf("the converted trial's end billed %+v", bills)
	}
}

// TRI-5 and TRI-4 into an existing subscription: E5 P1Y annual × 5 bought
// 2026-01-02T00:17Z (2026-01-02..2027-01-01, 365 days); a Business Premium
// trial converted into it 2026-01-10T12:17Z. Its 25 licenses are bought
// into the period: 8 days 12 hours since it began, 9 days started, 356
// left: 25 × 68400 × 356 / 365 = 1667835.62 → 1667836.
func TestRule_TRI_5_ConversionIntoAnExistingSubscriptionIsAnIncrease(t *testing.T) {
	m, c := newModel(t)
	target := buyPlan(t, m, c, time.Date(2026, 1, 2, 0, 17, 0, 0, time.UTC), e5, "P1Y", "annual", 5, "S-1")
	m.SetSchedule(target, Schedule{Qty: 7})
	trial := trialOf(t, m, c, time.Date(2026, 1, 5, 6, 17, 0, 0, time.UTC), bpTrial, "T-1")
	if !m.CanTake(trial, target, e5, "P1Y", "annual", 25) {
		t.Fatal("the E5 subscription cannot take the trial's licenses")
	}
	out := m.ConvertInto(trial, target, time.Date(2026, 1, 10, 12, 17, 0, 0, time.UTC))
	if len(out.Bills) != 1 {
		t.Fatalf("%+v", out)
	}
	wantChangeBill(t, "conversion", out.Bills[0], Charge, ReasonConversion, "TRI-5", target, 1667836, "TRI-2", "TRI-4", "GEN-2", "GEN-3")
	if target.Qty != 30 || target.Scheduled != nil || trial.Status != Expired {
		t.Errorf("target %+v, trial %s", target, trial.Status)
	}
}

// TRI-6: an E5 trial bought 2026-01-05T06:17Z (ends 2026-02-04) with 7
// licenses scheduled on P1Y annual converts at 2026-02-05T00:00Z: a new
// term 2026-02-05..2027-02-04, 7 × 68400 = 478800.
func TestRule_TRI_6_ScheduledConversionAtTheTrialsEnd(t *testing.T) {
	m, c := newModel(t)
	trial := trialOf(t, m, c, time.Date(2026, 1, 5, 6, 17, 0, 0, time.UTC), e5Trial, "T-1")
	if out := m.ScheduleConversion(trial, Conversion{Offer: e5, Qty: 7, Term: "P1Y", Freq: "annual"}); out.Rejected != "" || len(out.Bills) != 0 {
		t.Fatalf("%+v", out)
	}
	bills := m.AdvanceTo(c, time.Date(2026, 2, 5, 0, 17, 0, 0, time.UTC))
	if len(bills) != 1 {
		t.Fatalf("bills %+v", bills)
	}
	paid := c.Subs[len(c.Subs)-1]
	wantChangeBill(t, "conversion", bills[0], Charge, ReasonConversion, "TRI-6", paid, 478800, "TRI-2", "ORD-10")
	if paid.Offer != e5 || paid.Qty != 7 || paid.OrderID != trial.OrderID || !paid.TermEnd.Equal(time.Date(2027, 2, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("paid %+v", paid)
	}
}

// TRI-6 into an existing subscription whose billing period starts at the
// trial's end: E5 P1Y monthly × 5 bought 2026-01-05T00:17Z (periods from
// the 5th); a Business Premium trial bought the same day converts 10
// licenses into it at 2026-02-05T00:00Z. The period 2026-02-05..03-04
// starts first (billing periods apply before term ends at one instant):
// 5 × 5985 = 29925; then the 10 licenses are bought at 00:00 of its first
// day, when nothing of it is used: 10 × 5985 = 59850. If the target can no
// longer take them (here: cancelled), they go into a new subscription of
// its offer and plan: 10 × 5985 = 59850 on it.
func TestRule_TRI_6_ScheduledConversionIntoAnExistingSubscription(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		m, c := newModel(t)
		target := buyPlan(t, m, c, time.Date(2026, 1, 5, 0, 17, 0, 0, time.UTC), e5, "P1Y", "monthly", 5, "S-1")
		trial := trialOf(t, m, c, time.Date(2026, 1, 5, 6, 17, 0, 0, time.UTC), bpTrial, "T-1")
		m.ScheduleConversion(trial, Conversion{Offer: e5, Qty: 10, Target: target})
		if cancelled {
			m.Cancel(target, time.Date(2026, 1, 6, 0, 17, 0, 0, time.UTC))
		}
		// The trial comes after the target in c.Subs; put it first so
		// that the order of the calendar, not of the slice, decides.
		c.Subs[0], c.Subs[1] = c.Subs[1], c.Subs[0]
		bills := m.AdvanceTo(c, time.Date(2026, 2, 5, 0, 17, 0, 0, time.UTC))
		if cancelled {
			if len(bills) != 1 {
				t.Fatalf("bills %+v", bills)
			}
			paid := c.Subs[len(c.Subs)-1]
			wantChangeBill(t, "conversion into a new subscription", bills[0], Charge, ReasonConversion, "TRI-6", paid, 59850)
			if paid.Offer != e5 || paid.Freq != "monthly" || paid.Qty != 10 {
				t.Errorf("paid %+v", paid)
			}
			continue
		}
		if len(bills) != 2 {
			t.Fatalf("bills %+v", bills)
		}
		wantChangeBill(t, "billing period", bills[0], Charge, ReasonPeriod, RulePeriod, target, 29925)
		wantChangeBill(t, "conversion", bills[1], Charge, ReasonConversion, "TRI-6", target, 59850, "TRI-4", "ORD-10")
	}
}

// UPG-4: Business Basic annual (365 days), 3 bought 2026-03-10T14:00Z and
// 1 more an hour later (7200 × 364 / 365 = 7180.27 → 7180). At +24 h 2
// go to Business Standard, newest first: the added license held 1 day
// after the 1 counted before it (363 left), one of the 3 held 1 day (364
// left): credit 7200 × 727 / 365 = 14340.82 → 14341, charge on the new
// subscription 15000 × 727 / 365 = 29876.71 → 29877. The new subscription
// keeps those licenses' days: upgraded in full to Business Premium at +48
// h, 362 + 363 days are left: 15000 × 725 / 365 = 29794.52 → 29795 back,
// 26400 × 725 / 365 = 52438.36 → 52438 charged.
func TestRule_UPG_4_PartialUpgradeMovesTheLicensesWithTheirDays(t *testing.T) {
	m, c := newModel(t)
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	s := buyPlan(t, m, c, t0, basic, "P1Y", "annual", 3, "S-1")
	oneBill(t, m.ChangeQuantity(s, t0.Add(time.Hour), 4), Charge, ReasonIncrease, 7180)
	m.SetSchedule(s, Schedule{Qty: 5})
	n, out, err := m.UpgradePartial(c, s, t0.Add(24*time.Hour), standard, 2)
	if err != nil || len(out.Bills) != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	wantChangeBill(t, "credit", out.Bills[0], Credit, ReasonUpgrade, "UPG-4", s, 14341)
	wantChangeBill(t, "charge", out.Bills[1], Charge, ReasonUpgrade, "UPG-4", n, 29877)
	if s.Qty != 2 || s.Scheduled != nil || n.Qty != 2 || n.Offer != standard || !n.TermEnd.Equal(s.TermEnd) || n.Reducible(t0.Add(25*time.Hour)) != 0 ||
		s.Reducible(t0.Add(25*time.Hour)) != 2 {
		t.Errorf("source %+v\nnew %+v", s, n)
	}
	n.ID = "S-2"
	out, err = m.UpgradeAll(n, t0.Add(48*time.Hour), premium)
	if err != nil || len(out.Bills) != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	wantChangeBill(t, "second credit", out.Bills[0], Credit, ReasonUpgrade, "UPG-3", n, 29795)
	wantChangeBill(t, "second charge", out.Bills[1], Charge, ReasonUpgrade, "UPG-3", n, 52438)
}

// UPG-3 and UPG-4 into an existing subscription (UPG-5: outside its window,
// same term length, ending after the source): Business Basic annual × 10
// at t0 = 2026-03-10T14:00Z, Business Standard annual × 5 at t0+1h; at
// t0+192h (8 days started, 357 left on both) 4 move: credit 4 × 7200 × 357
// / 365 = 28168.77 → 28169, charge 4 × 15000 × 357 / 365 = 58684.93 →
// 58685; a minute later the other 6 (the source's 9th day began at 14:00,
// the target's begins at 15:00): credit 6 × 7200 × 356 / 365 = 42134.79 →
// 42135, charge 6 × 15000 × 357 / 365 = 88027.40 → 88027, and the source
// ends.
func TestRule_UPG_5_UpgradeIntoAnExistingSubscription(t *testing.T) {
	m, c := newModel(t)
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	s := buyPlan(t, m, c, t0, basic, "P1Y", "annual", 10, "S-1")
	d := buyPlan(t, m, c, t0.Add(time.Hour), standard, "P1Y", "annual", 5, "S-2")
	at := t0.Add(192 * time.Hour)
	if m.CanReceive(s, d, t0.Add(100*time.Hour), 4) {
		t.Error("a target inside its cancellation window received licenses")
	}
	if !m.CanReceive(s, d, at, 4) {
		t.Fatal("the target cannot receive the licenses")
	}
	out := m.UpgradeInto(s, d, at, 4)
	wantChangeBill(t, "credit", out.Bills[0], Credit, ReasonUpgrade, "UPG-4", s, 28169)
	wantChangeBill(t, "charge", out.Bills[1], Charge, ReasonUpgrade, "UPG-4", d, 58685, "UPG-5")
	out = m.UpgradeInto(s, d, at.Add(time.Minute), 6)
	wantChangeBill(t, "credit", out.Bills[0], Credit, ReasonUpgrade, "UPG-3", s, 42135)
	wantChangeBill(t, "charge", out.Bills[1], Charge, ReasonUpgrade, "UPG-3", d, 88027, "UPG-5")
	if s.Status != Cancelled || d.Qty != 15 || d.Reducible(at.Add(2*time.Minute)) != 0 {
		t.Errorf("source %s, target %+v", s.Status, d)
	}
}
