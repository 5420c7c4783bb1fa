package messages

import (
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NewCommandMsg builds the NATS message for a command the way every
// publisher must: the subject names the partner, the role and the customer,
// and Nats-Msg-Id (CommandMsgID) makes a re-publish within the stream's
// duplicate window harmless.
func NewCommandMsg(partnerID string, role Role, cmd Command) (*nats.Msg, error) {
	if cmd.SchemaVersion == 0 {
		cmd.SchemaVersion = SchemaVersion
	}
	body, err := EncodeCommand(cmd)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(CommandSubject(partnerID, role, cmd.CustomerID, cmd.Type))
	msg.Data = body
	msg.Header.Set(jetstream.MsgIDHeader, CommandMsgID(cmd.CustomerID, cmd.ID))
	return msg, nil
}

// SimClockSubject is the request subject a processor in simulation mode
// answers: the body is SimClockRequest, the reply SimClockReply. The reply
// comes once every timer due up to the requested time has fired and been
// applied, so the simulator can then publish commands stamped with that time.
const SimClockSubject = "csp.sim.clock"

// SimClockRequest moves the simulated clock forward to To.
type SimClockRequest struct {
	To string `json:"to"` // RFC 3339
}

// SimClockReply reports the clock after the move and how many timers fired.
type SimClockReply struct {
	Now   string `json:"now,omitempty"`
	Fired int    `json:"fired"`
	Error string `json:"error,omitempty"`
}
