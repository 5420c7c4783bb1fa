package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// G7 and SUS-2 over NATS and Redis: a legacy subscription suspended,
// reactivated and suspended again within one second has two data deletion
// timers due within the same second. The first one's index entry outlives
// its timer (reactivation deletes the timer, not the entry) and fires a
// no-op; the live timer must still fire afterwards and delete the data.
func TestG7_LegacySuspendReactivateSuspendWithinOneSecondStillDeletesData(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock := &simulator.Clock{NC: e.nc}
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)

	const cust = "C-LEGACY"
	e.createCustomer(partnerA, cust)
	qty := 2
	evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-L", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: "LEGACYO365E3:0001", Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}}))
	res := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent)
	if res.Status != messages.OrderCompleted {
		t.Fatalf("order %s: %+v", res.Status, res.Lines)
	}
	sub := res.Lines[0].SubscriptionID

	var deletion time.Time
	for i, step := range []struct {
		at   time.Duration
		typ  messages.CommandType
		data any
	}{
		{100 * time.Millisecond, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: messages.ReasonNonPayment}},
		{300 * time.Millisecond, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: sub}},
		{600 * time.Millisecond, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: messages.ReasonNonPayment}},
	} {
		now = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC).Add(step.at)
		got := e.await(e.send(partnerA, cust, step.typ, step.data))
		if got[0].Type == messages.EvtCommandRejected {
			t.Fatalf("step %d (%s) rejected: %+v", i, step.typ, got[0].Data)
		}
		if ev, ok := got[0].Data.(*messages.SubscriptionSuspendedEvent); ok {
			deletion = ev.DataDeletionAt
		}
	}
	if want := now.Add(90 * 24 * time.Hour); !deletion.Equal(want) {
		t.Fatalf("data deletion at %v, want %v", deletion, want)
	}

	now = deletion.Add(time.Hour)
	e.advance(clock, now)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	expired := func(evs []messages.Event) []messages.Event {
		var out []messages.Event
		for _, ev := range evs {
			if ev.CustomerID == cust && ev.Type == messages.EvtSubscriptionExpired {
				out = append(out, ev)
			}
		}
		return out
	}
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(expired(evs)) > 0 }); err != nil {
		t.Fatalf("the data deletion timer never fired: %v", err)
	}
	got := expired(e.events.Events())
	ev := got[0].Data.(*messages.SubscriptionExpiredEvent)
	if len(got) != 1 || ev.Reason != messages.ExpiredLegacyDataDeleted || !ev.DataDeleted || !got[0].OccurredAt.Equal(deletion) {
		t.Fatalf("expired %d times: %+v at %v", len(got), ev, got[0].OccurredAt)
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c)
	}
}

// G7 and CAN-1 over NATS and Redis: a P1M subscription's term ended at
// 00:00 and the scheduler has not fired its renewal (the clock was not
// moved) when a cancel stamped 02:00 arrives. The renewal is applied first,
// starting at 00:00 and completing after the catalog's processing time, with the events its own timer.fired would have had, and the
// cancel gets the renewed term's credit. When the scheduler then fires
// the timer, nothing more happens: one renewal, one charge.
func TestG7_OverdueRenewalFiresBeforeTheCommandAndOnceOnly(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock := &simulator.Clock{NC: e.nc}
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)

	const cust = "C-LAG"
	e.createCustomer(partnerA, cust)
	qty := 3
	evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-LAG", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1M", BillingFrequency: "monthly"}}}))
	sub := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID

	renewal := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC) // term end 2026-04-09
	now = renewal.Add(2 * time.Hour)                        // the clock stays at 03-10: the timer has not fired
	cmd := e.send(partnerA, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var cancelEvs []messages.Event
	// The command's inbox record counts the renewal's events too (they
	// are in its commit), so e.await would wait for four: wait for its own.
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
		cancelEvs = cancelEvs[:0]
		for _, ev := range evs {
			if ev.CommandID == cmd.ID && ev.CustomerID == cust {
				cancelEvs = append(cancelEvs, ev)
			}
		}
		return len(cancelEvs) >= 2 || len(ofType(cancelEvs, messages.EvtCommandRejected)) > 0
	}); err != nil {
		t.Fatal(err)
	}
	if got := types(cancelEvs); len(got) != 2 || got[0] != messages.EvtBillingCredit || got[1] != messages.EvtSubscriptionCancelled {
		t.Fatalf("cancel after the overdue renewal: %v %+v", got, cancelEvs[0].Data)
	}
	e.advance(clock, now.Add(time.Hour))
	fromTimer := func(evs []messages.Event) []messages.Event {
		var out []messages.Event
		for _, ev := range evs {
			if ev.CustomerID == cust && ev.CommandType == messages.CmdTimerFired && !isWindowNotice(ev) {
				out = append(out, ev)
			}
		}
		return out
	}
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(fromTimer(evs)) >= 2 }); err != nil {
		t.Fatal(err)
	}
	got := fromTimer(e.events.Events())
	if len(got) != 2 || got[0].Type != messages.EvtSubscriptionRenewed || got[1].Type != messages.EvtBillingCharge ||
		!got[0].OccurredAt.Equal(renewal.Add(e.cat.Policy.RenewalProcessing())) || got[0].ID != messages.EventID(cust, got[0].CommandID, 0) {
		t.Fatalf("timer events %v: %+v", types(got), got[0])
	}
	credit := ofType(cancelEvs, messages.EvtBillingCredit)[0].Data.(*messages.BillingEvent)
	if charge := got[1].Data.(*messages.BillingEvent); charge.AmountMinor != 3*720 || credit.AmountMinor != halfUp(3*720, 29, 30) {
		t.Fatalf("renewal charge %d, credit %d", charge.AmountMinor, credit.AmountMinor)
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c)
	}
}
