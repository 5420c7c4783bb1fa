package messages

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Subjects. Every command subject names the acting partner, the acting
// user's role and the customer as single tokens, so NATS authorization can
// confine a user's credentials to "csp.cmd.<its partner ID>.<its role>.>"
// and a partner's to "csp.evt.<its partner ID>.>": who acts, and in which
// role, is whatever the broker let the sender publish as, never a field the
// sender fills in (PTN-1, ROL-1, guarantee G6, README).
//
//	csp.cmd.<partner>.<role>.<customer>.<command type>   published by upstream systems
//	csp.cmdp.<slot>.<partner>.<role>.<customer>.<command type>
//	                                              the same command as stored: the
//	                                              command stream maps it to the
//	                                              slot of the customer token (0..1023)
//	csp.evt.<partner>.<customer>.<event type>     published by the processor
//	csp.dlq.<code>                                commands that could not be decoded
const (
	CommandSubjectPrefix   = "csp.cmd"
	PartitionSubjectPrefix = "csp.cmdp"
	EventSubjectPrefix     = "csp.evt"
	DeadLetterPrefix       = "csp.dlq"
)

// CommandSubject is the subject an upstream system publishes a command to,
// acting as partner in role.
func CommandSubject(partnerID string, role Role, customerID string, t CommandType) string {
	return CommandSubjectPrefix + "." + partnerID + "." + string(role) + "." + customerID + "." + string(t)
}

// EventSubject is the subject of an event for a partner and customer.
func EventSubject(partnerID, customerID string, t EventType) string {
	return EventSubjectPrefix + "." + partnerID + "." + customerID + "." + string(t)
}

// DeadLetterSubject is where an undecodable command is parked, by reason code.
func DeadLetterSubject(code string) string { return DeadLetterPrefix + "." + code }

// Route is what a stored command subject says about the command.
type Route struct {
	Slot       int // the customer's slot, bus.SlotOf(CustomerID)
	PartnerID  string
	Role       Role
	CustomerID string
	Type       CommandType
}

// ParseStoredCommandSubject reads a subject of the form
// csp.cmdp.<slot>.<partner>.<role>.<customer>.<type...>.
func ParseStoredCommandSubject(subject string) (Route, error) {
	rest, ok := strings.CutPrefix(subject, PartitionSubjectPrefix+".")
	if !ok {
		return Route{}, fmt.Errorf("subject %q is not a stored command subject", subject)
	}
	parts := strings.SplitN(rest, ".", 5)
	if len(parts) != 5 {
		return Route{}, fmt.Errorf("subject %q lacks slot, partner, role, customer or type", subject)
	}
	// strconv, not fmt.Sscanf: this runs for every command, and Sscanf
	// costs as much as the rest of the parse (and accepted "5x").
	p, err := strconv.Atoi(parts[0])
	if err != nil || p < 0 {
		return Route{}, fmt.Errorf("subject %q: bad slot %q", subject, parts[0])
	}
	if !ValidToken(parts[1]) || !ValidToken(parts[3]) {
		return Route{}, fmt.Errorf("subject %q: partner or customer is not a valid identifier", subject)
	}
	if !Role(parts[2]).Known() {
		return Route{}, fmt.Errorf("subject %q: %q is not a role", subject, parts[2])
	}
	return Route{Slot: p, PartnerID: parts[1], Role: Role(parts[2]), CustomerID: parts[3], Type: CommandType(parts[4])}, nil
}

// HeaderSimulatedTime carries a command's effective time (RFC 3339) from
// the simulator. Only a processor started in simulation mode honours it; in
// normal mode a command carrying it is dead-lettered (guarantee G4, README: no
// sender can set the time).
const HeaderSimulatedTime = "Csp-Sim-Time"

// HeaderCommittedAt is set on every event the processor publishes right
// after committing its command: the processor's wall-clock time (RFC 3339
// with nanoseconds, UTC) when the commit script that recorded the command's
// state, outbox and inbox returned. A consumer measures the processor's
// part of the way (stored command to committed decision) and its own (the
// commit to the event's arrival) with it; the simulator's report splits its
// latency so. Events published again from the outbox (a redelivered
// command, the relay after a crash) do not carry it: the instant of the
// original commit is not kept. Informational: nothing may depend on it.
const HeaderCommittedAt = "Csp-Committed-At"

// FormatCommittedAt writes t as HeaderCommittedAt's value.
func FormatCommittedAt(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ParseCommittedAt reads HeaderCommittedAt's value.
func ParseCommittedAt(v string) (time.Time, error) { return time.Parse(time.RFC3339Nano, v) }
