//go:build cluster

package handlers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natscluster"
	"github.com/cspreseller/csp-processor/messages/bus/natstest/clustertest"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// applied is one command sent by the background upstream, and when the
// processor had applied it.
type applied struct {
	customer, id    string
	sent, appliedAt time.Time
}

// G1, G7 on a 3-node JetStream cluster with R3 streams and the shipped
// users: the command stream's leader is SIGKILLed while the processor
// (connected to every node) applies a steady flow of commands and fires
// monthly billing timers on simulated time, and restarted two months
// later. No command is lost (each is in its customer's inbox), none is
// applied twice (no event ID twice in the event stream, one charge per
// customer and period), and the scheduler keeps firing through the
// failover. Logs the time from the kill to the next command applied.
func TestG1_G7_NothingLostOrAppliedTwiceWhenTheCommandStreamLeaderIsKilledAndRestarted(t *testing.T) {
	c := clustertest.Run(t, 3)
	pnc, _ := clustertest.Connect(t, c, natsauth.ProcessorUser)
	snc, sjs := clustertest.Connect(t, c, natsauth.SimulatorUser)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.Client(t)
	store := state.NewStore(rdb, state.Options{})
	bc := bus.Config{
		Streams:    bus.StreamsConfig{Partitions: 4, Replicas: 3},
		Subscriber: bus.SubscriberConfig{AckWait: 2 * time.Second, ShutdownTimeout: 10 * time.Second},
	}.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p, err := NewProcessor(ctx, Config{NATS: pnc, Redis: rdb, Catalog: cat, Bus: bc, Clock: SimulatedClock, Logger: watermill.NopLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	t.Cleanup(func() {
		stopRun()
		if err := <-done; err != nil {
			t.Errorf("processor stopped with: %v", err)
		}
	})
	select {
	case <-p.Running():
	case err := <-done:
		t.Fatalf("processor did not start: %v", err)
	case <-ctx.Done():
		t.Fatal("processor did not start")
	}
	events, err := simulator.WatchEvents(ctx, sjs, bus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(events.Stop)

	var simMu sync.Mutex
	now := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	simNow := func() time.Time { simMu.Lock(); defer simMu.Unlock(); return now }
	up := &simulator.Upstream{JS: sjs, SimulatedTime: simNow}
	clock := &simulator.Clock{NC: snc}
	advance := func(to time.Time) {
		t.Helper()
		actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if _, err := clock.Advance(actx, to); err != nil {
			t.Fatal(err)
		}
		simMu.Lock()
		now = to
		simMu.Unlock()
	}
	waitApplied := func(customer, id string) time.Time {
		t.Helper()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			ok, err := store.Applied(ctx, customer, id)
			if err == nil && ok {
				return time.Now()
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("command %s of %s not applied: %v", id, customer, err)
			}
		}
	}
	send := func(customer string, typ messages.CommandType, data any) {
		t.Helper()
		cmd := messages.Command{ID: nextID(string(typ)), Type: typ, CustomerID: customer, Data: data}
		if _, err := up.Send(ctx, partnerA, cmd); err != nil {
			t.Fatal(err)
		}
		waitApplied(customer, cmd.ID)
	}
	advance(now)

	// Customers with a monthly subscription each: one timer per customer
	// fires every simulated month.
	const customers, months, killBefore, restartBefore = 8, 6, 3, 5
	qty := 1
	for i := range customers {
		cust := fmt.Sprintf("C-LK-%d", i)
		send(cust, messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "Co", Segment: "commercial", Country: "US", Currency: "USD"})
		send(cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + cust, Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}})
	}

	// The background upstream: one new customer after another, each sent
	// once its predecessor is applied.
	var (
		bgMu sync.Mutex
		bg   []applied
	)
	stopBG := make(chan struct{})
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		for k := 0; ; k++ {
			select {
			case <-stopBG:
				return
			default:
			}
			cust := fmt.Sprintf("C-BG-%d", k)
			cmd := messages.Command{ID: "bg-" + cust, Type: messages.CmdCustomerCreated, CustomerID: cust,
				Data: &messages.CustomerCreatedData{CompanyName: "Bg", Segment: "commercial", Country: "US", Currency: "USD"}}
			sent := time.Now()
			if _, err := up.Send(ctx, partnerA, cmd); err != nil {
				t.Errorf("background command %s: %v", cmd.ID, err)
				return
			}
			tick := time.NewTicker(5 * time.Millisecond)
			for {
				ok, err := store.Applied(ctx, cust, cmd.ID)
				if err == nil && ok {
					break
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					tick.Stop()
					t.Errorf("background command %s not applied: %v", cmd.ID, err)
					return
				}
			}
			tick.Stop()
			bgMu.Lock()
			bg = append(bg, applied{customer: cust, id: cmd.ID, sent: sent, appliedAt: time.Now()})
			bgMu.Unlock()
		}
	}()

	var killedAt time.Time
	killed := -1
	for m := 1; m <= months; m++ {
		switch m {
		case killBefore:
			leader, err := c.StreamLeader(ctx, bc.Streams.CommandStream)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Kill(leader); err != nil {
				t.Fatal(err)
			}
			killed, killedAt = leader, time.Now()
			t.Logf("killed %s, the leader of %s", natscluster.NodeName(leader), bc.Streams.CommandStream)
		case restartBefore:
			if err := c.Restart(killed); err != nil {
				t.Fatal(err)
			}
			t.Logf("restarted %s %v after the kill", natscluster.NodeName(killed), time.Since(killedAt).Round(time.Millisecond))
		}
		began := time.Now()
		advance(time.Date(2026, time.Month(1+m), 1, 12, 0, 0, 0, time.UTC))
		t.Logf("month %d: the clock moved in %v", m, time.Since(began).Round(time.Millisecond))
	}
	// The flow goes on after the failover: wait for commands sent after
	// the kill to be applied.
	sentAfterKill := func() int {
		bgMu.Lock()
		defer bgMu.Unlock()
		n := 0
		for _, a := range bg {
			if a.sent.After(killedAt) {
				n++
			}
		}
		return n
	}
	tick := time.NewTicker(10 * time.Millisecond)
	for sentAfterKill() < 10 {
		select {
		case <-tick.C:
		case <-bgDone:
			t.Fatalf("the background upstream stopped after %d commands sent after the kill", sentAfterKill())
		case <-ctx.Done():
			t.Fatalf("only %d background commands sent after the kill were applied", sentAfterKill())
		}
	}
	tick.Stop()
	close(stopBG)
	<-bgDone

	// Every monthly charge, once: the purchase's period (Jan 31) and one
	// for each month end passed (Feb 28 ... Jun 30; the move to Feb 1
	// passes none).
	wantCharges := customers * months
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	charges := map[string]int{} // customer/period -> charges
	if err := events.WaitFor(wctx, func(evs []messages.Event) bool {
		clear(charges)
		n := 0
		for _, ev := range evs {
			if b, ok := ev.Data.(*messages.BillingEvent); ok && ev.Type == messages.EvtBillingCharge {
				charges[ev.CustomerID+"/"+b.PeriodStart]++
				n++
			}
		}
		return n >= wantCharges
	}); err != nil {
		t.Fatalf("%d charges of %d: %v", len(charges), wantCharges, err)
	}
	if len(charges) != wantCharges {
		t.Errorf("%d customer periods charged, want %d", len(charges), wantCharges)
	}
	for k, n := range charges {
		if n != 1 {
			t.Errorf("%s charged %d times", k, n)
		}
	}
	if d, cf := events.Duplicates(), events.Conflicts(); d > 0 || len(cf) > 0 {
		t.Errorf("the event stream holds %d events twice (conflicts: %v): a command applied twice", d, cf)
	}

	bgMu.Lock()
	defer bgMu.Unlock()
	// The stall: the longest wait between two background commands applied
	// one after the other around the kill; and the first command sent after
	// the kill, from the kill to its application.
	var stall, firstSentAfter time.Duration
	for i, a := range bg {
		if i > 0 && a.appliedAt.After(killedAt) && bg[i-1].appliedAt.Before(killedAt.Add(time.Minute)) {
			stall = max(stall, a.appliedAt.Sub(bg[i-1].appliedAt))
		}
		if firstSentAfter == 0 && a.sent.After(killedAt) {
			firstSentAfter = a.appliedAt.Sub(killedAt)
		}
	}
	// Each background customer was created once: one customer.created
	// event each (an applied command's events may still be on their way).
	created := map[string]int{}
	if err := events.WaitFor(wctx, func(evs []messages.Event) bool {
		clear(created)
		for _, ev := range evs {
			if ev.Type == messages.EvtCustomerCreated {
				created[ev.CustomerID]++
			}
		}
		for _, a := range bg {
			if created[a.customer] == 0 {
				return false
			}
		}
		return true
	}); err != nil {
		t.Errorf("waiting for every background customer's customer.created: %v", err)
	}
	for _, a := range bg {
		if created[a.customer] != 1 {
			t.Errorf("%s: %d customer.created events, want 1", a.customer, created[a.customer])
		}
	}
	t.Logf("%d background commands applied; longest wait between two applied around the kill %v; "+
		"from the kill to the first command sent after it applied: %v",
		len(bg), stall.Round(time.Millisecond), firstSentAfter.Round(time.Millisecond))
}
