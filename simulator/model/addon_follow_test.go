package model

import (
	"testing"
)

// coterminousOn buys 10 annual Business Basic licences on 2026-03-10 at
// 14:00 and, a day later, 10 co-terminous Exchange Online Archiving
// licences on them (USD 36.00 a year).
func coterminousOn(t *testing.T) (*Model, *Customer, *Sub, *Sub) {
	t.Helper()
	m, c := customerIn(t, "US", "USD")
	base, _, _ := m.Buy(c, at("2026-03-10T14:00:00Z"), "O-1", "L1", basic, "P1Y", "annual", 10)
	base.ID = "S-1"
	a, out, err := m.BuyCoterminous(c, at("2026-03-11T14:00:00Z"), "O-2", "L1", coterm, 10, base)
	if err != nil {
		t.Fatal(err)
	}
	a.ID = "S-2"
	// 364 of the period's 365 days: 36000 × 364 / 365 = 35901.37.
	wantTypeBills(t, out, 35901)
	return m, c, base, a
}

func TestRule_ORD_9_AddonCancelledWithItsBaseGivesBackItsOwnDays(t *testing.T) {
	m, _, base, a := coterminousOn(t)
	// Two days after the base's purchase: the base used 2 of 365 days,
	// 72000 × 363 / 365 = 71605.48; the add-on paid 364 days and used 1:
	// it gives back 363 days at 36000 / 365, 35802.74.
	out := m.Cancel(base, at("2026-03-12T14:00:00Z"))
	wantTypeBills(t, out, 71605, 35803)
	if out.Bills[1].Sub != a || a.Status != Cancelled {
		t.Fatalf("add-on %s, second bill on %s", a.Status, out.Bills[1].Sub)
	}
}

func TestRule_ORD_9_AddonRenewsWithItsBaseOnTheBasesNewPlan(t *testing.T) {
	m, c, base, a := coterminousOn(t)
	base.Scheduled = &Schedule{Freq: "monthly"}
	bills := m.AdvanceTo(c, at("2027-03-10T00:00:00Z"))
	if len(bills) != 0 || !a.Renewing() || !base.Renewing() {
		t.Fatalf("pending: bills %v, add-on renewing %v", bills, a.Renewing())
	}
	bills = m.AdvanceTo(c, at("2027-03-10T01:00:00Z"))
	// The first month of the new terms: 10 × 6.30 and 10 × 3.15.
	if len(bills) != 2 || bills[0].Sub != base || bills[0].Amount != 6300 || bills[1].Sub != a || bills[1].Amount != 3150 ||
		a.Freq != "monthly" || !a.TermEnd.Equal(base.TermEnd) {
		t.Fatalf("renewal bills %+v, add-on %s %s", bills, a.Freq, a.TermEnd)
	}
}

func TestRule_ORD_9_AddonExpiresWithItsBase(t *testing.T) {
	m, c, base, a := coterminousOn(t)
	m.SetAutoRenew(base, false)
	if bills := m.AdvanceTo(c, at("2027-03-11T00:00:00Z")); len(bills) != 0 || base.Status != Expired || a.Status != Expired {
		t.Fatalf("bills %v, base %s, add-on %s", bills, base.Status, a.Status)
	}
}
