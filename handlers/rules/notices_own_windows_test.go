package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// Notices of the cancellation windows software and reservations have of
// their own (CAN-4, CAN-5); those of license-based subscriptions and lots
// are notices_test.go.

// CAN-4: one order of perpetual software, a software subscription and a
// plan that cannot be cancelled. The two cancellable items are announced
// 24 hours (the default lead) before the 60 days after the purchase end,
// and when they end, each naming its licenses and the order that
// software.cancel takes; the exception gets no notice, having no window.
// A renewal in between opens no window (CAN-4 counts from the purchase).
func TestRule_CAN_4_SoftwareWindowNotices(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swWinServer, "perpetual", "one_time", 2},
		swLine{swSQL, "P1Y", "annual", 3}, swLine{swSUSE, "P1Y", "one_time", 1})
	closes := t0.Add(60 * day)
	if n := noticeTimers(w, subs[2]); n != 0 {
		t.Fatalf("the plan that cannot be cancelled has %d notice timers", n)
	}

	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes.Add(-24*time.Hour-time.Nanosecond)))))
	closing := eventsOf(w.advance(closes.Add(-24 * time.Hour)))
	wantNotices(t, noticesOf(t, closing),
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "CAN-4", closes, 2, time.Time{}},
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "CAN-4", closes, 3, time.Time{}})
	for _, e := range closing {
		if d := e.Data.(*messages.RefundWindowNoticeEvent); d.OrderID != "O-1" {
			t.Fatalf("%s of %s names order %q, want the software's order O-1", e.Type, d.SubscriptionID, d.OrderID)
		}
	}
	// The notice is true: a nanosecond before closes_at the order can be
	// cancelled (TestRule_CAN_4_SixtyDayWindow), at it the window is gone.
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosed, closes, "CAN-4", closes, 2, time.Time{}},
		notice{messages.EvtRefundWindowClosed, closes, "CAN-4", closes, 3, time.Time{}})
	wantRejected(t, w.admin(closes, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}), CodeCancelWindowClosed, "CAN-4")

	wantNotices(t, noticesOf(t, eventsOf(w.advance(t0.AddDate(1, 0, 2))))) // renewed: no window, no notice
	if s := w.state.Subscriptions[subs[1]]; s.Renewals != 1 {
		t.Fatalf("the software subscription renewed %d times, want 1", s.Renewals)
	}
}

// CAN-4: a cancelled order's items lose their notice timers with their
// other timers (CAN-2): nothing is announced afterwards.
func TestRule_CAN_4_NoNoticesAfterTheOrderIsCancelled(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "one_time", 1})
	wantAccepted(t, w.admin(t0.Add(10*day), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}))
	if n := noticeTimers(w, subs[0]); n != 0 {
		t.Fatalf("%d notice timers after the cancellation", n)
	}
	wantNotices(t, noticesOf(t, eventsOf(w.advance(t0.Add(61*day)))))
}

// CAN-5: a reservation can always be cancelled, but only within its
// full-refund days (5 in the test catalog, every started day counted, the
// last one's final instant included) without the early termination fee.
// That window's end is announced: closes_at is the first instant a
// cancellation pays the fee, and the cancellations on either side of it
// show the notice tells the truth.
func TestRule_CAN_5_FullRefundWindowNotices(t *testing.T) {
	w := rsvWorld(t, "US", "USD")
	s := w.rsvBuy(t0, rsvD2, "P1Y", "one_time", 2)
	closes := t0.Add(5*day + time.Nanosecond)
	closing := closes.Add(-24 * time.Hour)
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closing))),
		notice{messages.EvtRefundWindowClosing, closing, "CAN-5", closes, 2, time.Time{}})
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosed, closes, "CAN-5", closes, 2, time.Time{}})

	for _, tc := range []struct {
		name string
		at   time.Time
		row  string
	}{
		{"CAN-5 at the last instant before closes_at: full refund", closes.Add(-time.Nanosecond), rowFullRefund},
		{"CAN-5 at closes_at: the fee", closes, rowProratedWithFee},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := rsvWorld(t, "US", "USD")
			s := w.rsvBuy(t0, rsvD2, "P1Y", "one_time", 2)
			w.advance(tc.at)
			out := w.rsvDo(rsvRole, tc.at, messages.CmdReservationCancel, rsvCancel(s.ID, false))
			wantAccepted(t, out)
			if c := findEvent[*messages.ReservationCancelledEvent](t, out, messages.EvtReservationCancelled); c.Row != tc.row {
				t.Fatalf("row %s, want %s", c.Row, tc.row)
			}
		})
	}
	if n := noticeTimers(w, s.ID); n != 0 {
		t.Fatalf("%d notice timers left after the window", n)
	}
}

// CAN-5 with CAN-6: an exchange opens no new full-refund window. The old
// reservation's notice timers go with it; the new one is announced at the
// chain's window end, under its own subscription ID. Exchanged after the
// window, the new reservation gets no notice.
func TestRule_CAN_5_ExchangeKeepsTheChainsNoticeWindow(t *testing.T) {
	exchange := func(id string) *messages.ReservationExchangeData {
		qty := 1
		return &messages.ReservationExchangeData{SubscriptionID: id, TargetOfferID: rsvD4, Quantity: &qty, Term: "P3Y", BillingFrequency: "one_time"}
	}
	closes := t0.Add(5*day + time.Nanosecond)

	w := rsvWorld(t, "US", "USD")
	old := w.rsvBuy(t0, rsvD2, "P1Y", "one_time", 2)
	at := t0.Add(2 * day)
	w.advance(at)
	out := w.rsvDo(rsvRole, at, messages.CmdReservationExchange, exchange(old.ID))
	wantAccepted(t, out)
	next := findEvent[*messages.ReservationExchangedEvent](t, out, messages.EvtReservationExchanged).NewSubscriptionID
	if n := noticeTimers(w, old.ID); n != 0 {
		t.Fatalf("the exchanged reservation keeps %d notice timers", n)
	}
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "CAN-5", closes, 1, time.Time{}},
		notice{messages.EvtRefundWindowClosed, closes, "CAN-5", closes, 1, time.Time{}})
	for _, e := range eventsOf(w.advance(closes)) {
		if isNotice(e.Type) {
			t.Fatalf("notice %s again", e.Type)
		}
	}
	if w.state.Subscriptions[next].Reservation.fullRefundUntil() != closes {
		t.Fatalf("the new reservation's window ends %v, want the chain's %v", w.state.Subscriptions[next].Reservation.fullRefundUntil(), closes)
	}

	late := rsvWorld(t, "US", "USD")
	old = late.rsvBuy(t0, rsvD2, "P1Y", "one_time", 2)
	late.advance(closes)
	out = late.rsvDo(rsvRole, closes.Add(time.Hour), messages.CmdReservationExchange, exchange(old.ID))
	wantAccepted(t, out)
	if id := findEvent[*messages.ReservationExchangedEvent](t, out, messages.EvtReservationExchanged).NewSubscriptionID; noticeTimers(late, id) != 0 {
		t.Fatal("a reservation exchanged after the window has notice timers")
	}
}
