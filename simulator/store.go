package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// Storing commands through broker outages: bus.Store and bus.Batch, the
// one place every publisher of ours waits for PubAcks. A command whose
// PubAck fails (the connection was reconnecting), does not come within
// ackTimeout (a restart or a failover lost it) or is answered "duplicate
// message id is in process" (10158, a clustered stream still storing the
// first copy) is published again with the same Nats-Msg-Id until
// storeBudget is spent: well inside the stream's duplicate window, so a
// retry never stores a second copy.
const (
	// ackTimeout bounds each wait for a PubAck.
	ackTimeout = 5 * time.Second
	// storeBudget bounds all the attempts at storing one command, counted
	// from its first publish.
	storeBudget = bus.MaxStoreBudget
)

func storeOptions() bus.StoreOptions {
	return bus.StoreOptions{AckTimeout: ackTimeout, Budget: storeBudget}
}

// retryPolicy is the backoff of every retry against an outage: quick at
// first (a blip), slower later, for at most budget, never after ctx ends.
func retryPolicy(ctx context.Context, budget time.Duration) backoff.BackOffContext {
	return backoff.WithContext(backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(100*time.Millisecond),
		backoff.WithMaxInterval(2*time.Second),
		backoff.WithMaxElapsedTime(budget)), ctx)
}

// storeOne publishes msg and waits until JetStream stored it, retrying as
// bus.Store does, and returns its PubAck.
func storeOne(ctx context.Context, js jetstream.JetStream, msg *nats.Msg) (*jetstream.PubAck, error) {
	acks, err := bus.Store(ctx, js, []*nats.Msg{msg}, storeOptions())
	if err != nil {
		return nil, fmt.Errorf("not stored within %s: %w", storeBudget, err)
	}
	return acks[0], nil
}
