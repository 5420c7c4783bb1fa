package bus

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultStartupTimeout bounds how long start-up (creating the streams and
// consumers) keeps asking a JetStream that does not answer yet: a cluster
// electing its meta leader after a restart, a node still recovering its
// store. Longer than an election under load, short enough that a
// processor pointed at the wrong place says so.
const DefaultStartupTimeout = 2 * time.Minute

// startupAttempt bounds one attempt of RetryStartup, as nats.go bounds one
// API request by default. An answer can be lost: replicas started together
// on a fresh cluster all create the same streams at once, and nats-server
// 2.15 then answered none of the equal creates of a stream, nor created
// it, until one was sent again (bus TestStartup_ReplicasStartedTogether).
// A short attempt makes such a loss cost seconds instead of the whole
// start-up timeout; a slow but working cluster loses nothing, since every
// attempt keeps what the ones before it created.
const startupAttempt = 5 * time.Second

// RetryStartup calls f until it succeeds, fails for a reason that asking
// again cannot cure, or timeout (DefaultStartupTimeout when zero) passes or
// ctx ends. Each call gets a context with a deadline, so no request of f
// waits unbounded even when ctx has none. f must be safe to call again
// (EnsureStreams is). An attempt lasts at most 5 s (startupAttempt).
func RetryStartup(ctx context.Context, timeout time.Duration, what string, f func(ctx context.Context) error) error {
	return retryStartup(ctx, timeout, startupAttempt, what, f)
}

// retryStartup is RetryStartup with attempts of at most perAttempt, for a
// step that waits inside one attempt (the consumers' handover waits for
// old consumers to fall quiet).
func retryStartup(ctx context.Context, timeout, perAttempt time.Duration, what string, f func(ctx context.Context) error) error {
	if timeout <= 0 {
		timeout = DefaultStartupTimeout
	}
	deadline := time.Now().Add(timeout)
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		end := time.Now().Add(perAttempt)
		if deadline.Before(end) {
			end = deadline
		}
		actx, cancel := context.WithDeadline(ctx, end)
		err := f(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return fmt.Errorf("%s: %w", what, errors.Join(ctx.Err(), err))
		case !transientAPIError(err):
			return err
		case time.Until(deadline) < backoff:
			return fmt.Errorf("%s: JetStream did not answer within %v (%d attempts): %w", what, timeout, attempt, err)
		}
		// Jittered: replicas started together do not ask again together.
		if !sleep(ctx, backoff/2+rand.N(backoff)) {
			return fmt.Errorf("%s: %w", what, errors.Join(ctx.Err(), err))
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// transientAPIError reports whether a JetStream API request that failed
// with err may succeed when asked again: no answer in time, nobody to
// answer, the connection between servers, a cluster without a meta leader
// or a node whose JetStream is not up yet.
func transientAPIError(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10008, // JetStream system temporarily unavailable (no meta leader)
			10004, // incomplete results
			jetstream.JSErrCodeJetStreamNotEnabled, jetstream.JSErrCodeJetStreamNotEnabledForAccount:
			return true
		}
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrDisconnected) || errors.Is(err, nats.ErrConnectionReconnecting)
}
