package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// Two customers on two test clocks, each with a monthly subscription, over
// real NATS and Redis. Advancing one clock across the renewal renews that
// customer's subscription and charges the renewal's first month at the
// clock's time; the other customer, on the clock left behind, is untouched
// (no event, the same stored state, its renewal still waiting), even when
// the global simulated clock moves past its renewal too. Its commands are
// decided at its own clock's time. An advance backwards is refused and
// leaves the clock where it was; a customer naming a clock that does not
// exist is refused.
func TestRule_TCK_2_TCK_3_TCK_4_AdvancingOneTestClockRenewsOnlyItsCustomers(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clocks := &simulator.TestClocks{NC: e.nc}
	global := &simulator.Clock{NC: e.nc}
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	e.advance(global, t0)
	// The global clock stamps every command with its time; the customers
	// on test clocks must ignore it.
	e.up.SimulatedTime = func() time.Time { return global.Now }

	for _, id := range []string{"TC-A", "TC-B"} {
		reply, err := clocks.Create(ctx, id, t0)
		if err != nil || reply.Rejection != nil || reply.FrozenTime != t0.Format(time.RFC3339Nano) {
			t.Fatalf("create %s: %+v %v", id, reply, err)
		}
	}
	// Created again at the same time: a retry, answered with the clock;
	// at another time: refused (TCK-3).
	if reply, err := clocks.Create(ctx, "TC-A", t0); err != nil || reply.Rejection != nil {
		t.Fatalf("create TC-A again: %+v %v", reply, err)
	}
	if reply, err := clocks.Create(ctx, "TC-A", t0.Add(time.Hour)); err != nil || reply.Rejection == nil ||
		reply.Rejection.Code != rules.CodeTestClockExists || reply.Rejection.Rule != "TCK-3" {
		t.Fatalf("create TC-A at another time: %+v %v", reply, err)
	}
	// A clock chosen by the processor.
	if reply, err := clocks.Create(ctx, "", t0); err != nil || reply.Rejection != nil || !messages.ValidToken(reply.TestClockID) {
		t.Fatalf("create without an ID: %+v %v", reply, err)
	}

	// Customers: C-TCA on TC-A, C-TCB on TC-B; one naming no such clock.
	create := func(cust, clock string) []messages.Event {
		return e.await(e.send(partnerA, cust, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
			CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD", TestClockID: clock}))
	}
	for cust, clock := range map[string]string{"C-TCA": "TC-A", "C-TCB": "TC-B"} {
		evs := create(cust, clock)
		if len(evs) != 1 || evs[0].Type != messages.EvtCustomerCreated ||
			evs[0].Data.(*messages.CustomerCreatedEvent).TestClockID != clock || !evs[0].OccurredAt.Equal(t0) {
			t.Fatalf("%s on %s: %v %+v", cust, clock, types(evs), evs)
		}
	}
	evs := create("C-TCX", "TC-NONE")
	if len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected {
		t.Fatalf("customer on a missing clock: %v", types(evs))
	}
	if r := evs[0].Data.(*messages.CommandRejectedEvent); r.Code != rules.CodeTestClockNotFound || r.Rule != "TCK-2" || r.Data["test_clock_id"] != "TC-NONE" {
		t.Fatalf("customer on a missing clock: %+v", r)
	}

	// The global clock moves a day on: the customers' clocks stay at t0,
	// so their orders are decided at t0.
	e.advance(global, t0.Add(24*time.Hour))
	o, _ := e.cat.Offer(offerBasic)
	plan, ok := o.Plan("P1M", "monthly")
	if !ok {
		t.Fatalf("%s has no P1M monthly plan", offerBasic)
	}
	const qty = 5
	want := qty * plan.Prices["USD"]
	subs := map[string]string{}
	for _, cust := range []string{"C-TCA", "C-TCB"} {
		q := qty
		evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + cust,
			Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: &q, Term: "P1M", BillingFrequency: "monthly"}}}))
		charges := ofType(evs, messages.EvtBillingCharge)
		if len(charges) != 1 || charges[0].Data.(*messages.BillingEvent).AmountMinor != want || !charges[0].OccurredAt.Equal(t0) {
			t.Fatalf("%s's order: %v %+v (want one charge of %d at %v)", cust, types(evs), charges, want, t0)
		}
		subs[cust] = evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID
	}
	before := e.stateOf("C-TCB")
	mark := len(e.events.Events())

	// The term ends on 2026-04-09; the renewal completes at
	// 2026-04-10T00:30Z. TC-A moves past it, then the global clock moves
	// past it too.
	renewalDone := time.Date(2026, 4, 10, 0, 30, 0, 0, time.UTC)
	reply, err := clocks.Advance(ctx, "TC-A", renewalDone.Add(time.Hour))
	if err != nil || reply.Rejection != nil || reply.Fired < 1 || reply.FrozenTime != renewalDone.Add(time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("advance TC-A: %+v %v", reply, err)
	}
	e.advance(global, renewalDone.Add(40*24*time.Hour))

	// C-TCA renewed and was charged the new month at the clock's time.
	wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
	defer wcancel()
	var renewed, charged []messages.Event
	if err := e.events.WaitFor(wctx, func(all []messages.Event) bool {
		renewed, charged = nil, nil
		for _, ev := range all[mark:] {
			if ev.CustomerID == "C-TCA" && ev.CommandType == messages.CmdTimerFired {
				switch ev.Type {
				case messages.EvtSubscriptionRenewed:
					renewed = append(renewed, ev)
				case messages.EvtBillingCharge:
					charged = append(charged, ev)
				}
			}
		}
		return len(renewed) > 0 && len(charged) > 0
	}); err != nil {
		t.Fatalf("C-TCA's renewal: renewed %v, charged %v: %v", renewed, charged, err)
	}
	b := charged[0].Data.(*messages.BillingEvent)
	if len(renewed) != 1 || !renewed[0].OccurredAt.Equal(renewalDone) || len(charged) != 1 ||
		b.AmountMinor != want || b.SubscriptionID != subs["C-TCA"] || b.PeriodStart != "2026-04-10" || !charged[0].OccurredAt.Equal(renewalDone) {
		t.Fatalf("C-TCA's renewal: renewed %+v, charged %+v (want %d from 2026-04-10 at %v)", renewed, charged, want, renewalDone)
	}

	// C-TCB: nothing stored changed, its renewal still waits on TC-B.
	if after := e.stateOf("C-TCB"); len(after) != len(before) {
		t.Fatalf("C-TCB's state changed: %v -> %v", before, after)
	} else {
		for k, v := range before {
			if after[k] != v {
				t.Fatalf("C-TCB's %s changed: %s -> %s", k, v, after[k])
			}
		}
	}
	waiting, err := e.store.DueTestClockTimers(ctx, "TC-B", renewalDone.Add(time.Hour), 10)
	if err != nil || len(waiting) == 0 || waiting[0].CustomerID != "C-TCB" {
		t.Fatalf("TC-B's timers: %+v %v", waiting, err)
	}
	// A command of C-TCB is still decided at TC-B's time; its events come
	// after any event of C-TCB before it (one customer's events are
	// published in command order), so none came since mark.
	on := false
	evs = e.await(e.send(partnerA, "C-TCB", messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: subs["C-TCB"], Enabled: &on}))
	if len(evs) != 1 || evs[0].Type != messages.EvtAutoRenewChanged || !evs[0].OccurredAt.Equal(t0) {
		t.Fatalf("C-TCB's autorenew: %v %+v", types(evs), evs)
	}
	for _, ev := range e.events.Events()[mark:] {
		if ev.CustomerID == "C-TCB" && ev.CommandID != evs[0].CommandID {
			t.Fatalf("C-TCB got %s from %s while its clock stood still", ev.Type, ev.CommandType)
		}
	}

	// Backwards is refused (TCK-4) and the clock stays.
	reply, err = clocks.Advance(ctx, "TC-A", renewalDone)
	if err != nil || reply.Rejection == nil || reply.Rejection.Code != rules.CodeTestClockBackwards || reply.Rejection.Rule != "TCK-4" ||
		reply.Rejection.Data["frozen_time"] != renewalDone.Add(time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("advance TC-A backwards: %+v %v", reply, err)
	}
	if now, ok, err := e.store.TestClock(ctx, "TC-A"); err != nil || !ok || !now.Equal(renewalDone.Add(time.Hour)) {
		t.Fatalf("TC-A after the refused move: %v %v %v", now, ok, err)
	}
	// An unknown clock cannot be advanced (TCK-2).
	if reply, err := clocks.Advance(ctx, "TC-NONE", renewalDone); err != nil || reply.Rejection == nil || reply.Rejection.Code != rules.CodeTestClockNotFound {
		t.Fatalf("advance a missing clock: %+v %v", reply, err)
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c)
	}
}

// A processor not in simulation mode refuses test clocks (TCK-1): the
// request gets a specific rejection, and a customer naming a clock is
// refused and not created.
func TestRule_TCK_1_TestClocksOnlyInSimulationMode(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clocks := &simulator.TestClocks{NC: e.nc}
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	for name, do := range map[string]func() (messages.TestClockReply, error){
		"create":  func() (messages.TestClockReply, error) { return clocks.Create(ctx, "TC-A", t0) },
		"advance": func() (messages.TestClockReply, error) { return clocks.Advance(ctx, "TC-A", t0) },
	} {
		reply, err := do()
		if err != nil || reply.Rejection == nil || reply.Rejection.Code != rules.CodeTestClocksNotEnabled || reply.Rejection.Rule != "TCK-1" {
			t.Fatalf("%s: %+v %v", name, reply, err)
		}
	}
	if _, ok, err := e.store.TestClock(ctx, "TC-A"); err != nil || ok {
		t.Fatalf("a refused clock was stored: %v %v", ok, err)
	}
	evs := e.await(e.send(partnerA, "C-TC1", messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD", TestClockID: "TC-A"}))
	if len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected || evs[0].Data.(*messages.CommandRejectedEvent).Code != rules.CodeTestClocksNotEnabled {
		t.Fatalf("customer on a test clock in normal mode: %v %+v", types(evs), evs)
	}
	if st := e.stateOf("C-TC1"); len(st) != 0 {
		t.Fatalf("a refused customer was stored: %v", st)
	}
}
