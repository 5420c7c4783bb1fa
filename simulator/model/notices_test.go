package model

import (
	"reflect"
	"testing"
	"time"
)

// CAN-1 and QTY-2 notices are checked against these windows: the
// cancellation window covers every licence, each lot's window the
// licences left in it, and only windows closing in the asked span count.
func TestRule_QTY_2_RefundWindowsFollowTheLots(t *testing.T) {
	m, c := newModel(t)
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	s := buy(t, m, c, t0, 10)
	m.ChangeQuantity(s, t0.Add(30*time.Hour), 15) // a lot of 5 until hour 198
	m.ChangeQuantity(s, t0.Add(40*time.Hour), 13) // 2 of it go, newest first
	closes, lotCloses := t0.Add(168*time.Hour), t0.Add(198*time.Hour)
	got := s.RefundWindows(t0, lotCloses)
	want := []RefundWindow{
		{Rule: RuleCancel, Closes: closes, Quantity: 13, Opened: t0, Ends: s.termEndsAt()},
		{Rule: RuleDecrease, Added: t0, Closes: closes, Quantity: 10, Opened: t0, Ends: s.termEndsAt()},
		{Rule: RuleDecrease, Added: t0.Add(30 * time.Hour), Closes: lotCloses, Quantity: 3, Opened: t0.Add(30 * time.Hour), Ends: s.termEndsAt()},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("windows\n got %+v\nwant %+v", got, want)
	}
	if got := s.RefundWindows(closes, lotCloses); len(got) != 1 || got[0].Quantity != 3 {
		t.Fatalf("after the purchase window: %+v, want the lot of 3 only", got)
	}
	m.Cancel(s, t0.Add(50*time.Hour))
	if got := s.RefundWindows(t0, lotCloses); len(got) != 0 {
		t.Fatalf("a cancelled subscription has windows %+v", got)
	}
	if m.NoticeLead() != 24*time.Hour {
		t.Fatalf("lead %v, want the catalog's 24 hours", m.NoticeLead())
	}
}

// CAN-4: a software purchase's window covers every licence, from the
// purchase; software that can never be cancelled has none. CAN-5: a
// reservation's full-refund window ends where the day count passes the
// full-refund days, which is where the credit starts paying the fee; an
// exchanged reservation keeps the chain's end but opened at the exchange.
func TestRule_CAN_4_CAN_5_OwnRefundWindows(t *testing.T) {
	m, c := customerIn(t, "US", "USD")
	bought := at("2026-01-05T06:17:00Z")
	p, _, _ := m.BuySoftware(c, bought, "O-1", "L1", winSrv, "perpetual", "one_time", 2)
	e, _, _ := m.BuySoftware(c, bought, "O-2", "L1", win7ESU, "P1Y", "one_time", 3)
	p.ID, e.ID = "S-P", "S-E"
	until := bought.Add(60 * 24 * time.Hour)
	want := []RefundWindow{{Rule: RuleSoftwareCancel, Closes: until, Quantity: 2, Opened: bought}}
	if got := p.RefundWindows(bought, until); !reflect.DeepEqual(got, want) {
		t.Fatalf("perpetual software windows\n got %+v\nwant %+v", got, want)
	}
	if got := e.RefundWindows(bought, until.AddDate(1, 0, 0)); len(got) != 0 {
		t.Fatalf("software that needs a support request has windows %+v", got)
	}

	unit, _ := m.Price(resD2, "P1Y", "one_time", "USD")
	r := resBuy(t, m, c, bought, resD2, "P1Y", "one_time", 2, 2*unit)
	ends := r.FullRefundEnds()
	if !r.WithinFullRefundDays(ends.Add(-time.Nanosecond)) || r.WithinFullRefundDays(ends) {
		t.Fatalf("full-refund days end at %v, but the day count says otherwise", ends)
	}
	if got := r.RefundWindows(bought, ends); len(got) != 1 || got[0].Rule != RuleReservationCancel || !got[0].Closes.Equal(ends) ||
		got[0].Quantity != 2 || !got[0].Opened.Equal(bought) {
		t.Fatalf("reservation windows %+v", got)
	}
	exchanged := bought.Add(48 * time.Hour)
	n, _, err := m.ExchangeReservation(c, r, exchanged, resD2, "P1Y", "one_time", 1, "admin_agent")
	if err != nil {
		t.Fatal(err)
	}
	if got := n.RefundWindows(bought, ends); len(got) != 1 || !got[0].Closes.Equal(ends) || !got[0].Opened.Equal(exchanged) || got[0].Quantity != 1 {
		t.Fatalf("exchanged reservation windows %+v", got)
	}
	if got := r.RefundWindows(bought, ends); len(got) != 0 {
		t.Fatalf("the exchanged-from reservation keeps windows %+v", got)
	}
}
