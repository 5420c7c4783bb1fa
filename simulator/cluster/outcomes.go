package cluster

import (
	"context"
	"sync"
	"time"
)

// Outcomes are the commands' first events as the simulator's ledger
// receives them (set Add as Ledger.OnOutcome): when the broker stored each
// and when it arrived. A fault's recovery is read from them.
type Outcomes struct {
	mu        sync.Mutex
	stored    []time.Time
	arrived   []time.Time
	customers []string
	byID      map[string]time.Time // arrival by command
	changed   chan struct{}
}

// NewOutcomes returns an empty record.
func NewOutcomes() *Outcomes {
	return &Outcomes{byID: map[string]time.Time{}, changed: make(chan struct{})}
}

// Add is the ledger's OnOutcome.
func (o *Outcomes) Add(commandID, customerID string, stored, arrived time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stored = append(o.stored, stored)
	o.arrived = append(o.arrived, arrived)
	o.customers = append(o.customers, customerID)
	o.byID[commandID] = arrived
	close(o.changed)
	o.changed = make(chan struct{})
}

// FirstStoredAfter waits for the first outcome whose event the broker
// stored after t (an event stored before, arriving late, says nothing
// about recovery) and returns when it arrived.
func (o *Outcomes) FirstStoredAfter(ctx context.Context, t time.Time) (time.Time, error) {
	return o.FirstOfStoredAfter(ctx, t, func(string) bool { return true })
}

// FirstOfStoredAfter is FirstStoredAfter among the commands of the
// customers of: those of the partitions a killed replica held, to time
// their takeover.
func (o *Outcomes) FirstOfStoredAfter(ctx context.Context, t time.Time, of func(customerID string) bool) (time.Time, error) {
	var at time.Time
	err := o.waitFor(ctx, func() bool {
		for i, s := range o.stored {
			if s.After(t) && of(o.customers[i]) {
				at = o.arrived[i]
				return true
			}
		}
		return false
	})
	return at, err
}

// AllAnswered waits until every command of ids got its outcome and
// returns when the last one arrived.
func (o *Outcomes) AllAnswered(ctx context.Context, ids []string) (time.Time, error) {
	var last time.Time
	err := o.waitFor(ctx, func() bool {
		last = time.Time{}
		for _, id := range ids {
			at, ok := o.byID[id]
			if !ok {
				return false
			}
			if at.After(last) {
				last = at
			}
		}
		return true
	})
	return last, err
}

// waitFor waits until cond (run under the lock) holds or ctx ends.
func (o *Outcomes) waitFor(ctx context.Context, cond func() bool) error {
	for {
		o.mu.Lock()
		ok := cond()
		ch := o.changed
		o.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
