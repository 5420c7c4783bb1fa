package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/state"
)

// The timer lag is the processor's clock minus the oldest due, unfired
// timer: the simulated time in Redis with the simulated clock, the wall
// clock otherwise; 0 when nothing is due (a timer due later does not
// count).
func TestSchedulerLagIsTheClockMinusTheOldestDueTimer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	index := func(customer, id string, due time.Time) {
		t.Helper()
		if err := e.store.IndexTimers(ctx, bus.SlotOf(customer), []state.TimerEntry{
			{CustomerID: customer, TimerID: id, Kind: "renewal", SubscriptionID: "S-" + id, DueAt: due}}); err != nil {
			t.Fatal(err)
		}
	}
	sim := &Scheduler{Store: e.store, Clock: SimulatedClock}
	wall := &Scheduler{Store: e.store, Clock: BrokerClock}
	lag := func(s *Scheduler) time.Duration {
		t.Helper()
		d, err := s.Lag(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := lag(sim); d != 0 {
		t.Fatalf("simulated lag before any clock move: %v", d)
	}
	if d := lag(wall); d != 0 {
		t.Fatalf("wall-clock lag with no timer: %v", d)
	}

	t0 := time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC) // long past on the wall clock
	if _, err := e.store.SetSimClock(ctx, t0); err != nil {
		t.Fatal(err)
	}
	index("C-LAG-1", "T-later", t0.Add(time.Hour))
	if d := lag(sim); d != 0 {
		t.Fatalf("simulated lag with a timer due later: %v", d)
	}
	index("C-LAG-2", "T-due", t0.Add(-90*time.Minute))
	index("C-LAG-3", "T-due-too", t0.Add(-time.Minute))
	if d := lag(sim); d != 90*time.Minute {
		t.Fatalf("simulated lag = %v, want 1h30m (the oldest due timer)", d)
	}
	// On the wall clock all three are long due: the oldest counts.
	if d, want := lag(wall), time.Since(t0.Add(-90*time.Minute)); d < want-time.Minute || d > want+time.Minute {
		t.Fatalf("wall-clock lag = %v, want about %v", d, want)
	}
}
