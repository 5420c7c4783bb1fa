package handlers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// With REDIS_WAIT_REPLICAS=1 a command whose commit the replica did not
// acknowledge is retried as a transient failure, never dead-lettered, and
// none of its events is published; once the replica is back the retry
// finds it applied and publishes its events, once each.
func TestEventsWaitForRedisReplicas(t *testing.T) {
	e := newEnv(t)
	e.fastRetries()
	ctx := context.Background()
	pair := redistest.StartReplicaPair(t)
	e.rdb = pair.Master
	e.store = state.NewStore(pair.Master, state.Options{}) // the test's own reads wait for nothing
	var behind atomic.Int64
	e.startProcessor(func(c *Config) {
		c.State.WaitReplicas = 1
		c.State.WaitTimeout = 200 * time.Millisecond
		c.onFailure = func(_ *message.Message, err error, transient bool) {
			if !transient {
				t.Errorf("permanent failure while the replica is away: %v", err)
			}
			if errors.Is(err, state.ErrReplicasBehind) {
				behind.Add(1)
			}
		}
	})
	dl := e.watchDeadLetters()

	const cust = "C-REPL"
	e.createCustomer(partnerA, cust)
	pair.Detach(t)
	// Count from here: under load a WAIT may have fallen short while the
	// replica was attached too (and the retry then went through).
	behind.Store(0)
	qty := 3
	cmd := e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: nextID("O"),
		Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}})
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := waitFor(waitCtx, func() bool { return behind.Load() >= 3 }); err != nil {
		t.Fatalf("%d attempts failed on the replica: %v", behind.Load(), err)
	}
	snap, err := e.store.Load(ctx, cust, cmd.ID)
	if err != nil || snap.Seen == nil || len(snap.Seen.Pending) == 0 {
		t.Fatalf("the command is not committed on the master with its events in the outbox: %+v, %v (after %d failures)", snap.Seen, err, behind.Load())
	}
	for _, ev := range e.events.Events() {
		if ev.CommandID == cmd.ID {
			t.Fatalf("event %s (%s) published before the replica acknowledged its commit", ev.ID, ev.Type)
		}
	}

	pair.Attach(t)
	evs := e.await(cmd)
	if len(evs) != len(snap.Seen.EventIDs) {
		t.Fatalf("%d events published, the commit emitted %d", len(evs), len(snap.Seen.EventIDs))
	}
	if n := e.events.Duplicates(); n != 0 {
		t.Errorf("%d events published twice", n)
	}
	// The replica holds the order's state: the customer's version is the
	// master's.
	want, _ := pair.Master.HGet(ctx, "csp:{"+cust+"}:state", "v").Result()
	if got, err := pair.Replica.HGet(ctx, "csp:{"+cust+"}:state", "v").Result(); err != nil || got != want {
		t.Errorf("replica version %q (%v), master %q", got, err, want)
	}
	if got := dl.count(); got != 0 {
		t.Errorf("%d dead letters", got)
	}
}
