package handlers

import (
	"context"
	"errors"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// Replaying a dead letter: the processor publishes its command again, as
// its sender did, once the operator has fixed what made it fail.
//
//   - Who publishes: this service, with the processor's NATS user (which
//     may publish commands: its timers, and replays). The operator user
//     may publish no command, so a replay cannot be anything but a dead
//     letter's own command, checked here (bus.ReplayOf): only a body
//     that decodes as a command for its original subject is replayed;
//     anything else would only be dead-lettered again.
//   - What: the body unchanged, to the original csp.cmd subject (the
//     stream maps it to the customer's slot as before), with the
//     original Nats-Msg-Id. The command then takes the ordinary path: in
//     its customer's order behind what is in flight, decided, committed,
//     its events published.
//   - Exactly once: a command already in the customer's inbox is not
//     published (already_applied); a replay within JetStream's 2-minute
//     duplicate window of an earlier replay is dropped by JetStream
//     (duplicate); a later one is dropped by the inbox, which remembers
//     applied command IDs as long as the command stream keeps commands
//     (30 days). Replaying a letter twice therefore applies it once.
//   - Within the duplicate window of the original command (the command
//     stream's, 2 minutes unless configured otherwise on the server)
//     JetStream would drop the replay as the original itself; the replay
//     is refused, naming when it can be done.
//   - Its time: a replay takes effect at its own broker timestamp, as
//     any command does (G4): the original's cannot be carried, and
//     deciding it at a time before commands its customer has had applied
//     since would break their order. In simulation mode it keeps the
//     original's Csp-Sim-Time, as a redelivery would.
//   - A replay that fails again: the customer's dead-letter record is
//     cleared before publishing, so the replay gets its MAX_ATTEMPTS and,
//     if it fails again, a dead letter of its own (and the same
//     internal_error answer, whose event ID JetStream and consumers
//     deduplicate).
//   - The dead letter stays in the stream (evidence); its command_status
//     shows "applied" once the replay is applied. Purge removes it.

// replayClockMargin allows for the processor's and the broker's clocks
// differing when checking the duplicate window.
const replayClockMargin = time.Second

func (o *OperatorService) deadLetterReplay(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	m, oe := o.requestedDeadLetter(ctx, body)
	if oe != nil {
		return nil, oe
	}
	s := bus.DeadLetterSummary(m)
	r, err := bus.ReplayOf(m)
	if err != nil {
		return nil, opsErr(opsConflict, "not_replayable", "dead letter %d (%s) cannot be replayed: %v", m.Sequence, s.Code, err)
	}
	cmd := r.Command
	out := messages.DeadLetterReplay{Seq: m.Sequence, Subject: r.Msg.Subject, MsgID: r.Msg.Header.Get(jetstream.MsgIDHeader),
		CustomerID: cmd.CustomerID, CommandID: cmd.ID}
	window, err := o.duplicateWindow(ctx)
	if err != nil {
		return nil, o.opsFailed("reading the command stream's duplicate window", err)
	}
	if reopens := s.CommandStoredAt.Add(window + replayClockMargin); time.Now().Before(reopens) {
		return nil, opsErr(opsConflict, "duplicate_window",
			"JetStream remembers the original command's Nats-Msg-Id %s for %v after it was stored (%s) and would drop the replay; replay after %s",
			out.MsgID, window, s.CommandStoredAt.Format(time.RFC3339), reopens.Format(time.RFC3339))
	}
	store := o.Queries.Store
	applied, err := store.Applied(ctx, cmd.CustomerID, cmd.ID)
	if err != nil {
		return nil, o.opsFailed("reading the command's inbox", err)
	}
	if applied {
		out.Outcome = messages.ReplayAlreadyApplied
		return out, nil
	}
	if err := store.ClearDeadLettered(ctx, cmd.CustomerID, cmd.ID); err != nil {
		return nil, o.opsFailed("clearing the command's dead-letter record", err)
	}
	acks, err := bus.Store(ctx, o.JS, []*nats.Msg{r.Msg}, bus.StoreOptions{})
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			return nil, opsErr(opsConflict, "refused", "the command stream refused the replay: %v", err)
		}
		return nil, o.opsFailed("publishing the replay", err)
	}
	out.Outcome, out.StreamSeq = messages.ReplayPublished, acks[0].Sequence
	if acks[0].Duplicate {
		out.Outcome, out.StreamSeq = messages.ReplayDuplicate, 0
	}
	o.Logger.Info("Operator replayed a dead letter", watermill.LogFields{"seq": m.Sequence, "customer": cmd.CustomerID,
		"command": cmd.ID, "outcome": out.Outcome, "stream_seq": out.StreamSeq})
	return out, nil
}

// duplicateWindow is the command stream's duplicate window as configured
// on the server (bus.DuplicateWindow unless changed there).
func (o *OperatorService) duplicateWindow(ctx context.Context) (time.Duration, error) {
	st, err := o.JS.Stream(ctx, o.Streams.WithDefaults().CommandStream)
	if err != nil {
		return 0, err
	}
	return st.CachedInfo().Config.Duplicates, nil
}
