package rules

import (
	"reflect"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// notice is what a test expects of one window notice.
type notice struct {
	typ      messages.EventType
	at       time.Time // when it is emitted
	window   string
	closes   time.Time
	quantity int
	lotAdded time.Time // QTY-2 only
}

func noticesOf(t *testing.T, evs []EventDraft) []notice {
	t.Helper()
	var out []notice
	for _, e := range evs {
		if !isNotice(e.Type) {
			continue
		}
		d := e.Data.(*messages.RefundWindowNoticeEvent)
		if e.PartnerID != partnerA {
			t.Errorf("%s sent to %q, want the subscription's partner", e.Type, e.PartnerID)
		}
		n := notice{typ: e.Type, at: e.At, window: d.Window, closes: d.ClosesAt, quantity: d.Quantity}
		if d.LotAddedAt != nil {
			n.lotAdded = *d.LotAddedAt
		}
		out = append(out, n)
	}
	return out
}

func wantNotices(t *testing.T, got []notice, want ...notice) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("notices\n got %+v\nwant %+v", got, want)
	}
}

func noticeTimers(w *world, id string) int {
	n := 0
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == id && (tm.Kind == TimerWindowClosing || tm.Kind == TimerWindowClosed) {
			n++
		}
	}
	return n
}

// QTY-2 and CAN-1: bought at t0 (10 licenses), 2 more at hour 100. The
// purchase's cancellation window and first lot close at hour 168, the
// second lot at hour 268; each is announced 24 hours before (the
// default lead) and when it closes, with the licenses it holds then.
// Reducing the newest lot to nothing leaves its timers without a window:
// they fire and say nothing.
func TestRule_QTY_2_WindowClosingNoticeForEveryLot(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	if n := noticeTimers(w, id); n != 2 {
		t.Fatalf("purchase set %d notice timers, want 2 (closing and closed of one instant)", n)
	}
	added := t0.Add(100 * time.Hour)
	changeQty(t, w, added, id, 12)
	if n := noticeTimers(w, id); n != 4 {
		t.Fatalf("increase left %d notice timers, want 4", n)
	}
	closes, lotCloses := t0.Add(168*time.Hour), added.Add(168*time.Hour)

	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes.Add(-24*time.Hour-time.Nanosecond)))))
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes.Add(-24*time.Hour)))),
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "CAN-1", closes, 12, time.Time{}},
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "QTY-2", closes, 10, t0})

	// One license of the newest lot goes: the purchase lot keeps 10.
	changeQty(t, w, closes.Add(-time.Hour), id, 11)
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosed, closes, "CAN-1", closes, 11, time.Time{}},
		notice{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 10, t0})
	if r := ReducibleQuantity(w.state.Subscriptions[id], closes); r.Total != 1 {
		t.Fatalf("after the purchase window %d reducible, want the newer lot's 1", r.Total)
	}
	wantNotices(t, noticesOf(t, eventsOf(w.advance(lotCloses.Add(-24*time.Hour)))),
		notice{messages.EvtRefundWindowClosing, lotCloses.Add(-24 * time.Hour), "QTY-2", lotCloses, 1, added})

	// The lot's last license goes before its window closes: no closed notice.
	changeQty(t, w, lotCloses.Add(-time.Hour), id, 10)
	outs := w.advance(lotCloses)
	if len(outs) != 1 {
		t.Fatalf("%d timers fired at the lot's end, want its closed timer", len(outs))
	}
	wantNotices(t, noticesOf(t, eventsOf(outs)))
	if n := noticeTimers(w, id); n != 0 {
		t.Fatalf("%d notice timers left", n)
	}
}

// CAN-1: a renewal opens a new window with its own notices, counted from
// when the renewal completed; every license of the new term is one lot.
func TestRule_CAN_1_WindowNoticesAgainAfterRenewal(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 3)
	renewal := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	w.advance(renewal)
	if s := w.state.Subscriptions[id]; s.Renewals != 1 || !s.CancellableUntil.Equal(renewal.Add(168*time.Hour)) {
		t.Fatalf("renewal: %d renewals, window until %v", s.Renewals, s.CancellableUntil)
	}
	closes := renewal.Add(168 * time.Hour)
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "CAN-1", closes, 3, time.Time{}},
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "QTY-2", closes, 3, renewal},
		notice{messages.EvtRefundWindowClosed, closes, "CAN-1", closes, 3, time.Time{}},
		notice{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 3, renewal})
}

// CAN-1: a cancelled subscription's notice timers are deleted with its
// other timers; nothing is announced afterwards.
func TestRule_CAN_1_NoNoticesAfterCancellation(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	wantAccepted(t, w.do(partnerA, t0.Add(150*time.Hour), messages.CmdSubscriptionCancel, cancelOf(id)))
	if n := noticeTimers(w, id); n != 0 {
		t.Fatalf("%d notice timers after the cancellation", n)
	}
	wantNotices(t, noticesOf(t, eventsOf(w.advance(t0.AddDate(0, 1, 0)))))
}

// CAN-1: the lead is catalog policy. 48 hours moves the closing notice;
// 0 sends only the closed one. The default lead is 24 hours.
func TestRule_CAN_1_NoticeLeadIsPolicy(t *testing.T) {
	closes := t0.Add(168 * time.Hour)
	for _, tc := range []struct {
		name string
		lead *int
		want []notice
	}{
		{"48 hours", intp(48), []notice{
			{messages.EvtRefundWindowClosing, closes.Add(-48 * time.Hour), "CAN-1", closes, 4, time.Time{}},
			{messages.EvtRefundWindowClosing, closes.Add(-48 * time.Hour), "QTY-2", closes, 4, t0},
			{messages.EvtRefundWindowClosed, closes, "CAN-1", closes, 4, time.Time{}},
			{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 4, t0}}},
		{"0: closed only", intp(0), []notice{
			{messages.EvtRefundWindowClosed, closes, "CAN-1", closes, 4, time.Time{}},
			{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 4, t0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.cat.Policy.RefundWindowNoticeLeadHours = tc.lead
			w.createCustomer("commercial", "USD")
			w.buy(t0, offerBasic, "P1Y", "annual", 4)
			wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))), tc.want...)
		})
	}
}

// CAN-3: a marketplace monthly term's window (24 hours in the test
// catalog's policy) is no longer than the lead: its closing notice would
// be due at the purchase, so only the closed one is sent, for the
// cancellation window and the purchase lot.
func TestRule_CAN_3_ShortWindowGetsOnlyTheClosedNotice(t *testing.T) {
	w := mpWorld(t)
	w.createCustomer("commercial", "USD")
	_, line := mpOrder(w, partnerA, t0, offerHub, "P1M", "monthly", intp(2))
	s := w.state.Subscriptions[line.SubscriptionID]
	closes := s.CancellableUntil
	if lead := closes.Sub(t0); lead > 24*time.Hour {
		t.Fatalf("the test needs a window of at most the lead, got %v", lead)
	}
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosed, closes, "CAN-3", closes, 2, time.Time{}},
		notice{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 2, t0})
}

// CAN-1, QTY-2: timer IDs come from the subscription, the kind and the due
// instant only, so a redelivered purchase decided again plans the same
// notice timers; trials and usage-based subscriptions have no refund
// window to announce.
func TestRule_CAN_1_NoticeTimersAreDeterministic(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	in := Input{Command: messages.Command{ID: "order-1", Type: messages.CmdOrderPlaced, SchemaVersion: 1, CustomerID: customer1,
		Data: &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: intp(3), Term: "P1Y", BillingFrequency: "annual"},
			{LineID: "L2", OfferID: offerAzure, Term: "P1M", BillingFrequency: "monthly"}}}},
		PartnerID: partnerA, Now: t0, State: w.state, Catalog: w.cat}
	ids := func(out Outcome) []string {
		var got []string
		for _, tm := range out.TimersSet {
			if tm.Kind == TimerWindowClosing || tm.Kind == TimerWindowClosed {
				got = append(got, tm.ID)
			}
		}
		return got
	}
	a, b := ids(Decide(in)), ids(Decide(in))
	sub := messages.DerivedID("sub", customer1, "order-1", 0)
	want := []string{timerID(TimerWindowClosing, sub, t0.Add(144*time.Hour)), timerID(TimerWindowClosed, sub, t0.Add(168*time.Hour))}
	if !reflect.DeepEqual(a, want) || !reflect.DeepEqual(b, want) {
		t.Fatalf("notice timers %v then %v, want %v (none for the usage-based line)", a, b, want)
	}
}

// QTY-2: an increase parked during a renewal (REN-4) applies when the
// renewal completes, at the same instant as the renewal's own lot: the
// partner hears of one lot with both counts.
func TestRule_QTY_2_LotsAddedTogetherGetOneNotice(t *testing.T) {
	w, id, start := renewingWorld(t, 120)
	out := w.do(partnerA, start.Add(10*time.Minute), messages.CmdQuantityChange, qtyOf(id, 6))
	if len(out.Events) != 1 || out.Events[0].Type != messages.EvtCommandDeferred {
		t.Fatalf("increase during the renewal: %v", eventTypes(out))
	}
	completed := start.Add(30 * time.Minute)
	w.advance(completed)
	if s := w.state.Subscriptions[id]; s.Quantity != 6 || len(s.Lots) != 2 {
		t.Fatalf("after the renewal: %d licenses in lots %+v", s.Quantity, s.Lots)
	}
	closes := completed.Add(168 * time.Hour)
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "CAN-1", closes, 6, time.Time{}},
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "QTY-2", closes, 6, completed},
		notice{messages.EvtRefundWindowClosed, closes, "CAN-1", closes, 6, time.Time{}},
		notice{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 6, completed})
}

// QTY-2 with TRI-5: a trial converted into an existing subscription adds
// its 25 licenses as a lot with a window of its own, announced like an
// increase's; the target's purchase window has closed by then.
func TestRule_QTY_2_TrialConversionIntoExistingLotGetsNotices(t *testing.T) {
	w := taWorld(t)
	target := w.buy(t0, taPremium, "P1Y", "annual", 10)
	trial := taBuyTrial(w, t0.Add(time.Hour))
	at := t0.Add(10 * 24 * time.Hour)
	w.advance(at)
	wantAccepted(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target}))
	closes := at.Add(168 * time.Hour)
	wantNotices(t, noticesOf(t, eventsOf(w.advance(closes))),
		notice{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), "QTY-2", closes, 25, at},
		notice{messages.EvtRefundWindowClosed, closes, "QTY-2", closes, 25, at})
}
