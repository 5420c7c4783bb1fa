package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// Upstream publishes commands the way an upstream order system should.
type Upstream struct {
	JS jetstream.JetStream
	// SimulatedTime, when set, stamps each command with the time returned
	// (only a processor in simulation mode accepts it).
	SimulatedTime func() time.Time
	// Role is the role the upstream user acts in (default admin_agent,
	// which may manage subscriptions, ROL-1).
	Role messages.Role
}

// Send publishes one command as partner and waits for JetStream to store
// it, publishing it again through an outage (storeOne). It returns the
// stored stream sequence.
func (u *Upstream) Send(ctx context.Context, partnerID string, cmd messages.Command) (uint64, error) {
	role := u.Role
	if role == "" {
		role = messages.RoleAdminAgent
	}
	msg, err := messages.NewCommandMsg(partnerID, role, cmd)
	if err != nil {
		return 0, err
	}
	if u.SimulatedTime != nil {
		msg.Header.Set(messages.HeaderSimulatedTime, u.SimulatedTime().UTC().Format(time.RFC3339Nano))
	}
	ack, err := storeOne(ctx, u.JS, msg)
	if err != nil {
		return 0, fmt.Errorf("publish %s %s: %w", cmd.Type, cmd.ID, err)
	}
	return ack.Sequence, nil
}

// CommandMsg builds the NATS message for a command sent by an admin agent
// of the partner (messages.NewCommandMsg).
func CommandMsg(partnerID string, cmd messages.Command) (*nats.Msg, error) {
	return messages.NewCommandMsg(partnerID, messages.RoleAdminAgent, cmd)
}
