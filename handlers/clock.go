package handlers

import (
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// ClockMode decides where a command's effective time comes from
// (guarantee G4, README).
type ClockMode int

const (
	// BrokerClock: the effective time is the JetStream timestamp of the
	// stored command, identical on every redelivery and not settable by
	// the sender. A command carrying a simulated time is refused.
	BrokerClock ClockMode = iota
	// SimulatedClock: the simulator sets the time with the Csp-Sim-Time
	// header (stored with the message, so redeliveries see the same
	// value); commands without it fall back to the broker timestamp.
	SimulatedClock
)

// effectiveTime returns the time a command takes effect.
func (m ClockMode) effectiveTime(msg *message.Message) (time.Time, error) {
	broker, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(bus.MetaTimestamp))
	if err != nil {
		return time.Time{}, fmt.Errorf("message %s has no broker timestamp: %w", msg.UUID, err)
	}
	sim := msg.Metadata.Get(messages.HeaderSimulatedTime)
	if sim == "" {
		return broker.UTC(), nil
	}
	if m != SimulatedClock {
		return time.Time{}, &messages.DecodeError{Code: messages.CodeClockNotAllowed,
			Detail: "header " + messages.HeaderSimulatedTime + " is only accepted by a processor in simulation mode"}
	}
	t, err := time.Parse(time.RFC3339Nano, sim)
	if err != nil {
		return time.Time{}, &messages.DecodeError{Code: messages.CodeMalformed,
			Detail: fmt.Sprintf("header %s %q is not an RFC 3339 time", messages.HeaderSimulatedTime, sim)}
	}
	return t.UTC(), nil
}
