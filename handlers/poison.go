package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/state"
)

// A poison command never stalls its partition.
//
// The subscriber hands a nacked command to the handler again, in place,
// with exponential backoff (cenkalti/backoff, bus.SubscriberConfig's retry
// intervals), so nothing of its partition overtakes it. Handle sorts every
// failure into one of two kinds:
//
//   - transient: the store or the broker is unreachable, busy or slow
//     (see isTransient). Retrying cures it, and giving up would reject a
//     good command, so it is retried in place however long it lasts and
//     never dead-lettered. Publishing events of a committed command is
//     always transient: the command is applied, it cannot be rejected.
//   - permanent: everything else, a commit the script refuses, stored state
//     that no longer decodes, a panic in a rule, an event that cannot be
//     encoded, a customer that kept changing under the command. It is
//     retried too (MaxAttempts in all, counted by bus.Attempts, so
//     deliveries before a crash count), and then the command is set aside:
//     dead-lettered on csp.dlq.internal_error with the error and the attempt
//     count, its acting partner answered with command.rejected code
//     internal_error, the fact recorded in Redis (state.MarkDeadLettered),
//     and acked, so the partition goes on. Nothing is written to the
//     customer's state: the commit is what could not be made.
//
// Watermill's PoisonQueue middleware was not used: it dead-letters on the
// first error that passes its filter (the retries live in our subscriber,
// below the router, so it cannot count them), republishes the command with
// its own metadata on a topic rather than our csp.dlq.<code> subject and
// headers, and cannot answer the partner.

// DefaultMaxAttempts is how often a command that fails for a permanent
// reason is tried before it is dead-lettered (Config.MaxAttempts).
const DefaultMaxAttempts = 5

// classified marks a failure at the point that knows its kind; it wins over
// isTransient's guess from the library error it wraps (the outermost mark
// wins).
type classified struct {
	err       error
	transient bool
}

func (c *classified) Error() string { return c.err.Error() }
func (c *classified) Unwrap() error { return c.err }

// permanent marks err as one retrying cannot cure.
func permanent(err error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err}
}

// transient marks err as one retrying in place will cure.
func transient(err error) error {
	if err == nil {
		return nil
	}
	return &classified{err: err, transient: true}
}

// isTransient reports whether a handler failure is the store or the broker
// being unavailable rather than something wrong with the command or its
// data. Marked errors (permanent, transient) say so themselves. Otherwise:
// network errors and timeouts, EOF, closed connections and pools, a context
// deadline, Redis replies that say the server cannot serve now (LOADING,
// BUSY, CLUSTERDOWN, TRYAGAIN, MASTERDOWN, READONLY during a failover,
// MISCONF and OOM when it refuses writes, NOREPLICAS, max clients), NATS
// timeouts, no responders and a connection that is down. Anything else (a
// Lua error, WRONGTYPE, a decode error) is permanent.
//
// Decision: OOM and MISCONF count as transient. They refuse every write,
// so classifying them permanent would reject every command until an
// operator frees memory or fixes persistence; waiting is what an outage
// calls for.
func isTransient(err error) bool {
	var c *classified
	if errors.As(err, &c) {
		return c.transient
	}
	for _, target := range transientErrors {
		if errors.Is(err, target) {
			return true
		}
	}
	if redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMasterDownError(err) || redis.IsMaxClientsError(err) {
		return true
	}
	var re redis.Error
	if errors.As(err, &re) {
		code, _, _ := strings.Cut(re.Error(), " ")
		switch code {
		case "BUSY", "OOM", "MISCONF", "NOREPLICAS":
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne)
}

var transientErrors = []error{
	context.DeadlineExceeded, context.Canceled,
	io.EOF, io.ErrUnexpectedEOF, io.ErrClosedPipe, net.ErrClosed,
	syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, syscall.ETIMEDOUT,
	redis.ErrClosed, redis.ErrPoolTimeout, redis.ErrPoolExhausted,
	redis.ErrAutoPipelineTimeout, redis.ErrAutoPipelineQueueFull,
	nats.ErrTimeout, nats.ErrNoResponders, nats.ErrConnectionClosed, nats.ErrConnectionDraining,
	nats.ErrConnectionReconnecting, nats.ErrDisconnected, nats.ErrStaleConnection, nats.ErrNoServers,
	jetstream.ErrNoStreamResponse, jetstream.ErrAsyncPublishTimeout, jetstream.ErrTooManyStalledMsgs,
	jetstream.ErrServerShutdown, jetstream.ErrJetStreamPublisherClosed, jetstream.ErrJetStreamNotEnabled,
	bus.ErrPublisherClosed,
	// A commit that fewer Redis replicas acknowledged than configured is
	// applied on the master; the retry finds it applied, waits for the
	// replicas again and only then publishes its events (state/replicas.go).
	state.ErrReplicasBehind,
	// This replica lost the command's partition to a later lease holder,
	// who applies the command; it must never be dead-lettered here.
	state.ErrFenced,
	// A Redis Cluster slot moved between finding its master and the
	// commit; nothing was written and the retry finds the new master.
	state.ErrSlotMoved,
	// A commit whose WAIT fell short was lost in a Redis failover; the
	// retry decides the command again.
	state.ErrCommitLost,
}

// maxAttempts is the configured limit, at least 1.
func (h *CommandHandler) maxAttempts() int {
	if h.MaxAttempts < 1 {
		return DefaultMaxAttempts
	}
	return h.MaxAttempts
}

// handleRecovered is handle with a panic turned into a permanent error.
func (h *CommandHandler) handleRecovered(msg *message.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = permanent(fmt.Errorf("panic handling %s: %v\n%s", msg.UUID, r, debug.Stack()))
		}
	}()
	return h.handle(msg)
}

// settle decides what a failed attempt becomes: nil (ack) once the command
// is dead-lettered, else the error (nack: the subscriber retries in place
// after its backoff).
func (h *CommandHandler) settle(msg *message.Message, err error) error {
	attempts := bus.Attempts(msg)
	fields := watermill.LogFields{"message": msg.UUID, "attempt": attempts}
	isT := isTransient(err)
	if h.onFailure != nil {
		h.onFailure(msg, err, isT)
	}
	if isT {
		h.Logger.Info("Command failed for a transient reason; retrying in place", fields.Add(watermill.LogFields{"error": err.Error()}))
		return err
	}
	route, cmd, known := identify(msg)
	// A redelivery of a command already set aside (its ack was lost) is
	// acked without being tried MaxAttempts times and answered again.
	if known {
		if dead, derr := h.Store.DeadLettered(msg.Context(), cmd.CustomerID, cmd.ID); derr == nil && dead {
			h.Logger.Info("Command was dead-lettered before; acking it", fields)
			h.commands.finished(msg, cmd.Type, cmdOutcomeDuplicate)
			return nil
		}
	}
	if attempts < h.maxAttempts() {
		h.Logger.Error("Command failed; retrying in place", err, fields)
		return err
	}
	if derr := h.setAside(msg, err, attempts, route, cmd, known); derr != nil {
		h.Logger.Error("Dead-lettering a failed command failed; retrying", derr, fields)
		return errors.Join(err, derr)
	}
	h.Logger.Error("Command dead-lettered as internal_error", err, fields)
	h.commands.deadLettered(msg, routedType(msg), messages.CodeInternalError)
	return nil
}

// identify decodes what the command is again (for a failure after the
// decoding, this cannot fail).
func identify(msg *message.Message) (messages.Route, messages.Command, bool) {
	route, err := messages.ParseStoredCommandSubject(msg.Metadata.Get(bus.MetaSubject))
	if err != nil {
		return route, messages.Command{}, false
	}
	cmd, err := messages.DecodeCommand(route, msg.Payload)
	return route, cmd, err == nil
}

// setAside dead-letters a command that failed MaxAttempts times, answers
// its acting partner with command.rejected internal_error and records it in
// Redis. Publishing first and recording last means a crash in between only
// repeats the publishes, which the dead letter's and the event's
// Nats-Msg-Ids deduplicate.
//
// Decisions: the answer goes to the partner of the command's subject, the
// only one known without the customer's state (for a timer command that is
// the scheduler's _system); its facts are the attempt count and the dead
// letter's code, not the error text, which may name internals and goes to
// the dead letter for the operator. Its ID is InternalErrorEventID, so it
// cannot clash with an event the command would emit if it were applied
// later (after an operator republished it).
func (h *CommandHandler) setAside(msg *message.Message, cause error, attempts int, route messages.Route, cmd messages.Command, known bool) error {
	dl, err := bus.NewDeadLetter(msg, messages.CodeInternalError, cause.Error())
	if err != nil {
		return err
	}
	dl.Metadata.Set(bus.MetaDeadLetterAttempts, strconv.Itoa(attempts))
	out := []*message.Message{dl}
	if known {
		ev, err := h.internalErrorEvent(msg, route, cmd, attempts)
		if err != nil {
			return err
		}
		out = append(out, ev)
	}
	if err := h.Publisher.Publish("", out...); err != nil {
		return fmt.Errorf("dead-letter %s: %w", msg.UUID, err)
	}
	if known {
		if err := h.Store.MarkDeadLettered(msg.Context(), cmd.CustomerID, cmd.ID, time.Now()); err != nil {
			return fmt.Errorf("record dead letter of %s: %w", msg.UUID, err)
		}
	}
	return nil
}

// internalErrorEvent is the GEN-6 answer to a command set aside.
func (h *CommandHandler) internalErrorEvent(msg *message.Message, route messages.Route, cmd messages.Command, attempts int) (*message.Message, error) {
	at, err := h.Clock.effectiveTime(msg)
	if err != nil {
		at = time.Time{}
	}
	ev := messages.Event{
		ID: messages.InternalErrorEventID(cmd.CustomerID, cmd.ID), Type: messages.EvtCommandRejected, SchemaVersion: messages.SchemaVersion,
		CommandID: cmd.ID, CommandType: cmd.Type, PartnerID: route.PartnerID, CustomerID: cmd.CustomerID, OccurredAt: at,
		Data: &messages.CommandRejectedEvent{Rejection: messages.Rejection{
			Code: messages.CodeInternalError,
			Description: fmt.Sprintf("the processor could not apply this command after %d attempts; nothing was changed "+
				"and the command was set aside for an operator", attempts),
			Rule:   "GEN-6",
			Data:   map[string]string{"attempts": strconv.Itoa(attempts), "dead_letter_code": messages.CodeInternalError},
			Source: "processor",
		}},
	}
	body, err := messages.EncodeEvent(ev)
	if err != nil {
		return nil, fmt.Errorf("encode internal_error answer to %s: %w", msg.UUID, err)
	}
	m := message.NewMessage(ev.ID, body)
	m.Metadata.Set(bus.MetaSubject, messages.EventSubject(route.PartnerID, cmd.CustomerID, ev.Type))
	tp, ts := messages.FormatTrace(messages.CommandTrace(msg.Metadata.Get, cmd.CustomerID, cmd.ID))
	for k, v := range messages.EventTraceHeaders(tp, ts, ev.ID) {
		m.Metadata.Set(k, v)
	}
	return m, nil
}
