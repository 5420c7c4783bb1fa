package rawlimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// Partner is the partner every command of the load is sent as.
const Partner = "P-RAWLIMIT"

// The command and event types of the load. Only the subjects carry them;
// the bodies are filler.
const (
	commandType = messages.CmdAutoRenewSet
	eventType   = messages.EvtAutoRenewChanged
)

// commandIDPrefix precedes a command's index in its ID: "r42".
const commandIDPrefix = "r"

// commandMsgID is command i's Nats-Msg-Id, as an upstream sets it.
func commandMsgID(customer string, i int) string {
	return messages.CommandMsgID(customer, commandIDPrefix+strconv.Itoa(i))
}

// commandIndex reads the command index back from a Nats-Msg-Id.
func commandIndex(msgID string) (int, error) {
	_, id, ok := strings.Cut(msgID, ":"+commandIDPrefix)
	if !ok {
		return 0, fmt.Errorf("Nats-Msg-Id %q is not one of the load's", msgID)
	}
	return strconv.Atoi(id)
}

// eventIDWidth is the length of a UUID, what the processor's event IDs
// (and so their Nats-Msg-Ids) are.
const eventIDWidth = 36

// eventID is the ID of the load's n-th event overall: UUID-sized, with n
// readable at its end so the event counter can check each arrives once.
func eventID(n int) string {
	return fmt.Sprintf("00000000-0000-5000-8000-%012d", n)
}

// eventIndex reads n back from an event ID.
func eventIndex(id string) (int, error) {
	if len(id) != eventIDWidth {
		return 0, fmt.Errorf("event ID %q is not one of the load's", id)
	}
	return strconv.Atoi(id[eventIDWidth-12:])
}

// echoHandler is the processor's handler without its logic: for each
// command it publishes the command's share of pre-built events through the
// bus publisher, which waits for every PubAck, and returns, so the router
// acks the command as it would the processor's.
type echoHandler struct {
	pub       message.Publisher
	k         float64
	eventBody []byte
	// fail reports a command the load did not send; it is acked (so the
	// partition goes on) and the measurement fails.
	fail func(error)
	// commit, when set, is the command's Redis commit, run before its
	// events are published as the processor commits before it publishes.
	commit commitFunc
}

// commitFunc commits command i of customer for the pipeline measurement.
type commitFunc func(ctx context.Context, customer string, i int) error

func (h *echoHandler) handle(msg *message.Message) error {
	route, err := messages.ParseStoredCommandSubject(msg.Metadata.Get(bus.MetaSubject))
	if err != nil {
		h.fail(err)
		return nil
	}
	i, err := commandIndex(msg.Metadata.Get(jetstream.MsgIDHeader))
	if err != nil {
		h.fail(err)
		return nil
	}
	if h.commit != nil {
		// A failed commit fails the measurement: the raw pipeline has no
		// retries to measure.
		if err := h.commit(msg.Context(), route.CustomerID, i); err != nil {
			h.fail(err)
			return nil
		}
	}
	first, next := eventsBefore(i, h.k), eventsBefore(i+1, h.k)
	subject := messages.EventSubject(route.PartnerID, route.CustomerID, eventType)
	events := make([]*message.Message, 0, next-first)
	for n := first; n < next; n++ {
		m := message.NewMessage(eventID(n), h.eventBody)
		m.Metadata.Set(bus.MetaSubject, subject)
		events = append(events, m)
	}
	// An error nacks the command, which the subscriber retries in place,
	// as in the processor; Nats-Msg-Id drops the events already stored.
	return h.pub.Publish("", events...)
}
