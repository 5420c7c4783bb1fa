package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// REN-4 over NATS and Redis, with one partition so that every customer
// shares it: a quantity change 10 minutes into a renewal's processing is
// parked; its first retry, 60 s later while the renewal is still pending,
// commits (the parked list is stored, never both set and deleted) and keeps
// it parked; the renewal then completes and applies it once, with its own
// charge; and a command for another customer of the partition is applied
// afterwards (the partition does not stall).
func TestRule_REN_4_ParkedQuantityChangeEndToEndDoesNotStallThePartition(t *testing.T) {
	e := newEnv(t, 1)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock := &simulator.Clock{NC: e.nc}
	o, _ := e.cat.Offer(offerBasic)
	plan, ok := o.Plan("P1M", "monthly")
	if !ok || e.cat.Policy.RenewalProcessingMinutes != 30 || e.cat.Policy.ConflictRetryInitialSeconds != 60 {
		t.Fatalf("the catalog changed: plan %v, policy %+v", ok, e.cat.Policy)
	}
	price := plan.Prices["USD"]
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	at := func(to time.Time) {
		t.Helper()
		now = to
		// The clock answers once every timer due by then is applied: a
		// timer whose commit is refused never is.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := clock.Advance(ctx, to); err != nil {
			t.Fatal(err)
		}
	}
	at(now)
	const cust, other = "C-REN4", "C-OTHER"
	e.createCustomer(partnerA, cust)
	e.createCustomer(partnerA, other)
	qty := 4
	evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-REN4",
		Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1M", BillingFrequency: "monthly"}}}))
	sub := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID

	// The term ends on 2026-04-09; the renewal starts at 2026-04-10T00:00Z
	// and completes 30 minutes later.
	start := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	at(start)
	at(start.Add(10 * time.Minute))
	six := 6
	change := e.send(partnerA, cust, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: &six})
	if evs := e.await(change); len(evs) != 1 || evs[0].Type != messages.EvtCommandDeferred {
		t.Fatalf("quantity change during the renewal: %v", types(evs))
	}
	// The first retry, the renewal still pending.
	mark := len(e.events.Events())
	if fired := e.advance(clock, start.Add(11*time.Minute)); fired != 1 {
		t.Fatalf("%d timers fired at the first retry, want 1", fired)
	}
	// Another customer of the partition is served.
	if evs := e.await(e.send(partnerA, other, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: "sub-none", Enabled: new(bool)})); len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected {
		t.Fatalf("other customer during the renewal: %v", types(evs))
	}
	for _, ev := range e.events.Events()[mark:] {
		if ev.CustomerID == cust {
			t.Fatalf("the retry while the renewal is pending emitted %s", ev.Type)
		}
	}

	// The renewal completes and applies the parked change.
	at(start.Add(31 * time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []messages.Event
	err := e.events.WaitFor(ctx, func(all []messages.Event) bool {
		got = got[:0]
		for _, ev := range all[mark:] {
			if ev.CustomerID == cust {
				got = append(got, ev)
			}
		}
		return len(got) >= 4
	})
	if err != nil {
		t.Fatalf("events after the renewal %v: %v", types(got), err)
	}
	// A later command of the other customer: everything before it in the
	// partition is applied, so the change has no further events.
	e.createCustomerAgain(other)
	var ofCust []messages.Event
	for _, ev := range e.events.Events()[mark:] {
		if ev.CustomerID == cust {
			ofCust = append(ofCust, ev)
		}
	}
	want := []struct {
		typ     messages.EventType
		command string
		amount  int64
	}{
		{messages.EvtSubscriptionRenewed, "", 0},
		{messages.EvtBillingCharge, "", 4 * price},
		{messages.EvtQuantityChanged, change.ID, 0},
		// The 2 licenses added the instant the renewal completed (00:30)
		// are not charged for the new month's first day, which has
		// started (GEN-2, QTY-1): round(2 × 720 × 29 / 30) = 1392.
		{messages.EvtBillingCharge, change.ID, 1392},
	}
	if len(ofCust) != len(want) {
		t.Fatalf("events %v, want 4", types(ofCust))
	}
	for i, w := range want {
		ev := ofCust[i]
		if ev.Type != w.typ || (w.command != "" && ev.CommandID != w.command) || (w.command == "" && ev.CommandType != messages.CmdTimerFired) {
			t.Fatalf("event %d: %s of %s %s, want %s of %q", i, ev.Type, ev.CommandType, ev.CommandID, w.typ, w.command)
		}
		if b, ok := ev.Data.(*messages.BillingEvent); ok && b.AmountMinor != w.amount {
			t.Fatalf("event %d: %s of %d, want %d", i, ev.Type, b.AmountMinor, w.amount)
		}
	}
	if q := ofCust[2].Data.(*messages.QuantityChangedEvent); q.PreviousQuantity != 4 || q.Quantity != 6 {
		t.Fatalf("quantity changed %+v", q)
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c[0])
	}
}

// createCustomerAgain sends a customer.created for an existing customer
// and waits for its answer (a rejection): a command that is applied after
// everything sent before it in its partition.
func (e *env) createCustomerAgain(customer string) {
	e.t.Helper()
	e.await(e.send(partnerA, customer, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}))
}
