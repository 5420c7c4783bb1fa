package model

import (
	"slices"
	"testing"
	"time"
)

// REN-4 by hand. Microsoft 365 Business Basic, P1M billed monthly, USD 7.20
// a licence a month, 4 licences bought 2026-03-10 14:00: the term is
// 2026-03-10..2026-04-09; the renewal starts 2026-04-10 00:00 and completes
// 00:30 (the catalog's 30 minutes); its first period 2026-04-10..2026-05-09
// has 30 days. A command at 00:17 is parked and decided at 00:30, when the
// period began to be used 0 s before: its first day counts as used
// (GEN-2), 29 of 30 days are left.

var (
	renewalAt  = time.Date(2026, 4, 10, 0, 17, 0, 0, time.UTC)
	nextStepAt = time.Date(2026, 4, 10, 6, 17, 0, 0, time.UTC)
)

func renewing(t *testing.T, m *Model, c *Customer, term, freq string, qty int, at time.Time) *Sub {
	t.Helper()
	s, _, err := m.Buy(c, time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), "O-1", "1", basic, term, freq, qty)
	if err != nil {
		t.Fatal(err)
	}
	s.ID = "S-1"
	if bills := m.AdvanceTo(c, at); len(bills) != 0 && freq != "monthly" {
		t.Fatalf("bills before the renewal: %+v", bills)
	}
	if !s.Renewing() || !s.Changeable(at) {
		t.Fatalf("at %s: renewing %v, changeable %v", at, s.Renewing(), s.Changeable(at))
	}
	return s
}

func wantDeferred(t *testing.T, out Outcome) *Parked {
	t.Helper()
	if !out.Deferred || out.Parked == nil || out.Rejected != "" || len(out.Bills) != 0 {
		t.Fatalf("outcome %+v, want deferred without bills", out)
	}
	return out.Parked
}

// completes moves the calendar past the renewal: the renewal's charge, then
// the parked commands settled in arrival order.
func completes(t *testing.T, m *Model, c *Customer, at time.Time, renewal int64) []*Parked {
	t.Helper()
	bills := m.AdvanceTo(c, at)
	if len(bills) != 1 || bills[0].Reason != ReasonRenewal || bills[0].Amount != renewal {
		t.Fatalf("calendar bills %+v, want the renewal's %d", bills, renewal)
	}
	return m.Settled(c)
}

func wantBills(t *testing.T, p *Parked, want ...Bill) {
	t.Helper()
	if !p.Settled || p.Outcome.Rejected != "" || len(p.Outcome.Bills) != len(want) {
		t.Fatalf("settled %+v, want %d bills", p, len(want))
	}
	for i, w := range want {
		b := p.Outcome.Bills[i]
		if b.Kind != w.Kind || b.Reason != w.Reason || b.Amount != w.Amount || b.Rule != w.Rule || !slices.Contains(b.Also, RuleParked) {
			t.Fatalf("bill %d %+v, want %s %s %d by %s, also REN-4", i, b, w.Kind, w.Reason, w.Amount, w.Rule)
		}
	}
}

// An increase 4 → 6 at 00:17 is parked; at 00:30, after the renewal's
// 4 × 720 = 2880, the 2 licences pay 29 of 30 days: 1440 × 29 / 30 = 1392.
func TestRule_REN_4_ParkedIncreaseIsChargedAfterTheRenewal(t *testing.T) {
	m, c := newModel(t)
	s := renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	p := wantDeferred(t, m.ChangeQuantity(s, renewalAt, 6))
	if s.Qty != 4 {
		t.Fatalf("quantity %d while parked", s.Qty)
	}
	settled := completes(t, m, c, nextStepAt, 2880)
	if len(settled) != 1 || settled[0] != p {
		t.Fatalf("settled %v", settled)
	}
	wantBills(t, p, Bill{Kind: Charge, Reason: ReasonIncrease, Amount: 1392, Rule: RuleIncrease})
	if s.Qty != 6 || !p.At.Equal(time.Date(2026, 4, 10, 0, 30, 0, 0, time.UTC)) {
		t.Fatalf("quantity %d, settled at %s", s.Qty, p.At)
	}
}

// A decrease 4 → 1 at 00:17, whose licences' windows closed in March, is
// accepted at 00:30: the renewal's licences are all inside the new window.
// 3 × 720 × 29 / 30 = 2088.
func TestRule_REN_4_ParkedDecreaseCreditsTheRenewedLicences(t *testing.T) {
	m, c := newModel(t)
	s := renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	if s.Reducible(renewalAt) != 0 {
		t.Fatalf("reducible %d before the renewal", s.Reducible(renewalAt))
	}
	p := wantDeferred(t, m.ChangeQuantity(s, renewalAt, 1))
	completes(t, m, c, nextStepAt, 2880)
	wantBills(t, p, Bill{Kind: Credit, Reason: ReasonDecrease, Amount: 2088, Rule: RuleDecrease})
}

// A cancel at 00:17, outside the old term's window, is decided inside the
// new term's: 2880 × 29 / 30 = 2784 given back.
func TestRule_REN_4_ParkedCancelIsDecidedInTheNewWindow(t *testing.T) {
	m, c := newModel(t)
	s := renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	if s.InWindow(renewalAt) {
		t.Fatal("the old window is still open")
	}
	p := wantDeferred(t, m.Cancel(s, renewalAt))
	completes(t, m, c, nextStepAt, 2880)
	wantBills(t, p, Bill{Kind: Credit, Reason: ReasonCancellation, Amount: 2784, Rule: RuleCancel})
	if s.Status != Cancelled {
		t.Fatalf("status %s", s.Status)
	}
}

// An upgrade to Business Premium at 00:17: at 00:30 the 29 days left are
// given back at 720 (4 × 720 × 29 / 30 = 2784) and paid at 2640
// (4 × 2640 × 29 / 30 = 10208).
func TestRule_REN_4_ParkedUpgradeRepricesTheRenewedPeriod(t *testing.T) {
	m, c := newModel(t)
	s := renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	out, err := m.UpgradeAll(s, renewalAt, premium)
	if err != nil {
		t.Fatal(err)
	}
	p := wantDeferred(t, out)
	if s.Offer != basic {
		t.Fatalf("offer %s while parked", s.Offer)
	}
	completes(t, m, c, nextStepAt, 2880)
	wantBills(t, p, Bill{Kind: Credit, Reason: ReasonUpgrade, Amount: 2784, Rule: RuleUpgrade},
		Bill{Kind: Charge, Reason: ReasonUpgrade, Amount: 10208, Rule: RuleUpgrade})
}

// P1Y billed annually, 3 × USD 72.00: renewed 2027-03-10, its first period
// runs to 2028-03-09, 366 days (29 February 2028). A parked cancel gives
// back 21600 × 365 / 366 = 21540.98 → 21541.
func TestRule_REN_4_ParkedCancelOfALeapYearTerm(t *testing.T) {
	m, c := newModel(t)
	at := time.Date(2027, 3, 10, 0, 17, 0, 0, time.UTC)
	s := renewing(t, m, c, "P1Y", "annual", 3, at)
	p := wantDeferred(t, m.Cancel(s, at))
	completes(t, m, c, at.Add(6*time.Hour), 21600)
	wantBills(t, p, Bill{Kind: Credit, Reason: ReasonCancellation, Amount: 21541, Rule: RuleCancel})
}

// Settings are read-only while the renewal is pending: rejected
// renewal_pending, nothing changes, and the renewal charges as usual
// (auto-renew stays on, REN-1).
func TestRule_REN_4_SettingsAreReadOnlyWhileRenewing(t *testing.T) {
	m, c := newModel(t)
	s := renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	for name, out := range map[string]Outcome{
		"auto-renew off": m.SetAutoRenew(s, false), "suspend": m.Suspend(s), "reactivate": m.Reactivate(s),
	} {
		if out.Rejected != RejectRenewalPending || out.Deferred {
			t.Fatalf("%s: %+v, want renewal_pending", name, out)
		}
	}
	if out, ok := m.RenewalSetting(s); !ok || out.Rejected != RejectRenewalPending {
		t.Fatalf("scheduled change: %+v %v", out, ok)
	}
	if s.Status != Active || !s.AutoRenew {
		t.Fatalf("status %s, auto-renew %v", s.Status, s.AutoRenew)
	}
	if settled := completes(t, m, c, nextStepAt, 2880); len(settled) != 0 {
		t.Fatalf("settled %v", settled)
	}
}

// A setting sent after a parked command waits behind it and is decided
// after it: the increase (1392, as above), then the suspension.
func TestRule_REN_4_CommandsBehindAParkedOneWaitInOrder(t *testing.T) {
	m, c := newModel(t)
	s := renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	first := wantDeferred(t, m.ChangeQuantity(s, renewalAt, 6))
	second := wantDeferred(t, m.Suspend(s))
	settled := completes(t, m, c, nextStepAt, 2880)
	if len(settled) != 2 || settled[0] != first || settled[1] != second {
		t.Fatalf("settled %v", settled)
	}
	wantBills(t, first, Bill{Kind: Charge, Reason: ReasonIncrease, Amount: 1392, Rule: RuleIncrease})
	if second.Outcome.Rejected != "" || len(second.Outcome.Bills) != 0 || s.Status != Suspended {
		t.Fatalf("suspension %+v, status %s", second.Outcome, s.Status)
	}
}

// With 10 minutes of retries and 30 of processing, a cancel parked at
// 00:01 is retried at 00:02, 00:04, 00:08 and 00:16 (1, 2, 4, 8 minutes
// apart): the retry at 00:16, past 00:11, rejects it with conflict, and
// the subscription renews untouched. With no retry time it conflicts at
// once.
func TestRule_REN_4_ParkedCommandsConflictPastTheRetryTime(t *testing.T) {
	m, c := newModel(t)
	m.cat.Policy.ConflictRetryMinutes = 10
	at := time.Date(2026, 4, 10, 0, 1, 0, 0, time.UTC)
	s := renewing(t, m, c, "P1M", "monthly", 4, at)
	p := wantDeferred(t, m.Cancel(s, at))
	completes(t, m, c, nextStepAt, 2880)
	if p.Outcome.Rejected != RejectConflict || !p.At.Equal(time.Date(2026, 4, 10, 0, 16, 0, 0, time.UTC)) || s.Status != Active {
		t.Fatalf("settled %+v at %s, status %s", p.Outcome, p.At, s.Status)
	}

	m, c = newModel(t)
	m.cat.Policy.ConflictRetryMinutes = 0
	s = renewing(t, m, c, "P1M", "monthly", 4, renewalAt)
	if out := m.Cancel(s, renewalAt); out.Rejected != RejectConflict || out.Deferred {
		t.Fatalf("without retries: %+v", out)
	}
}
