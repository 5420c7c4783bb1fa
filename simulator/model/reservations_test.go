package model

import (
	"testing"
	"time"
)

// Reservations' amounts worked by hand from the default catalog's prices
// (D2s v5, D4s v5: P1Y/P3Y, one_time or monthly; 120 full-refund hours =
// 5 days; fee 12 %; cap USD 50,000 over 365 days; GBP counts 1.27 USD,
// JPY 0.0067 USD).

const (
	resD2 = "DZH318Z0BQ3Q:0001"
	resD4 = "DZH318Z0BQ3Q:0002"
)

func resAt(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func resCustomer(t *testing.T, country, currency string) (*Model, *Customer) {
	t.Helper()
	m, c := newModel(t)
	c.Country, c.Currency = country, currency
	return m, c
}

func resBuy(t *testing.T, m *Model, c *Customer, when time.Time, offer, term, freq string, qty int, want int64) *Sub {
	t.Helper()
	s, out, err := m.BuyReservation(c, when, "O-1", "L1", offer, term, freq, qty, "admin_agent")
	if err != nil {
		t.Fatal(err)
	}
	if out.Rejected != "" || len(out.Bills) != 1 || out.Bills[0].Kind != Charge || out.Bills[0].Amount != want || out.Bills[0].Rule != RulePurchase {
		t.Fatalf("purchase %+v, want one ORD-14 charge of %d", out, want)
	}
	s.ID = "S-" + when.Format("150405")
	return s
}

func wantBill(t *testing.T, out Outcome, kind Kind, reason, rule string, amount int64) {
	t.Helper()
	if out.Rejected != "" || len(out.Bills) != 1 {
		t.Fatalf("outcome %+v, want one %s", out, kind)
	}
	if b := out.Bills[0]; b.Kind != kind || b.Reason != reason || b.Rule != rule || b.Amount != amount {
		t.Fatalf("bill %+v, want %s %s %s of %d", b, kind, reason, rule, amount)
	}
}

// CAN-5 within the full-refund days: 1 × D2s P1Y monthly (GBP 33.18 a
// month) bought 2026-03-10 06:17, cancelled used on 2026-03-13 12:17 (day
// 4 of 5): the period 03-10..04-09 has 31 days, 4 started, 27 unused:
// 3318 × 27 / 31 = 2889.87 → 2890, no fee. Unused, the same day: 100 %.
// It counts 2890 × 1.27 = 3670.3 → 3671 USD cents against the cap.
func TestRule_CAN_5_WithinTheFullRefundDaysUsedIsProratedUnusedIsWhole(t *testing.T) {
	m, c := resCustomer(t, "GB", "GBP")
	used := resBuy(t, m, c, resAt("2026-03-10T06:17:00Z"), resD2, "P1Y", "monthly", 1, 3318)
	unused := resBuy(t, m, c, resAt("2026-03-10T06:17:00Z"), resD2, "P1Y", "monthly", 1, 3318)
	wantBill(t, m.CancelReservation(c, used, resAt("2026-03-13T12:17:00Z"), true, "sales_agent"), Credit, ReasonCancellation, "CAN-5", 2890)
	wantBill(t, m.CancelReservation(c, unused, resAt("2026-03-13T12:17:00Z"), false, "global_admin"), Credit, ReasonCancellation, "CAN-5", 3318)
	if h := m.CapHeadroom(c, resAt("2026-03-13T12:17:00Z")); h != 5_000_000-3671-4214 { // 3318 × 1.27 = 4213.86 → 4214
		t.Fatalf("headroom %d", h)
	}
	if used.Status != Cancelled || unused.Status != Cancelled {
		t.Fatal("not cancelled")
	}
}

// CAN-5 after the full-refund days: 2 × D4s P3Y one_time (JPY 324,000
// each) bought 2026-03-10 00:17, cancelled unused 2026-04-20 18:17 (42
// started days): 1096 days, 1054 unused: 648000 × 1054 / 1096 =
// 623167.88, less 12 %: 548387.74 → 548388 (rounded once: the balance
// rounded, 623168, less its fee rounded, 74780.16 → 74780, gives the same
// here). Counted: 548388 × 0.67 = 367419.96 → 367420.
func TestRule_CAN_5_AfterTheFullRefundDaysLessTheFee(t *testing.T) {
	m, c := resCustomer(t, "JP", "JPY")
	s := resBuy(t, m, c, resAt("2026-03-10T00:17:00Z"), resD4, "P3Y", "one_time", 2, 648000)
	wantBill(t, m.CancelReservation(c, s, resAt("2026-04-20T18:17:00Z"), false, "admin_agent"), Credit, ReasonCancellation, "CAN-5", 548388)
	if h := m.CapHeadroom(c, resAt("2026-04-20T18:17:00Z")); h != 5_000_000-367420 {
		t.Fatalf("headroom %d", h)
	}
}

// CAN-5's cap: 30 × D4s P3Y one_time (USD 64,800) cancelled unused the
// next day would refund 6,480,000 > 5,000,000: rejected with the whole
// cap as headroom, nothing changes. 23 more at the same time (4,968,000)
// pass; the 30 are still rejected (headroom 32,000), and 365 days after
// that refund it no longer counts.
func TestRule_CAN_5_RefundCapRejectsAndStatesTheHeadroom(t *testing.T) {
	m, c := resCustomer(t, "US", "USD")
	large := resBuy(t, m, c, resAt("2026-03-10T06:17:00Z"), resD4, "P3Y", "one_time", 30, 6_480_000)
	out := m.CancelReservation(c, large, resAt("2026-03-11T06:17:00Z"), false, "admin_agent")
	if out.Rejected != RejectRefundCapExceeded || out.RejectData["headroom_minor"] != "5000000" || large.Status != Active {
		t.Fatalf("%+v", out)
	}
	small := resBuy(t, m, c, resAt("2026-03-10T06:17:00Z"), resD4, "P3Y", "one_time", 23, 4_968_000)
	wantBill(t, m.CancelReservation(c, small, resAt("2026-03-11T06:17:00Z"), false, "admin_agent"), Credit, ReasonCancellation, "CAN-5", 4_968_000)
	if out := m.CancelReservation(c, large, resAt("2026-03-12T06:17:00Z"), false, "admin_agent"); out.RejectData["headroom_minor"] != "32000" {
		t.Fatalf("%+v", out)
	}
	if h := m.CapHeadroom(c, resAt("2027-03-11T06:17:00Z")); h != 5_000_000 {
		t.Fatalf("headroom a window later %d", h)
	}
}

// CAN-6 then a cancellation: 1 × D4s P1Y one_time (USD 1,008.00) bought
// 2026-03-10 06:17, exchanged 2026-03-20 00:17 (10 started days) for 1 ×
// D2s P1Y monthly (USD 42.00 a month): refund 100800 × 355 / 365 =
// 98038.36 → 98038; the new term costs 12 × 4200 = 50400, all of it
// applied (4200 the first month, 46200 prepaid), so nothing is charged;
// 98038.36 − 50400 = 47638.36 leaves the chain after its 5 full-refund
// days: × 0.88 = 41921.75 → credit 41922. The month from 2026-04-20 is
// paid from the prepaid part: charge 0, 42000 left. Cancelled used
// 2026-05-01 12:17: period 04-20..05-19 (30 days), 12 started: 4200 × 18
// / 30 = 2520, plus 42000 prepaid = 44520, day 53 of the chain: × 0.88 =
// 39177.6 → 39178.
func TestRule_CAN_6_ExchangeIntoAMonthlyPlanThenCancel(t *testing.T) {
	m, c := resCustomer(t, "US", "USD")
	old := resBuy(t, m, c, resAt("2026-03-10T06:17:00Z"), resD4, "P1Y", "one_time", 1, 100800)
	n, out, err := m.ExchangeReservation(c, old, resAt("2026-03-20T00:17:00Z"), resD2, "P1Y", "monthly", 1, "helpdesk_agent")
	if err != nil {
		t.Fatal(err)
	}
	wantBill(t, out, Credit, ReasonReservationExchange, "CAN-6", 41922)
	if out.Bills[0].Sub != n || n.Res.Prepaid != 46200 || old.Status != Cancelled || n.Res.First != old.Res.First {
		t.Fatalf("new %+v", n.Res)
	}
	n.ID = "S-new"
	bills := m.AdvanceTo(c, resAt("2026-05-01T12:17:00Z"))
	if len(bills) != 1 || bills[0].Amount != 0 || bills[0].Rule != RulePeriod || n.Res.Prepaid != 42000 {
		t.Fatalf("period bills %+v, prepaid %d", bills, n.Res.Prepaid)
	}
	wantBill(t, m.CancelReservation(c, n, resAt("2026-05-01T12:17:00Z"), true, "user_management_admin"), Credit, ReasonCancellation, "CAN-5", 39178)
}

// CAN-6 to a dearer reservation: 2 × D2s P1Y one_time (USD 1,008.00)
// bought 2026-03-10 06:17, exchanged 2026-04-09 08:17 (31 started days)
// for 1 × D4s P3Y one_time (USD 2,160.00): refund 100800 × 334 / 365 =
// 92239.45 → 92239, all applied; charged 216000 − 92239 = 123761.
func TestRule_CAN_6_ExchangeToADearerReservationChargesTheDifference(t *testing.T) {
	m, c := resCustomer(t, "US", "USD")
	old := resBuy(t, m, c, resAt("2026-03-10T06:17:00Z"), resD2, "P1Y", "one_time", 2, 100800)
	n, out, err := m.ExchangeReservation(c, old, resAt("2026-04-09T08:17:00Z"), resD4, "P3Y", "one_time", 1, "admin_agent")
	if err != nil {
		t.Fatal(err)
	}
	wantBill(t, out, Charge, ReasonReservationExchange, "CAN-6", 123761)
	if n.Res.Prepaid != 0 || len(c.Refunds) != 0 {
		t.Fatalf("prepaid %d refunds %v", n.Res.Prepaid, c.Refunds)
	}
}

// ORD-5 and ROL-1: no reservation in an unavailable market (Réunion);
// a billing admin may place orders but not buy reservations.
func TestRule_ORD_5_UnavailableMarketAndROL_1_Roles(t *testing.T) {
	m, c := resCustomer(t, "RE", "EUR")
	if _, out, err := m.BuyReservation(c, resAt("2026-03-10T06:17:00Z"), "O-1", "L1", resD2, "P1Y", "monthly", 1, "admin_agent"); err != nil || out.Rejected != RejectReservationMarket {
		t.Fatalf("%+v %v", out, err)
	}
	m, c = resCustomer(t, "US", "USD")
	if _, out, err := m.BuyReservation(c, resAt("2026-03-10T06:17:00Z"), "O-1", "L1", resD2, "P1Y", "monthly", 1, "billing_admin"); err != nil || out.Rejected != RejectForbidden {
		t.Fatalf("%+v %v", out, err)
	}
	if len(c.Subs) != 0 {
		t.Fatal("a rejected order made a subscription")
	}
}
