package simulator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Storing commands through broker outages.
//
// A command is published until JetStream says it stored it. A publish
// whose PubAck fails (the connection was reconnecting: "nats: server is
// disconnected") or does not come within ackTimeout (a restart or a
// failover lost it) is published again with the same Nats-Msg-Id. The
// stream keeps one message per ID within its duplicate window
// (bus.DuplicateWindow, 2 minutes), so the retry either stores the command or is
// acknowledged as a duplicate of the copy already stored; it never stores
// a second one. JetStream's error 10158, "duplicate message id is in
// process", says the first copy is being stored at that moment: retried
// too, the next attempt gets its PubAck. Retries back off exponentially and
// stop after storeBudget, well inside the duplicate window: past the
// window a retry could store a second copy.
const (
	// ackTimeout bounds each wait for a PubAck.
	ackTimeout = 5 * time.Second
	// storeBudget bounds all the attempts at storing one batch.
	storeBudget = 60 * time.Second
)

// errNoPubAck is the outcome of a publish whose PubAck did not come in time.
var errNoPubAck = fmt.Errorf("no PubAck within %s", ackTimeout)

// retryPolicy is the backoff of every retry against an outage: quick at
// first (a blip), slower later, for at most budget, never after ctx ends.
func retryPolicy(ctx context.Context, budget time.Duration) backoff.BackOffContext {
	return backoff.WithContext(backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(100*time.Millisecond),
		backoff.WithMaxInterval(2*time.Second),
		backoff.WithMaxElapsedTime(budget)), ctx)
}

// storing is one message on its way into the stream: its PubAck future, or
// the error of its last publish (f nil).
type storing struct {
	msg *nats.Msg
	f   jetstream.PubAckFuture
	err error
}

// publishAsync starts storing msg. A publish refused on the spot (too many
// PubAcks pending, the reconnect buffer full) is left for storeAll to
// retry rather than failing the run.
func publishAsync(ctx context.Context, js jetstream.JetStream, msg *nats.Msg) storing {
	giveUp := time.Now().Add(storeBudget)
	for {
		f, err := js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Second))
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && ctx.Err() == nil && time.Now().Before(giveUp) {
			continue // the stall wait paced this loop
		}
		return storing{msg: msg, f: f, err: err}
	}
}

// storeAll returns once JetStream stored every message of batch,
// publishing again, with the same Nats-Msg-Id, those whose PubAck failed
// or did not come in time, until storeBudget is spent.
func storeAll(ctx context.Context, js jetstream.JetStream, batch []storing) error {
	pending := batch
	attempts := 0
	op := func() error {
		if attempts > 0 {
			for i := range pending {
				pending[i] = publishAsync(ctx, js, pending[i].msg)
			}
		}
		attempts++
		pending = awaitAcks(ctx, pending)
		switch {
		case len(pending) == 0:
			return nil
		case ctx.Err() != nil:
			return backoff.Permanent(ctx.Err())
		}
		return pending[0].err
	}
	if err := backoff.Retry(op, retryPolicy(ctx, storeBudget)); err != nil {
		return fmt.Errorf("%d commands not stored after %d attempts over up to %s (first: %s): %w",
			len(pending), attempts, storeBudget, pending[0].msg.Header.Get(jetstream.MsgIDHeader), err)
	}
	return nil
}

// awaitAcks waits up to ackTimeout (all of batch together) for the PubAcks
// and returns the messages not stored, each with why.
func awaitAcks(ctx context.Context, batch []storing) []storing {
	var failed []storing
	timeout := time.NewTimer(ackTimeout)
	defer timeout.Stop()
	expired := false
	for _, s := range batch {
		if s.f == nil {
			failed = append(failed, s)
			continue
		}
		if !expired {
			select {
			case <-s.f.Ok():
				continue
			case s.err = <-s.f.Err():
				failed = append(failed, s)
				continue
			case <-timeout.C:
				expired = true
			case <-ctx.Done():
				s.err = ctx.Err()
				failed = append(failed, s)
				continue
			}
		}
		// Past the deadline: take what has come, the rest is lost.
		select {
		case <-s.f.Ok():
		case s.err = <-s.f.Err():
			failed = append(failed, s)
		default:
			s.err = errNoPubAck
			failed = append(failed, s)
		}
	}
	return failed
}

// storeOne publishes msg and waits until JetStream stored it, retrying as
// storeAll does, and returns its PubAck.
func storeOne(ctx context.Context, js jetstream.JetStream, msg *nats.Msg) (*jetstream.PubAck, error) {
	attempt := func() (*jetstream.PubAck, error) {
		actx, cancel := context.WithTimeout(ctx, ackTimeout)
		defer cancel()
		ack, err := js.PublishMsg(actx, msg)
		if err != nil && ctx.Err() != nil {
			return nil, backoff.Permanent(ctx.Err())
		}
		return ack, err
	}
	ack, err := backoff.RetryWithData(attempt, retryPolicy(ctx, storeBudget))
	if err != nil {
		return nil, fmt.Errorf("%s not stored within %s: %w", msg.Header.Get(jetstream.MsgIDHeader), storeBudget, err)
	}
	return ack, nil
}
