package messages

import (
	"fmt"
	"regexp"

	"github.com/google/uuid"
)

// Identifiers that travel inside NATS subjects (partner, customer) must be a
// single subject token: no dots, no wildcards, no spaces. Command IDs are
// wider because upstream systems often use their own composite keys.
var (
	tokenPattern     = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	commandIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)
)

// ValidToken reports whether s may be used as a partner, customer,
// subscription or order identifier.
func ValidToken(s string) bool { return tokenPattern.MatchString(s) }

// ValidCommandID reports whether s may be used as a command ID.
func ValidCommandID(s string) bool { return commandIDPattern.MatchString(s) }

// eventNamespace scopes the name-based UUIDs of events so they can never
// collide with UUIDs minted elsewhere from the same text.
var eventNamespace = uuid.MustParse("6f1d3c8e-2f4b-5a1e-9c47-3b0e8a9d7c21")

// EventID derives the ID of the n-th event (counting from 0) caused by a
// command. It is a pure function of (customer, command ID, n), so a command
// redelivered after a crash produces events with exactly the same IDs, which
// JetStream (Nats-Msg-Id) and billing systems use to drop duplicates. The
// customer is part of the input because command IDs are only unique per
// customer.
func EventID(customerID, commandID string, n int) string {
	return uuid.NewSHA1(eventNamespace, fmt.Appendf(nil, "%s\x00%s\x00%d", customerID, commandID, n)).String()
}

// InternalErrorEventID is the ID of the command.rejected event (code
// internal_error) that answers a command the processor gave up on. Such a
// command committed nothing, so it has no events of its own; the ID is a
// pure function of (customer, command ID), so answering it again after a
// redelivery publishes the same ID. Its input starts with a byte no
// customer ID can contain, so it never equals an EventID of any command.
func InternalErrorEventID(customerID, commandID string) string {
	return uuid.NewSHA1(eventNamespace, fmt.Appendf(nil, "\x01%s\x00%s\x00%s", CodeInternalError, customerID, commandID)).String()
}

// DerivedID derives a stable identifier (for example a subscription ID) from
// a command: the same command always yields the same ID, so a redelivered
// order creates the same subscriptions.
func DerivedID(prefix, customerID, commandID string, n int) string {
	u := uuid.NewSHA1(eventNamespace, fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", prefix, customerID, commandID, n))
	return prefix + "-" + u.String()[:8] + u.String()[9:13] + u.String()[14:18] + u.String()[19:23]
}

// CommandMsgID is the Nats-Msg-Id an upstream system should publish a
// command with, so JetStream drops a re-publish within its duplicate
// window before it reaches the processor. Command IDs are unique per
// customer, so the customer is part of it. (The processor's inbox catches
// the duplicates the window misses.)
func CommandMsgID(customerID, commandID string) string { return customerID + ":" + commandID }
