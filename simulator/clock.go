package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages"
)

// Clock drives a processor in simulation mode through time. Advance
// returns once every timer due up to the new time has fired and been
// applied; commands stamped with that time may be published after it.
type Clock struct {
	NC *nats.Conn
	// Now is the simulated time of the last successful Advance.
	Now time.Time
}

// Advance moves the processor's clock to t.
func (c *Clock) Advance(ctx context.Context, t time.Time) (messages.SimClockReply, error) {
	body, _ := json.Marshal(messages.SimClockRequest{To: t.UTC().Format(time.RFC3339Nano)})
	msg, err := c.NC.RequestWithContext(ctx, messages.SimClockSubject, body)
	if err != nil {
		return messages.SimClockReply{}, fmt.Errorf("advance the simulated clock to %v: %w", t, err)
	}
	var reply messages.SimClockReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return reply, fmt.Errorf("clock reply %q: %w", msg.Data, err)
	}
	if reply.Error != "" {
		return reply, fmt.Errorf("advance the simulated clock to %v: %s", t, reply.Error)
	}
	c.Now, _ = time.Parse(time.RFC3339Nano, reply.Now)
	return reply, nil
}
