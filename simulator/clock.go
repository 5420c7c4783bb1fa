package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages"
)

// Clock drives a processor in simulation mode through time. Advance
// returns once every timer due up to the new time has fired and been
// applied; commands stamped with that time may be published after it.
//
// A move whose reply does not come (the processor restarted, NATS was
// reconnecting), finds no responder (no processor is up yet) or fails on the
// processor's side (its Redis was down) is asked again until clockBudget is
// spent. Asking again is harmless: the processor keeps its clock in Redis
// and only ever moves it forward, so moving to the same time again fires
// nothing new and answers once what is due has been applied; a processor
// busy with the first request answers the second after it (one move at a
// time).
type Clock struct {
	NC *nats.Conn
	// Now is the simulated time of the last successful Advance, for the
	// goroutine that advances the clock; others read Shown.
	Now time.Time
	// shown is Now for other goroutines (the progress line).
	shown atomic.Int64
}

// Shown is the simulated time of the last successful Advance, safe to
// read from any goroutine (zero before the first).
func (c *Clock) Shown() time.Time {
	if ns := c.shown.Load(); ns != 0 {
		return time.Unix(0, ns).UTC()
	}
	return time.Time{}
}

const (
	// clockAttempt bounds one request: longer than a move takes under
	// load, short enough that a request lost with a processor is asked
	// again soon.
	clockAttempt = 10 * time.Second
	// clockBudget bounds all the attempts at one move.
	clockBudget = 5 * time.Minute
)

// errClockReply is a move the processor answered with an error.
var errClockReply = errors.New("the processor could not move its clock")

// clockRequest asks the processor to move a clock (subject, body) and
// retries, each attempt bounded by clockAttempt and all within
// clockBudget, until a reply without an error comes; replyErr reads a
// reply's error.
func clockRequest[R any](ctx context.Context, nc *nats.Conn, subject string, body []byte, replyErr func(*R) string) (R, error) {
	attempt := func() (R, error) {
		actx, cancel := context.WithTimeout(ctx, clockAttempt)
		defer cancel()
		var reply R
		msg, err := nc.RequestWithContext(actx, subject, body)
		switch {
		case ctx.Err() != nil:
			return reply, backoff.Permanent(ctx.Err())
		case err != nil:
			return reply, err
		}
		if err := json.Unmarshal(msg.Data, &reply); err != nil {
			return reply, backoff.Permanent(fmt.Errorf("clock reply %q: %w", msg.Data, err))
		}
		if e := replyErr(&reply); e != "" {
			return reply, fmt.Errorf("%w: %s", errClockReply, e)
		}
		return reply, nil
	}
	return backoff.RetryWithData(attempt, retryPolicy(ctx, clockBudget))
}

// Advance moves the processor's clock to t.
func (c *Clock) Advance(ctx context.Context, t time.Time) (messages.SimClockReply, error) {
	body, _ := json.Marshal(messages.SimClockRequest{To: t.UTC().Format(time.RFC3339Nano)})
	reply, err := clockRequest(ctx, c.NC, messages.SimClockSubject, body, func(r *messages.SimClockReply) string { return r.Error })
	if err != nil {
		return reply, fmt.Errorf("advance the simulated clock to %v: %w", t, err)
	}
	c.Now, _ = time.Parse(time.RFC3339Nano, reply.Now)
	c.shown.Store(c.Now.UnixNano())
	return reply, nil
}
