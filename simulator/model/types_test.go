package model

import (
	"testing"
	"time"
)

// Hand-worked cases of the other commerce types: add-ons, legacy,
// marketplace SaaS and software. Amounts are derived in the comments from
// the catalog's prices, day by day, not by calling the processor.

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func customerIn(t *testing.T, country, currency string) (*Model, *Customer) {
	t.Helper()
	m, _ := newModel(t)
	c := &Customer{ID: "C-" + country, Partner: "P-1", Country: country, Currency: currency}
	m.CreateCustomer(c)
	return m, c
}

func wantTypeBills(t *testing.T, out Outcome, want ...int64) {
	t.Helper()
	if out.Rejected != "" || len(out.Bills) != len(want) {
		t.Fatalf("outcome %+v, want %d bills %v", out, len(want), want)
	}
	for i, w := range want {
		if out.Bills[i].Amount != w {
			t.Fatalf("bill %d: %d (%s), want %d", i, out.Bills[i].Amount, out.Bills[i].Cause, w)
		}
	}
}

func wantRejected(t *testing.T, out Outcome, code string) {
	t.Helper()
	if out.Rejected != code || len(out.Bills) != 0 {
		t.Fatalf("outcome %+v, want rejected %s", out, code)
	}
}

const (
	exchange = "CFQ7TTC0LH16:0001" // Exchange Online (Plan 1), USD 4.20 a month on P1Y
	coterm   = "CFQ7TTC0LH1G:0001" // co-terminous add-on of it, USD 3.15 a month on P1Y
	m365e3   = "CFQ7TTC0LFLZ:0001"
	multiGeo = "CFQ7TTC0LHSF:0001"
	copilot  = "CFQ7TTC0MM8R:0002"
	legacyE3 = "LEGACYO365E3:0001" // USD 24.00 a month on P1M, 21.00 on P1Y
	hub      = "CNTSOPRJHUB1:0001" // JPY 1575 a month on P1Y
	winSrv   = "DG7GMGF0D7FV:0005" // perpetual, AUD 1603.50
	sqlSub   = "DG7GMGF0FKZV:0002" // AUD 2788.50 a year; 8365.50 for three years billed once
	win7ESU  = "DG7GMGF0CQ4M:0001"
)

// ORD-9 with QTY-1, QTY-2, CAN-1: a co-terminous add-on bought on Jan 20
// at 12:17 on a base whose period runs Jan 5..Feb 4 (31 days) covers Jan
// 20..Feb 4, 16 days of 31.
func TestRule_ORD_9_CoterminousAddonPaysTheRestOfTheBasesPeriod(t *testing.T) {
	m, c := customerIn(t, "US", "USD")
	base, _, _ := m.Buy(c, at("2026-01-05T06:17:00Z"), "O-1", "L1", exchange, "P1Y", "monthly", 10)
	base.ID = "S-base"
	// 4 × 315 × 16 / 31 = 20160 / 31 = 650.32 -> 650.
	a, out, err := m.BuyCoterminous(c, at("2026-01-20T12:17:00Z"), "O-2", "L1", coterm, 4, base)
	if err != nil {
		t.Fatal(err)
	}
	wantTypeBills(t, out, 650)
	if out.Bills[0].Rule != RuleAddonCoterminous || !a.TermEnd.Equal(base.TermEnd) || !a.PeriodEnd.Equal(at("2026-02-04T00:00:00Z")) {
		t.Fatalf("add-on %+v bill %+v", a, out.Bills[0])
	}
	// Cancelled 12 h later: the first held day is used, 15 paid days are
	// not: 4 × 315 × 15 / 31 = 18900 / 31 = 609.68 -> 610.
	wantTypeBills(t, m.CancelTyped(a, at("2026-01-21T00:17:00Z")), 610)

	b, _, _ := m.BuyCoterminous(c, at("2026-01-20T18:17:00Z"), "O-3", "L1", coterm, 4, base)
	// +2 at Jan 21 06:17: the covered days run from Jan 20, used from
	// 18:17; the first has started, the second starts at Jan 21 18:17:
	// 15 of the 16 are paid: 630 × 15 / 31 = 304.8 -> 305.
	wantTypeBills(t, m.ChangeQuantity(b, at("2026-01-21T06:17:00Z"), 6), 305)
	// -3 at Jan 22 00:17, newest first: the 2 added (15 paid days, held
	// since Jan 21 06:17: 1 started day) give back 14: 630 × 14 / 31 =
	// 284.5 -> 285; 1 of the first 4 (16 paid, held since Jan 20 18:17:
	// 2 started days) gives back 14: 315 × 14 / 31 = 142.3 -> 142.
	wantTypeBills(t, m.ChangeQuantity(b, at("2026-01-22T00:17:00Z"), 3), 285, 142)
	// Feb 5: an ordinary period, 3 × 315 = 945 (and the base 10 × 420).
	bills := m.AdvanceTo(c, at("2026-02-05T00:17:00Z"))
	if len(bills) != 2 || bills[0].Amount != 4200 || bills[1].Amount != 945 {
		t.Fatalf("periods %+v", bills)
	}
}

// SUS-5: suspending a base suspends its active add-ons; the add-on cannot
// come back alone; the base brings back only those suspended with it.
func TestRule_SUS_5_BaseSuspendsAndReactivatesItsAddons(t *testing.T) {
	m, c := customerIn(t, "US", "USD")
	now := at("2026-01-05T06:17:00Z")
	base, _, _ := m.Buy(c, now, "O-1", "L1", exchange, "P1Y", "monthly", 10)
	a1, _, _ := m.BuyCoterminous(c, now, "O-2", "L1", coterm, 1, base)
	a2, _, _ := m.BuyCoterminous(c, now, "O-3", "L1", coterm, 1, base)
	base.ID, a1.ID, a2.ID = "S-0", "S-2", "S-1"
	m.SuspendTyped(c, a1, now.Add(time.Hour)) // on its own
	m.SuspendTyped(c, base, now.Add(2*time.Hour))
	if base.Status != Suspended || a2.Status != Suspended || !a2.Ext.WithBase || a1.Ext.WithBase || a2.AutoRenew {
		t.Fatalf("base %s, a1 %+v, a2 %+v", base.Status, a1.Ext, a2.Ext)
	}
	wantRejected(t, m.ReactivateTyped(a2, now.Add(3*time.Hour)), RejectBaseSuspended)
	wantTypeBills(t, m.ReactivateTyped(base, now.Add(4*time.Hour)))
	if a2.Status != Active || a1.Status != Suspended {
		t.Fatalf("a1 %s a2 %s", a1.Status, a2.Status)
	}
}

// ORD-7 and ORD-8 with 30 base licences: multi-geo needs ⌈30 × 5 %⌉ = 2,
// Copilot at most 30 (EUR prices).
func TestRule_ORD_7_ORD_8_AddonLimits(t *testing.T) {
	m, c := customerIn(t, "DE", "EUR")
	now := at("2026-01-05T12:17:00Z")
	if _, out, _ := m.BuyAddon(c, now, "O-0", "L1", copilot, "P1M", "monthly", 1, nil); out.Rejected != RejectAddonRequiresBase {
		t.Fatalf("no base: %+v", out)
	}
	base, _, _ := m.Buy(c, now, "O-1", "L1", m365e3, "P1M", "monthly", 30)
	_, out, _ := m.BuyAddon(c, now, "O-2", "L1", multiGeo, "P1M", "monthly", 1, base)
	wantRejected(t, out, RejectAddonBelowMinimum)
	_, out, _ = m.BuyAddon(c, now, "O-3", "L1", multiGeo, "P1Y", "annual", 2, base)
	wantTypeBills(t, out, 4480) // 2 × 22.40
	_, out, _ = m.BuyAddon(c, now, "O-4", "L1", copilot, "P1Y", "monthly", 31, base)
	wantRejected(t, out, RejectAddonAboveMaximum)
	_, out, _ = m.BuyAddon(c, now, "O-5", "L1", copilot, "P1Y", "monthly", 30, base)
	wantTypeBills(t, out, 88200) // 30 × 29.40
	if _, lo, hi := m.AddonLimit(c, copilot); lo != 1 || hi != 0 {
		t.Fatalf("copilot limit %d..%d after 30", lo, hi)
	}
	// Neither a decrease nor a cancellation of the base may leave fewer
	// base licences than Copilot licences (ORD-8).
	wantRejected(t, m.ChangeQuantity(base, now.Add(time.Hour), 29), RejectBaseNeededByAddon)
	wantRejected(t, m.Cancel(base, now.Add(time.Hour)), RejectBaseNeededByAddon)
	// The base shrinks below the Copilot licences held (it expires at its
	// term end, auto-renew off): any further Copilot line is over the
	// maximum.
	m.SetAutoRenew(base, false)
	m.AdvanceTo(c, base.termEndsAt())
	if base.Status != Expired {
		t.Fatalf("base %s", base.Status)
	}
	later := base.termEndsAt()
	if _, out, _ := m.BuyAddon(c, later, "O-6", "L1", copilot, "P1M", "monthly", 1, nil); out.Rejected != RejectAddonRequiresBase {
		t.Fatalf("no base left: %+v", out)
	}
	other, _, _ := m.Buy(c, later, "O-7", "L1", m365e3, "P1M", "monthly", 5)
	if _, out, _ := m.BuyAddon(c, later, "O-8", "L1", copilot, "P1M", "monthly", 1, other); out.Rejected != RejectAddonAboveMaximum {
		t.Fatalf("30 Copilot licences on 5 base licences: %+v", out)
	}
	if _, lo, hi := m.AddonLimit(c, copilot); lo != 1 || hi != -25 {
		t.Fatalf("copilot limit %d..%d after 30", lo, hi)
	}
}

// SUS-2: a legacy subscription suspended on Dec 20 is not billed for the
// period Jan 10..Feb 9 that starts while it is suspended; reactivated on
// Jan 15 it pays Jan 15..Feb 9, 26 of 31 days; auto-renew stays on and
// cannot be turned off (REN-1).
func TestRule_SUS_2_LegacyUnbilledWhileSuspendedAndChargedTheRestOnReactivation(t *testing.T) {
	m, c := customerIn(t, "US", "USD")
	s, _, _ := m.BuyLegacy(c, at("2025-12-10T06:17:00Z"), "O-1", "L1", legacyE3, "P1Y", "monthly", 3)
	s.ID = "S-1"
	wantTypeBills(t, m.SuspendTyped(c, s, at("2025-12-20T06:17:00Z")))
	if !s.AutoRenew || !s.Ext.DeleteAt.Equal(at("2026-03-20T06:17:00Z")) { // + 90 days
		t.Fatalf("auto-renew %v, deletion %s", s.AutoRenew, s.Ext.DeleteAt)
	}
	if bills := m.AdvanceTo(c, at("2026-01-15T00:17:00Z")); len(bills) != 0 {
		t.Fatalf("billed while suspended: %+v", bills)
	}
	// 3 × 2100 × 26 / 31 = 163800 / 31 = 5283.87 -> 5284.
	out := m.ReactivateTyped(s, at("2026-01-15T00:17:00Z"))
	wantTypeBills(t, out, 5284)
	if out.Bills[0].Rule != RuleLegacyReactivation || out.Bills[0].Reason != ReasonReactivation {
		t.Fatalf("bill %+v", out.Bills[0])
	}
	// +2 at Jan 16 12:17: Jan 15 and the 24 h from the reactivation have
	// started: 24 of the 26 covered days left: 4200 × 24 / 31 = 3251.6 -> 3252.
	wantTypeBills(t, m.ChangeQuantity(s, at("2026-01-16T12:17:00Z"), 5), 3252)
	wantRejected(t, m.SetAutoRenewTyped(s, false), RejectAutoRenewLocked)
	if bills := m.AdvanceTo(c, at("2026-02-10T00:17:00Z")); len(bills) != 1 || bills[0].Amount != 10500 {
		t.Fatalf("next period %+v", bills)
	}
}

// SUS-2: a legacy P1M subscription suspended over its term end renews
// unbilled (Jan 10, done 00:30, window until Jan 17 00:30); reactivated
// on Jan 12 it pays 29 of 31 days (2 × 2400 × 29 / 31 = 4490.3 -> 4490);
// cancelled 30 h later it gives back 27 days (2 started):
// 4800 × 27 / 31 = 4180.6 -> 4181. Left suspended, its data goes after 90
// days and it expires.
func TestRule_SUS_2_LegacyRenewsUnbilledWhileSuspendedThenDataDeletion(t *testing.T) {
	m, c := customerIn(t, "US", "USD")
	s, _, _ := m.BuyLegacy(c, at("2025-12-10T06:17:00Z"), "O-1", "L1", legacyE3, "P1M", "monthly", 2)
	other, _, _ := m.BuyLegacy(c, at("2025-12-10T06:17:00Z"), "O-2", "L1", legacyE3, "P1M", "monthly", 2)
	m.SuspendTyped(c, s, at("2025-12-20T06:17:00Z"))
	m.SuspendTyped(c, other, at("2025-12-20T06:17:00Z"))
	if bills := m.AdvanceTo(c, at("2026-01-12T00:17:00Z")); len(bills) != 0 {
		t.Fatalf("billed while suspended: %+v", bills)
	}
	if !s.CancelUntil.Equal(at("2026-01-17T00:30:00Z")) || s.Status != Suspended {
		t.Fatalf("renewal window %s, status %s", s.CancelUntil, s.Status)
	}
	wantTypeBills(t, m.ReactivateTyped(s, at("2026-01-12T00:17:00Z")), 4490)
	wantTypeBills(t, m.CancelTyped(s, at("2026-01-13T06:17:00Z")), 4181)
	m.AdvanceTo(c, at("2026-03-20T06:17:00Z"))
	if other.Status != Expired {
		t.Fatalf("not deleted: %s", other.Status)
	}
	// A customer billed first 20 days after opening keeps a suspended
	// legacy subscription's data 110 days; one billed 40 days after, 120
	// (the maximum).
	for gap, days := range map[int]int{20: 110, 40: 120} {
		c.FirstBillingGap = gap
		x, _, _ := m.BuyLegacy(c, at("2026-03-20T06:17:00Z"), "O-9", "L1", legacyE3, "P1M", "monthly", 1)
		m.SuspendTyped(c, x, at("2026-03-21T06:17:00Z"))
		if want := at("2026-03-21T06:17:00Z").AddDate(0, 0, days); !x.Ext.DeleteAt.Equal(want) {
			t.Fatalf("gap %d: deletion %s, want %s", gap, x.Ext.DeleteAt, want)
		}
	}
}

// CAN-3: a marketplace P1Y subscription (window 336 h) of 2 licences at
// JPY 1575 a month, +3 after 54 h (3 started days: 4725 × 28 / 31 =
// 4267.7 -> 4268), -1 a day later (that licence held 1 day, 27 back:
// 1575 × 27 / 31 = 1371.8 -> 1372), cancelled inside the window: the
// licences held are refunded what they were charged, 3150 for the 2
// bought with the period and 3150 × 28 / 31 = 2845.2 -> 2845 for the 2
// left of the added 3: 5995. A P1M one cancelled at 24 h is too late.
func TestRule_CAN_3_MarketplaceFullRefundInsideTheWindow(t *testing.T) {
	m, c := customerIn(t, "JP", "JPY")
	s, out, _ := m.BuyMarketplace(c, at("2026-03-03T06:17:00Z"), "O-1", "L1", hub, "P1Y", "monthly", 2)
	wantTypeBills(t, out, 3150)
	wantTypeBills(t, m.ChangeQuantity(s, at("2026-03-05T12:17:00Z"), 5), 4268)
	wantTypeBills(t, m.ChangeQuantity(s, at("2026-03-06T12:17:00Z"), 4), 1372)
	out = m.CancelTyped(s, at("2026-03-16T12:17:00Z"))
	wantTypeBills(t, out, 5995)
	if out.Bills[0].Rule != RuleMarketplaceCancel {
		t.Fatalf("rule %s", out.Bills[0].Rule)
	}
	p, _, _ := m.BuyMarketplace(c, at("2026-03-03T06:17:00Z"), "O-2", "L1", hub, "P1M", "monthly", 7)
	wantRejected(t, m.CancelTyped(p, at("2026-03-04T06:17:00Z")), RejectCancelWindowClosed)
	if got := m.Unavailable(c, "P-1", "FBRKMBACKUP1:0001"); got != RejectExclusive {
		t.Fatalf("exclusive offer: %q", got)
	}
	if got := m.Unavailable(c, "P-1", "NWNDANLYTCS1:0001"); got != RejectNotTransactable {
		t.Fatalf("metered offer: %q", got)
	}
}

// CAN-4 (AUD): perpetual software is refunded in full; a P1Y software
// subscription (365 days) cancelled after 40 d 12 h (41 started days)
// gets 324 days back: 278850 × 324 / 365 = 247527.1 -> 247527; a P3Y one
// billed once (1096 days) at 59 d 18 h gets 1036 back: 2509650 × 1036 /
// 1096 = 2372260.4 -> 2372260, and at 60 days it is too late; Windows 7
// ESU needs a support request.
func TestRule_CAN_4_SoftwareCancellation(t *testing.T) {
	m, c := customerIn(t, "AU", "AUD")
	bought := at("2026-01-05T06:17:00Z")
	p, out, _ := m.BuySoftware(c, bought, "O-1", "L1", winSrv, "perpetual", "one_time", 2)
	wantTypeBills(t, out, 320700)
	y, out, _ := m.BuySoftware(c, bought, "O-2", "L1", sqlSub, "P1Y", "annual", 1)
	wantTypeBills(t, out, 278850)
	t3, out, _ := m.BuySoftware(c, bought, "O-3", "L1", sqlSub, "P3Y", "one_time", 3)
	wantTypeBills(t, out, 2509650)
	e, _, _ := m.BuySoftware(c, bought, "O-4", "L1", win7ESU, "P1Y", "one_time", 3)
	if bills := m.AdvanceTo(c, at("2026-03-06T06:17:00Z")); len(bills) != 0 {
		t.Fatalf("calendar bills %+v", bills)
	}
	wantTypeBills(t, m.CancelSoftware([]*Sub{p}, at("2026-02-14T18:17:00Z")), 320700)
	wantTypeBills(t, m.CancelSoftware([]*Sub{y}, at("2026-02-14T18:17:00Z")), 247527)
	wantRejected(t, m.CancelSoftware([]*Sub{t3}, at("2026-03-06T06:17:00Z")), RejectCancelWindowClosed)
	wantTypeBills(t, m.CancelSoftware([]*Sub{t3}, at("2026-03-06T00:17:00Z")), 2372260)
	wantRejected(t, m.CancelSoftware([]*Sub{e}, at("2026-01-06T00:17:00Z")), RejectSupportRequest)
}
