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
		{Closes: closes, Quantity: 13},
		{Lot: true, Added: t0, Closes: closes, Quantity: 10},
		{Lot: true, Added: t0.Add(30 * time.Hour), Closes: lotCloses, Quantity: 3},
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
