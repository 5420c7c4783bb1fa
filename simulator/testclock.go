package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages"
)

// TestClocks creates and advances test clocks on a processor in
// simulation mode: one customer's time moves without moving the others'.
// A refused request (Rejection in the reply) is returned as it is, with no
// error; a request the processor failed or left unanswered is asked again
// within clockBudget, which is harmless (a clock is created once and only
// moves forward).
type TestClocks struct {
	NC *nats.Conn
}

// Create creates test clock id (empty: the processor chooses it) at start.
func (c *TestClocks) Create(ctx context.Context, id string, start time.Time) (messages.TestClockReply, error) {
	return c.request(ctx, messages.TestClockRequest{Action: messages.TestClockCreate, TestClockID: id, FrozenTime: start.UTC().Format(time.RFC3339Nano)})
}

// Advance moves test clock id to `to`; it returns once every timer of the
// clock's customers due by then has fired and been applied.
func (c *TestClocks) Advance(ctx context.Context, id string, to time.Time) (messages.TestClockReply, error) {
	return c.request(ctx, messages.TestClockRequest{Action: messages.TestClockAdvance, TestClockID: id, FrozenTime: to.UTC().Format(time.RFC3339Nano)})
}

func (c *TestClocks) request(ctx context.Context, req messages.TestClockRequest) (messages.TestClockReply, error) {
	body, _ := json.Marshal(req)
	reply, err := clockRequest(ctx, c.NC, messages.TestClockSubject, body, func(r *messages.TestClockReply) string { return r.Error })
	if err != nil {
		return reply, fmt.Errorf("test clock %s %s to %s: %w", req.Action, req.TestClockID, req.FrozenTime, err)
	}
	return reply, nil
}
