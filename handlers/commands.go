package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/state"
)

// CommandHandler applies one stored command:
//
//  1. route and decode strictly; anything undecodable is dead-lettered (G5)
//  2. load the customer's state and check the inbox in one round trip
//  3. decide with the pure rules at the command's effective time (G4)
//  4. commit state, outbox and inbox in one Redis script (G1)
//  5. publish the events with Nats-Msg-Id = event ID and wait for the acks (G2)
//  6. return nil, so the router acks the command only after all of that
//
// A redelivered command finds its ID in the inbox and only republishes the
// events its first application left unconfirmed. A failure is retried in
// place; one that is not transient is dead-lettered after MaxAttempts
// attempts so that it does not stall its partition (poison.go).
type CommandHandler struct {
	Store     *state.Store
	Cleaner   *state.OutboxCleaner
	Publisher message.Publisher
	Catalog   *catalog.Catalog
	Partners  *partners.Registry // nil: every partner acts as direct-bill (PTN-2..PTN-4)
	Clock     ClockMode
	Logger    watermill.LoggerAdapter
	// StateCacheBytes bounds the cache of recently decided customers'
	// state (default DefaultStateCacheBytes); see stateCache.
	StateCacheBytes int
	// MaxAttempts is how often a command failing for a permanent reason is
	// tried before it is dead-lettered (DefaultMaxAttempts when < 1).
	MaxAttempts int

	// onDecide and onFailure are test hooks: called before the rules
	// decide, and with every failed attempt.
	onDecide  func(messages.Command)
	onFailure func(msg *message.Message, err error, transient bool)

	cacheOnce sync.Once
	states    *stateCache
}

// maxConflictRetries bounds how often a command is re-decided when another
// writer committed for the same customer in between (only possible while
// two replicas briefly overlap). Past it the attempt fails as permanent:
// the subscriber retries it with backoff, and MaxAttempts such attempts
// dead-letter it.
const maxConflictRetries = 5

// Handle is a watermill NoPublishHandlerFunc.
func (h *CommandHandler) Handle(msg *message.Message) error {
	if err := h.handleRecovered(msg); err != nil {
		return h.settle(msg, err)
	}
	return nil
}

// handle makes one attempt at a command.
func (h *CommandHandler) handle(msg *message.Message) error {
	ctx := msg.Context()
	route, err := messages.ParseStoredCommandSubject(msg.Metadata.Get(bus.MetaSubject))
	if err != nil {
		return h.deadLetter(msg, &messages.DecodeError{Code: messages.CodeBadSubject, Detail: err.Error()})
	}
	now, err := h.Clock.effectiveTime(msg)
	if de, ok := messages.AsDecodeError(err); ok {
		return h.deadLetter(msg, de)
	} else if err != nil {
		return permanent(err)
	}
	cmd, err := messages.DecodeCommand(route, msg.Payload)
	if de, ok := messages.AsDecodeError(err); ok {
		return h.deadLetter(msg, de)
	} else if err != nil {
		return err
	}

	for attempt := 0; ; attempt++ {
		done, err := h.apply(ctx, route, cmd, now)
		if err != nil || done {
			return err
		}
		if attempt == maxConflictRetries {
			return permanent(fmt.Errorf("command %s: customer %s kept changing under it", cmd.ID, cmd.CustomerID))
		}
	}
}

// apply makes one attempt; done is false on a version conflict.
func (h *CommandHandler) apply(ctx context.Context, route messages.Route, cmd messages.Command, now time.Time) (done bool, err error) {
	snap, err := h.load(ctx, cmd)
	if err != nil {
		return false, fmt.Errorf("load customer %s: %w", cmd.CustomerID, err)
	}
	if snap.Seen != nil {
		return true, h.publish(ctx, cmd.CustomerID, snap.Seen.Pending)
	}
	st, err := rules.DecodeState(snap.Fields)
	if err != nil {
		// Corrupt stored state is a bug to fix, not input to skip; but
		// retrying cannot fix it, and the partition must not wait for
		// the fix: after MaxAttempts the command is dead-lettered.
		return false, permanent(fmt.Errorf("customer %s: %w", cmd.CustomerID, err))
	}
	if h.onDecide != nil {
		h.onDecide(cmd)
	}
	out := rules.Decide(rules.Input{Command: cmd, PartnerID: route.PartnerID, Role: route.Role, Now: now, State: st, Catalog: h.Catalog, Partners: h.Partners})
	if out.Ignored { // a timer.fired not due: no trace, not even in the inbox (rules.Decide)
		h.Logger.Info("Timer command ignored: not due or stale", watermill.LogFields{"customer": cmd.CustomerID, "command": cmd.ID})
		return true, nil
	}

	commit, err := buildCommit(cmd, route, now, snap.Version, out)
	if err != nil {
		return false, permanent(err)
	}
	// Commit indexes the timers first: a crash after that and before the
	// commit leaves an entry without a timer, which fires as a no-op; the
	// other order could lose a timer (G7).
	res, err := h.Store.Commit(ctx, commit)
	if err != nil {
		return false, fmt.Errorf("commit command %s: %w", cmd.ID, err)
	}
	switch res.Status {
	case state.Committed:
		h.cache().put(cmd.CustomerID, res.Version, applied(snap.Fields, commit.Set, commit.Delete))
		return true, h.publish(ctx, cmd.CustomerID, commit.Events)
	case state.Duplicate:
		h.cache().drop(cmd.CustomerID)
		return true, h.publish(ctx, cmd.CustomerID, res.Seen.Pending)
	case state.VersionConflict:
		h.cache().drop(cmd.CustomerID)
		return false, nil
	}
	return false, permanent(fmt.Errorf("commit command %s: unknown status %d", cmd.ID, res.Status))
}

// load is the customer's state to decide on: from the cache when this
// process committed the customer's last change (the commit script then
// checks that nothing changed since, and the inbox), else from Redis with
// the inbox check in the same round trip.
func (h *CommandHandler) load(ctx context.Context, cmd messages.Command) (state.Snapshot, error) {
	if c, ok := h.cache().get(cmd.CustomerID); ok {
		return state.Snapshot{Version: c.version, Fields: c.fields}, nil
	}
	return h.Store.Load(ctx, cmd.CustomerID, cmd.ID)
}

func (h *CommandHandler) cache() *stateCache {
	h.cacheOnce.Do(func() { h.states = newStateCache(h.StateCacheBytes) })
	return h.states
}

// inboxResult is what the inbox remembers of an applied command.
type inboxResult struct {
	Outcome string `json:"outcome"`
	Code    string `json:"code,omitempty"`
	Events  int    `json:"events"`
}

// buildCommit turns a decision into the atomic Redis step: changed
// entities, the events for the outbox, and the inbox record.
func buildCommit(cmd messages.Command, route messages.Route, now time.Time, version int64, out rules.Outcome) (state.Commit, error) {
	fields, err := out.State.EncodeFields(out.Changed)
	if err != nil {
		return state.Commit{}, err
	}
	events := make([]state.OutboxEntry, 0, len(out.Events))
	own := 0 // the command's own events, not those of a parked command or an overdue timer
	for i, d := range out.Events {
		ev := messages.Event{
			ID: messages.EventID(cmd.CustomerID, cmd.ID, i), Type: d.Type, SchemaVersion: messages.SchemaVersion,
			CommandID: cmd.ID, CommandType: cmd.Type, PartnerID: d.PartnerID, CustomerID: cmd.CustomerID,
			OccurredAt: now, Data: d.Data,
		}
		if d.ID != "" { // an overdue timer fired first keeps its own event IDs and time (G7)
			ev.ID = d.ID
		}
		if !d.At.IsZero() {
			ev.OccurredAt = d.At
		}
		if d.CauseID != "" { // a parked command applied now (REN-4), or an overdue timer
			ev.CommandID, ev.CommandType = d.CauseID, d.CauseType
		} else {
			own++
		}
		body, err := messages.EncodeEvent(ev)
		if err != nil {
			return state.Commit{}, fmt.Errorf("encode event %s: %w", d.Type, err)
		}
		events = append(events, state.OutboxEntry{ID: ev.ID, Subject: messages.EventSubject(d.PartnerID, cmd.CustomerID, d.Type), Data: body})
	}
	res := inboxResult{Outcome: "accepted", Events: len(events)}
	if own == 1 && out.Events[len(out.Events)-1].Type == messages.EvtCommandDeferred {
		res.Outcome = "deferred" // REN-4: parked until a renewal completes
	}
	if out.Rejected != nil {
		res = inboxResult{Outcome: "rejected", Code: out.Rejected.Code, Events: len(events)}
	}
	result, _ := json.Marshal(res)
	return state.Commit{
		CustomerID: cmd.CustomerID, CommandID: cmd.ID, ExpectedVersion: version,
		Set: fields, Delete: out.Deleted, Events: events, Result: result, At: now, WrittenAt: time.Now(),
		Timers: timerEntries(cmd.CustomerID, out.TimersSet), Partition: route.Partition,
	}, nil
}

func timerEntries(customerID string, timers []*rules.Timer) []state.TimerEntry {
	out := make([]state.TimerEntry, len(timers))
	for i, t := range timers {
		out[i] = state.TimerEntry{CustomerID: customerID, TimerID: t.ID, Kind: t.Kind, SubscriptionID: t.SubscriptionID, DueAt: t.DueAt}
	}
	return out
}

// publish sends outbox entries to JetStream and, once every PubAck is in,
// queues their removal from the outbox. A failure is transient whatever
// its cause: the command is committed, so it is retried (its redelivery
// republishes from the outbox), never rejected.
func (h *CommandHandler) publish(ctx context.Context, customerID string, entries []state.OutboxEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := PublishOutbox(h.Publisher, entries); err != nil {
		return transient(err)
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	h.Cleaner.Enqueue(customerID, ids...)
	return nil
}

// PublishOutbox publishes outbox entries with Nats-Msg-Id = event ID and
// waits for JetStream to store them all. The outbox relay uses it too.
func PublishOutbox(pub message.Publisher, entries []state.OutboxEntry) error {
	msgs := make([]*message.Message, len(entries))
	for i, e := range entries {
		m := message.NewMessage(e.ID, e.Data)
		m.Metadata.Set(bus.MetaSubject, e.Subject)
		msgs[i] = m
	}
	if err := pub.Publish("", msgs...); err != nil {
		return fmt.Errorf("publish %d events: %w", len(msgs), err)
	}
	return nil
}

// deadLetter parks an undecodable command on csp.dlq.<code> with the
// reason, and lets the router ack it: bad input changes nothing and does
// not stop the partition (G5). The dead letter keeps the command's
// Nats-Msg-Id, so a redelivery does not park it twice.
func (h *CommandHandler) deadLetter(msg *message.Message, de *messages.DecodeError) error {
	dl, err := bus.NewDeadLetter(msg, de.Code, de.Detail)
	if err != nil {
		return err
	}
	if err := h.Publisher.Publish("", dl); err != nil {
		return transient(fmt.Errorf("dead-letter %s: %w", msg.UUID, err))
	}
	h.Logger.Info("Command dead-lettered", watermill.LogFields{"message": msg.UUID, "code": de.Code, "detail": de.Detail})
	return nil
}
