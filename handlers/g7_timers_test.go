package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// advance moves a simulation-mode processor's clock and keeps the
// upstream's command time in step with it.
func (e *env) advance(clock *simulator.Clock, to time.Time) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	reply, err := clock.Advance(ctx, to)
	if err != nil {
		e.t.Fatal(err)
	}
	return reply.Fired
}

// G7 and REN-2 over NATS and Redis: a processor in simulation mode is moved
// through a year in monthly steps; every monthly charge, the renewal (pending for
// the catalog's 30 minutes) and its charge arrive exactly once, with the
// simulated times and the right amounts, and the renewal opens a new
// cancellation window.
func TestG7_TimeTravelFiresEveryTimerOnceInOrder(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock := &simulator.Clock{NC: e.nc}
	t0 := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	now := t0
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)

	const cust = "C-TT"
	e.createCustomer(partnerA, cust)
	qty := 4
	evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-TT", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}}))
	sub := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID

	// Month by month (the 1st of each month), then to just after the
	// renewal completes.
	for m := 1; m <= 12; m++ {
		now = time.Date(2026, time.Month(1+m), 1, 12, 0, 0, 0, time.UTC)
		e.advance(clock, now)
	}
	renewalDone := time.Date(2027, 1, 31, 0, 30, 0, 0, time.UTC)
	now = renewalDone.Add(time.Hour)
	e.advance(clock, now)
	// The clock answers once the timers are applied; their events may
	// still be on their way to the watcher.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
		n := 0
		for _, ev := range evs {
			if ev.CustomerID == cust && (ev.Type == messages.EvtBillingCharge || ev.Type == messages.EvtSubscriptionRenewed) {
				n++
			}
		}
		return n >= 14 // 13 charges and the renewal
	}); err != nil {
		t.Fatal(err)
	}

	var charges []*messages.BillingEvent
	var renewed []messages.Event
	for _, ev := range e.events.Events() {
		if ev.CustomerID != cust {
			continue
		}
		switch ev.Type {
		case messages.EvtBillingCharge:
			charges = append(charges, ev.Data.(*messages.BillingEvent))
		case messages.EvtSubscriptionRenewed:
			renewed = append(renewed, ev)
		}
	}
	// The purchase, 11 more monthly periods, and the renewal's first period.
	wantStarts := []string{"2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30", "2026-07-31",
		"2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31"}
	if len(charges) != len(wantStarts) {
		t.Fatalf("%d charges, want %d", len(charges), len(wantStarts))
	}
	for i, c := range charges {
		if c.PeriodStart != wantStarts[i] || c.AmountMinor != 4*630 {
			t.Fatalf("charge %d: %s %d, want %s %d", i, c.PeriodStart, c.AmountMinor, wantStarts[i], 4*630)
		}
	}
	// Timer events go to the subscription's partner, not to the scheduler's
	// _system identity.
	if len(renewed) != 1 || !renewed[0].OccurredAt.Equal(renewalDone) || renewed[0].PartnerID != partnerA {
		t.Fatalf("renewals %v", renewed)
	}
	r := renewed[0].Data.(*messages.SubscriptionRenewedEvent)
	if r.TermStart != "2027-01-31" || r.TermEnd != "2028-01-30" || !r.CancellableUntil.Equal(renewalDone.Add(168*time.Hour)) {
		t.Fatalf("renewed %+v", r)
	}
	// Inside the renewal's window the cancel is accepted.
	cancelEvs := e.await(e.send(partnerA, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}))
	if len(ofType(cancelEvs, messages.EvtBillingCredit)) != 1 {
		t.Fatalf("cancel in the renewal window: %v", types(cancelEvs))
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c)
	}
}
