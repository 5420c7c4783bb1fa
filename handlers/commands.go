package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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
	Store *state.Store
	// Customers applies each decision (state.Customers.Apply): the state
	// cache, the inbox check and the version-conflict retries live there.
	Customers *state.Customers
	Cleaner   *state.OutboxCleaner
	Publisher message.Publisher
	Catalog   *catalog.Catalog
	Partners  *partners.Registry // nil: every partner acts as direct-bill (PTN-2..PTN-4)
	Clock     ClockMode
	Logger    watermill.LoggerAdapter
	// MaxAttempts is how often a command failing for a permanent reason is
	// tried before it is dead-lettered (DefaultMaxAttempts when < 1).
	MaxAttempts int

	// onDecide and onFailure are test hooks: called before the rules
	// decide, and with every failed attempt.
	onDecide  func(messages.Command)
	onFailure func(msg *message.Message, err error, transient bool)

	// counters count the timer commands applied, commands the commands'
	// outcomes (nil: not counted).
	counters *timerCounters
	commands *commandCounters
}

// Handle is a watermill NoPublishHandlerFunc.
func (h *CommandHandler) Handle(msg *message.Message) error {
	h.commands.handed(msg)
	err := h.handleRecovered(msg)
	if err != nil {
		err = h.settle(msg, err)
	}
	if err == nil {
		h.commands.acked(msg)
	}
	return err
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

	// The lease this replica consumes the partition under (0 without
	// leases): a replica that lost it cannot commit over its successor.
	fence, _ := strconv.ParseUint(msg.Metadata.Get(bus.MetaFence), 10, 64)
	// Every event of the command continues its trace (messages.CommandTrace),
	// kept with the outbox entries for a publish from the outbox.
	traceparent, tracestate := messages.FormatTrace(messages.CommandTrace(msg.Metadata.Get, cmd.CustomerID, cmd.ID))
	var last decision // of the decision committed, for the counters
	// The archived entities the command names are loaded as tombstones
	// (rules.Referenced), so it is answered as when they were live.
	res, err := h.Customers.ApplyReferencing(ctx, cmd.CustomerID, cmd.ID, rules.Referenced(cmd), func(snap state.Snapshot) (*state.Commit, error) {
		commit, d, err := h.decide(ctx, route, cmd, now, snap)
		if commit != nil {
			commit.Fence = fence
			for i := range commit.Events {
				commit.Events[i].TraceParent, commit.Events[i].TraceState = traceparent, tracestate
			}
		}
		last = d
		return commit, err
	})
	if err != nil {
		return err
	}
	switch res.Status {
	case state.Committed:
		committed := time.Now()
		for i := range res.Events {
			res.Events[i].CommittedAt = committed
		}
		h.commands.committed(msg, cmd.Type, last)
	case state.Duplicate:
		h.commands.finished(msg, cmd.Type, cmdOutcomeDuplicate)
	default: // a timer command that was not due: nothing committed
		h.commands.finished(msg, cmd.Type, cmdOutcomeIgnored)
	}
	h.counters.commandApplied(cmd.Type, res.Status)
	return h.publish(ctx, cmd.CustomerID, res.Events)
}

// decide is the update closure: the rules' decision on the customer's
// current state, as the commit that records it (nil for a timer.fired that
// is not due: no trace, not even in the inbox). It may run more than once
// for one command (after a version conflict) and has no side effects.
func (h *CommandHandler) decide(ctx context.Context, route messages.Route, cmd messages.Command, now time.Time, snap state.Snapshot) (*state.Commit, decision, error) {
	st, err := decodedState(snap)
	if err == nil && snap.Tombstones != nil {
		// Tombstones come with a load only; a cached state keeps those
		// of its last load (a tombstone never changes).
		st.Tombstones, err = rules.DecodeTombstones(snap.Tombstones)
	}
	if err != nil {
		// Corrupt stored state is a bug to fix, not input to skip; but
		// retrying cannot fix it, and the partition must not wait for
		// the fix: after MaxAttempts the command is dead-lettered.
		return nil, decision{}, permanent(fmt.Errorf("customer %s: %w", cmd.CustomerID, err))
	}
	if h.onDecide != nil {
		h.onDecide(cmd)
	}
	now, clock, err := h.testClock(ctx, cmd, st, now)
	if err != nil {
		return nil, decision{}, transient(err)
	}
	out := rules.Decide(rules.Input{Command: cmd, PartnerID: route.PartnerID, Role: route.Role, Now: now, State: st, Catalog: h.Catalog, Partners: h.Partners, TestClock: clock, Archive: true})
	if out.Ignored {
		h.Logger.Info("Timer command ignored: not due or stale", watermill.LogFields{"customer": cmd.CustomerID, "command": cmd.ID})
		return nil, decision{}, nil
	}
	// The commit indexes the timers first: a crash after that and before
	// the commit leaves an entry without a timer, which fires as a no-op;
	// the other order could lose a timer (G7).
	commit, res, err := buildCommit(cmd, route, now, out)
	if err != nil {
		return nil, decision{}, permanent(err)
	}
	if c := out.State.Customer; c != nil {
		commit.TestClock = c.TestClockID
	}
	// The decided state is exactly the stored one with the commit applied
	// (the rules' tests hold every decision to that), so the customer's
	// next command starts from it without decoding.
	commit.Decoded = out.State
	return &commit, decisionOf(out, res), nil
}

// decodedState is the state a snapshot holds: the one the last commit
// cached, or its fields decoded.
func decodedState(snap state.Snapshot) (rules.CustomerState, error) {
	if st, ok := snap.Decoded.(rules.CustomerState); ok {
		return st, nil
	}
	return rules.DecodeState(snap.Fields)
}

// inboxResult is what the inbox remembers of an applied command.
type inboxResult struct {
	Outcome string `json:"outcome"`
	Code    string `json:"code,omitempty"`
	Events  int    `json:"events"`
}

// buildCommit turns a decision into the atomic Redis step: changed
// entities, the events for the outbox, and the inbox record (also
// returned decoded, for the counters).
func buildCommit(cmd messages.Command, route messages.Route, now time.Time, out rules.Outcome) (state.Commit, inboxResult, error) {
	fields, err := out.State.EncodeFields(out.Changed)
	if err != nil {
		return state.Commit{}, inboxResult{}, err
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
			return state.Commit{}, inboxResult{}, fmt.Errorf("encode event %s: %w", d.Type, err)
		}
		events = append(events, state.OutboxEntry{ID: ev.ID, Subject: messages.EventSubject(d.PartnerID, cmd.CustomerID, d.Type),
			Data: body, OccurredAt: ev.OccurredAt})
	}
	res := inboxResult{Outcome: "accepted", Events: len(events)}
	if own == 1 && out.Events[len(out.Events)-1].Type == messages.EvtCommandDeferred {
		res.Outcome = "deferred" // REN-4: parked until a renewal completes
	}
	if out.Rejected != nil {
		res = inboxResult{Outcome: "rejected", Code: out.Rejected.Code, Events: len(events)}
	}
	result, _ := json.Marshal(res)
	archive, tombs, err := rules.EncodeArchived(out.Archived)
	if err != nil {
		return state.Commit{}, inboxResult{}, err
	}
	activity, err := activityRecords(out.ActivityAppended)
	if err != nil {
		return state.Commit{}, inboxResult{}, err
	}
	commit := state.Commit{
		Archive: archive, Tombstones: tombs, Absent: out.Absent,
		CustomerID: cmd.CustomerID, CommandID: cmd.ID,
		Set: fields, Delete: out.Deleted, Events: events, Result: result, At: now, WrittenAt: time.Now(),
		Timers: timerEntries(cmd.CustomerID, out.TimersSet), Slot: route.Slot,
		Activity: activity, ActivityMax: out.ActivityLogMax,
	}
	if out.ActivityTrimmedThrough != nil {
		commit.ActivityTrimmedThrough = *out.ActivityTrimmedThrough
	}
	return commit, res, nil
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

// PublishOutbox publishes outbox entries with Nats-Msg-Id = event ID, the
// CloudEvents headers (messages.CloudEventsHeaders) and, for entries of a
// commit just made, messages.HeaderCommittedAt, and waits for JetStream to
// store them all. The outbox relay uses it too.
func PublishOutbox(pub message.Publisher, entries []state.OutboxEntry) error {
	msgs := make([]*message.Message, len(entries))
	for i, e := range entries {
		m := message.NewMessage(e.ID, e.Data)
		m.Metadata.Set(bus.MetaSubject, e.Subject)
		at := e.OccurredAt
		if at.IsZero() {
			at = occurredAt(e) // read back from the outbox by the relay
		}
		ce, err := messages.CloudEventsHeaders(e.ID, e.Subject, at)
		if err != nil {
			return fmt.Errorf("event %s: %w", e.ID, err)
		}
		for k, v := range ce {
			m.Metadata.Set(k, v)
		}
		if !e.CommittedAt.IsZero() {
			m.Metadata.Set(messages.HeaderCommittedAt, messages.FormatCommittedAt(e.CommittedAt))
		}
		for k, v := range messages.EventTraceHeaders(e.TraceParent, e.TraceState, e.ID) {
			m.Metadata.Set(k, v)
		}
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
	h.commands.deadLettered(msg, routedType(msg), de.Code)
	return nil
}

// occurredAt reads an outbox entry's occurred_at from its body, for an
// entry read back from the outbox (rare: the relay after a crash); the
// commit's time when the body does not say.
func occurredAt(e state.OutboxEntry) time.Time {
	var ev struct {
		OccurredAt time.Time `json:"occurred_at"`
	}
	if err := json.Unmarshal(e.Data, &ev); err != nil || ev.OccurredAt.IsZero() {
		return e.WrittenAt
	}
	return ev.OccurredAt
}

// routedType is the command type its stored subject names, whatever its
// body (empty when the subject does not parse).
func routedType(msg *message.Message) messages.CommandType {
	route, _ := messages.ParseStoredCommandSubject(msg.Metadata.Get(bus.MetaSubject))
	return route.Type
}
