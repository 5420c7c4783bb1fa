package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/simulator/model"
)

// A load run puts some customers on test clocks (TCK-1..TCK-4) that stay
// one step behind the global clock: each step their commands are stamped
// with the global time like every other, but decided by the processor at
// their clock's time, and the model predicts them, and their calendar, at
// that time; their timers fire only when their clock is advanced after
// the global one. A processor that decided them at the stamped time, or
// fired their timers with the global clock (a step early), would disagree
// with the model on a window, a proration or a period.

const (
	defaultTestClockEvery = 20
	// loadTestClocks is how many clocks the test clock customers share.
	loadTestClocks = 3
)

// setUpTestClocks picks the run's test clock customers and creates their
// clocks one step before the start.
func (r *Runner) setUpTestClocks(ctx context.Context, cfg LoadConfig, customers []*model.Customer) error {
	every := cfg.TestClockEvery
	if every == 0 {
		every = defaultTestClockEvery
	}
	if every < 0 {
		return nil
	}
	clocks := &TestClocks{NC: r.NC}
	for i, c := range customers {
		if i%every != every-1 {
			continue
		}
		n := (i / every) % loadTestClocks
		if n == len(r.testClocks) {
			id := fmt.Sprintf("TC-%s-%d", cfg.RunID, n)
			reply, err := clocks.Create(ctx, id, cfg.Start.Add(-cfg.StepSim))
			if err != nil {
				return err
			}
			if reply.Rejection != nil {
				return fmt.Errorf("test clock %s: %s: %s", id, reply.Rejection.Code, reply.Rejection.Description)
			}
			r.testClocks = append(r.testClocks, id)
		}
		c.TestClock = r.testClocks[n]
	}
	return nil
}

// timeOf is the customer's time when the global clock shows now.
func (r *Runner) timeOf(c *model.Customer, now time.Time) time.Time {
	if c.TestClock == "" {
		return now
	}
	return now.Add(-r.cfg.StepSim)
}

// advanceTestClocks moves the test clocks one step behind next, once the
// global clock is at next; each returns once its customers' timers are
// applied.
func (r *Runner) advanceTestClocks(ctx context.Context, next time.Time) error {
	clocks := &TestClocks{NC: r.NC}
	for _, id := range r.testClocks {
		reply, err := clocks.Advance(ctx, id, next.Add(-r.cfg.StepSim))
		if err != nil {
			return err
		}
		if reply.Rejection != nil {
			return fmt.Errorf("test clock %s: %s: %s", id, reply.Rejection.Code, reply.Rejection.Description)
		}
		r.TestClockAdvances++
		r.TestClockFired += int64(reply.Fired)
	}
	return nil
}
