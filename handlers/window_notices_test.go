package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// CAN-1 and QTY-2 over NATS and Redis with the simulated clock: a
// purchase plans its window notices as durable timers; moving the clock
// past the lead before the window's end delivers the closing notices,
// past the end the closed ones, each once, in that order, to the
// subscription's partner, with the licenses of that moment (3 bought, 2
// added at hour 2 and 1 of those removed: the purchase lot keeps 3, the
// newer lot 1).
func TestRule_QTY_2_WindowNoticesArriveInOrderWhenTheClockMoves(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock := &simulator.Clock{NC: e.nc}
	bought := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	now := bought
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)

	const cust = "C-NOTICE"
	e.createCustomer(partnerA, cust)
	qty := 3
	evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-N", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerPremium, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}}))
	res := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent)
	if res.Status != messages.OrderCompleted {
		t.Fatalf("order %s: %+v", res.Status, res.Lines)
	}
	sub := res.Lines[0].SubscriptionID
	for _, step := range []struct {
		at time.Duration
		q  int
	}{{2 * time.Hour, 5}, {3 * time.Hour, 4}} {
		now = bought.Add(step.at)
		q := step.q
		if got := e.await(e.send(partnerA, cust, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: &q})); got[0].Type != messages.EvtQuantityChanged {
			t.Fatalf("quantity %d: %v", q, types(got))
		}
	}

	closes := bought.Add(168 * time.Hour)
	notices := func(evs []messages.Event) []messages.Event {
		var out []messages.Event
		for _, ev := range evs {
			if ev.CustomerID == cust && isWindowNotice(ev) {
				out = append(out, ev)
			}
		}
		return out
	}
	wait := func(n int) []messages.Event {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(notices(evs)) >= n }); err != nil {
			t.Fatalf("%d notices, want %d: %v", len(notices(e.events.Events())), n, err)
		}
		return notices(e.events.Events())
	}

	now = closes.Add(-24*time.Hour - time.Second)
	e.advance(clock, now)
	if got := notices(e.events.Events()); len(got) != 0 {
		t.Fatalf("notices before the lead: %v", types(got))
	}
	now = closes.Add(-24 * time.Hour)
	e.advance(clock, now)
	wait(2)
	now = closes
	e.advance(clock, now)
	got := wait(5)

	// The lot added at hour 2 (1 license left) closes 2 hours later.
	want := []struct {
		typ    messages.EventType
		at     time.Time
		window string
		qty    int
		closes time.Time
		added  time.Time
	}{
		{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), messages.WindowCancel, 4, closes, time.Time{}},
		{messages.EvtRefundWindowClosing, closes.Add(-24 * time.Hour), messages.WindowLotReduction, 3, closes, bought},
		{messages.EvtRefundWindowClosing, closes.Add(-22 * time.Hour), messages.WindowLotReduction, 1, closes.Add(2 * time.Hour), bought.Add(2 * time.Hour)},
		{messages.EvtRefundWindowClosed, closes, messages.WindowCancel, 4, closes, time.Time{}},
		{messages.EvtRefundWindowClosed, closes, messages.WindowLotReduction, 3, closes, bought},
	}
	if len(got) != len(want) {
		t.Fatalf("notices %v, want %d", types(got), len(want))
	}
	for i, w := range want {
		ev := got[i]
		d := ev.Data.(*messages.RefundWindowNoticeEvent)
		if ev.Type != w.typ || !ev.OccurredAt.Equal(w.at) || ev.PartnerID != partnerA || ev.CommandType != messages.CmdTimerFired ||
			d.SubscriptionID != sub || d.Window != w.window || d.Quantity != w.qty || !d.ClosesAt.Equal(w.closes) {
			t.Fatalf("notice %d: %s at %v to %s (%s) %+v, want %s at %v of %s with %d licenses",
				i, ev.Type, ev.OccurredAt, ev.PartnerID, ev.CommandType, d, w.typ, w.at, w.window, w.qty)
		}
		if w.window == messages.WindowLotReduction && (d.LotAddedAt == nil || !d.LotAddedAt.Equal(w.added)) {
			t.Fatalf("notice %d names the lot added %v, want %v", i, d.LotAddedAt, w.added)
		}
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatalf("conflicting redeliveries: %v", c)
	}
}

// isWindowNotice tells the window notices apart: tests of other timers
// whose clock passes a refund window leave them out.
func isWindowNotice(ev messages.Event) bool {
	return ev.Type == messages.EvtRefundWindowClosing || ev.Type == messages.EvtRefundWindowClosed
}
