package messages

import (
	"fmt"
	"strings"
)

// Subjects. Every subject names the acting partner and the customer as single
// tokens, so NATS authorization can confine a partner's credentials to
// "csp.cmd.<its partner ID>.>" and "csp.evt.<its partner ID>.>": the acting
// partner is whatever the broker let the sender publish as, never a field the
// sender fills in (RULES PTN-1, ARCHITECTURE G6).
//
//	csp.cmd.<partner>.<customer>.<command type>   published by upstream systems
//	csp.cmdp.<partition>.<partner>.<customer>.<command type>
//	                                              the same command as stored: the
//	                                              command stream maps it to a
//	                                              partition of the customer token
//	csp.evt.<partner>.<customer>.<event type>     published by the processor
//	csp.dlq.<code>                                commands that could not be decoded
const (
	CommandSubjectPrefix   = "csp.cmd"
	PartitionSubjectPrefix = "csp.cmdp"
	EventSubjectPrefix     = "csp.evt"
	DeadLetterPrefix       = "csp.dlq"
)

// CommandSubject is the subject an upstream system publishes a command to.
func CommandSubject(partnerID, customerID string, t CommandType) string {
	return CommandSubjectPrefix + "." + partnerID + "." + customerID + "." + string(t)
}

// EventSubject is the subject of an event for a partner and customer.
func EventSubject(partnerID, customerID string, t EventType) string {
	return EventSubjectPrefix + "." + partnerID + "." + customerID + "." + string(t)
}

// DeadLetterSubject is where an undecodable command is parked, by reason code.
func DeadLetterSubject(code string) string { return DeadLetterPrefix + "." + code }

// Route is what a stored command subject says about the command.
type Route struct {
	Partition  int
	PartnerID  string
	CustomerID string
	Type       CommandType
}

// ParseStoredCommandSubject reads a subject of the form
// csp.cmdp.<partition>.<partner>.<customer>.<type...>.
func ParseStoredCommandSubject(subject string) (Route, error) {
	rest, ok := strings.CutPrefix(subject, PartitionSubjectPrefix+".")
	if !ok {
		return Route{}, fmt.Errorf("subject %q is not a stored command subject", subject)
	}
	parts := strings.SplitN(rest, ".", 4)
	if len(parts) != 4 {
		return Route{}, fmt.Errorf("subject %q lacks partition, partner, customer or type", subject)
	}
	var p int
	if _, err := fmt.Sscanf(parts[0], "%d", &p); err != nil {
		return Route{}, fmt.Errorf("subject %q: bad partition %q", subject, parts[0])
	}
	if !ValidToken(parts[1]) || !ValidToken(parts[2]) {
		return Route{}, fmt.Errorf("subject %q: partner or customer is not a valid identifier", subject)
	}
	return Route{Partition: p, PartnerID: parts[1], CustomerID: parts[2], Type: CommandType(parts[3])}, nil
}

// HeaderSimulatedTime carries a command's effective time (RFC 3339) from
// the simulator. Only a processor started in simulation mode honours it; in
// normal mode a command carrying it is dead-lettered (ARCHITECTURE G4: no
// sender can set the time).
const HeaderSimulatedTime = "Csp-Sim-Time"
