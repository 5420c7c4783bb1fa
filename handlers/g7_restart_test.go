package handlers

import (
	"context"
	"fmt"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// G7 across restarts: the processor (the binary, in simulation mode) is
// stopped while the timers of 300 subscriptions are due, started again,
// SIGKILLed while it works through them, and started once more. Every
// subscription renews exactly once, with exactly one renewal charge.
func TestG7_TimersDueWhileStoppedFireOnceAfterRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the processor binary")
	}
	e := newEnv(t)
	bin := buildProcessor(t)
	run := func() *exec.Cmd { return e.runProcessorBinary(bin, "SIMULATION=1") }
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t0 := time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return t0 }
	child := run()
	clock := &simulator.Clock{NC: e.nc}
	// The child subscribes to the clock shortly after it starts.
	if err := waitFor(ctx, func() bool { _, err := clock.Advance(ctx, t0); return err == nil }); err != nil {
		t.Fatal("the processor never answered the clock")
	}

	const customers = 300
	for i := range customers {
		cust := fmt.Sprintf("C-R-%03d", i)
		qty := 2
		for _, cmd := range []messages.Command{
			{ID: "c1", Type: messages.CmdCustomerCreated, CustomerID: cust, Data: &messages.CustomerCreatedData{CompanyName: "Co", Segment: "commercial", Country: "US", Currency: "USD"}},
			{ID: "c2", Type: messages.CmdOrderPlaced, CustomerID: cust, Data: &messages.OrderPlacedData{OrderID: "O1", Lines: []messages.OrderLine{
				{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1M", BillingFrequency: "monthly"}}}},
		} {
			msg, _ := simulator.CommandMsg(partnerA, cmd)
			msg.Header.Set(messages.HeaderSimulatedTime, t0.Format(time.RFC3339Nano))
			if _, err := e.js.PublishMsgAsync(msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	<-e.js.PublishAsyncComplete()
	// count is called with the watcher's events (WaitFor's cond runs under
	// the watcher's lock, so it must not call back into the watcher).
	count := func(evs []messages.Event, typ messages.EventType) int {
		n := 0
		for _, ev := range evs {
			if ev.Type == typ {
				n++
			}
		}
		return n
	}
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return count(evs, messages.EvtOrderProcessed) == customers }); err != nil {
		t.Fatal(err)
	}

	// Stopped while the timers become due: the simulated clock moves past
	// every term end (2026-06-10) and the renewals' completion while no
	// processor runs.
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	due := time.Date(2026, 6, 10, 2, 0, 0, 0, time.UTC)
	if _, err := e.store.SetSimClock(ctx, due); err != nil {
		t.Fatal(err)
	}

	child = run()
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return count(evs, messages.EvtSubscriptionRenewed) >= customers/3 }); err != nil {
		t.Fatal(err)
	}
	_ = child.Process.Signal(syscall.SIGKILL)
	_ = child.Wait()
	killedAt := count(e.events.Events(), messages.EvtSubscriptionRenewed)
	if killedAt >= customers {
		t.Fatalf("every renewal was done before the kill (%d): the restart was not tested", killedAt)
	}
	child = run()
	defer func() { _ = child.Process.Signal(syscall.SIGKILL); _ = child.Wait() }()
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return count(evs, messages.EvtSubscriptionRenewed) >= customers }); err != nil {
		t.Fatalf("%d of %d renewals: %v", count(e.events.Events(), messages.EvtSubscriptionRenewed), customers, err)
	}
	// Let the clock move again through the same period: nothing fires twice.
	if _, err := clock.Advance(ctx, due.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A renewal's charge is published after its subscription.renewed event:
	// wait (with the deadline) until every subscription's renewal charge has
	// arrived before counting, so that a busy machine cannot leave one on its
	// way. A duplicate still shows below, as a third charge or second renewal.
	perCustomer := func(evs []messages.Event) (renewals, charges map[string]int) {
		renewals, charges = map[string]int{}, map[string]int{}
		for _, ev := range evs {
			switch ev.Type {
			case messages.EvtSubscriptionRenewed:
				renewals[ev.CustomerID]++
			case messages.EvtBillingCharge:
				charges[ev.CustomerID]++
			}
		}
		return renewals, charges
	}
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
		_, charges := perCustomer(evs)
		for i := range customers {
			if charges[fmt.Sprintf("C-R-%03d", i)] < 2 {
				return false
			}
		}
		return true
	}); err != nil {
		_, charges := perCustomer(e.events.Events())
		missing := 0
		for i := range customers {
			missing += max(0, 2-charges[fmt.Sprintf("C-R-%03d", i)])
		}
		t.Fatalf("%d of %d charges (purchase, renewal) still missing: %v", missing, 2*customers, err)
	}
	renewals, charges := perCustomer(e.events.Events())
	for i := range customers {
		cust := fmt.Sprintf("C-R-%03d", i)
		if renewals[cust] != 1 || charges[cust] != 2 {
			t.Fatalf("%s: %d renewals and %d charges, want 1 and 2 (purchase, renewal)", cust, renewals[cust], charges[cust])
		}
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c[0])
	}
	t.Logf("killed with %d of %d renewals done", killedAt, customers)
}
