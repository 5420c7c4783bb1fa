package handlers

import (
	"context"
	"encoding/base64"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// The operator's dead-letter endpoints: list, show and purge here, replay
// in operator_replay.go. Dead letters are addressed by their sequence in
// the dead-letter stream, which never changes; a purged or aged-out one is
// not_found.

func (o *OperatorService) deadLetters() bus.DeadLetters {
	return bus.DeadLetters{JS: o.JS, Stream: o.Streams.WithDefaults().DeadLetterStream}
}

// requestedDeadLetter decodes a DeadLetterRequest and reads its dead
// letter.
func (o *OperatorService) requestedDeadLetter(ctx context.Context, body []byte) (*jetstream.RawStreamMsg, *messages.OperatorError) {
	var req messages.DeadLetterRequest
	if oe := decodeOps(body, &req, `{"seq": n}`); oe != nil {
		return nil, oe
	}
	return o.getDeadLetter(ctx, req.Seq)
}

// getDeadLetter reads dead letter seq for an endpoint.
func (o *OperatorService) getDeadLetter(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, *messages.OperatorError) {
	if seq == 0 {
		return nil, opsErr(opsBadRequest, "invalid_request", "seq: a dead letter's sequence (1 or more) is required")
	}
	m, err := o.deadLetters().Get(ctx, seq)
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return nil, opsErr(opsNotFound, "not_found", "no dead letter %d: never stored, purged, or older than the stream keeps", seq)
	case err != nil:
		return nil, o.opsFailed("reading the dead letter", err)
	}
	return m, nil
}

// summarize is the dead letter's summary with its command's status in the
// customer's Redis records now.
func (o *OperatorService) summarize(ctx context.Context, m *jetstream.RawStreamMsg) (messages.DeadLetterSummary, error) {
	s := bus.DeadLetterSummary(m)
	if s.CommandID == "" {
		return s, nil
	}
	store := o.Queries.Store
	applied, err := store.Applied(ctx, s.CustomerID, s.CommandID)
	if err != nil {
		return s, err
	}
	dead := false
	if !applied {
		if dead, err = store.DeadLettered(ctx, s.CustomerID, s.CommandID); err != nil {
			return s, err
		}
	}
	switch {
	case applied:
		s.CommandStatus = messages.DeadCommandApplied
	case dead:
		s.CommandStatus = messages.DeadCommandSetAside
	default:
		s.CommandStatus = messages.DeadCommandNotApplied
	}
	return s, nil
}

func (o *OperatorService) deadLetterList(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req messages.DeadLetterListRequest
	if oe := decodeOps(body, &req, `{"after": seq, "limit": n, "code": "..."}`); oe != nil {
		return nil, oe
	}
	limit, oe := pageLimit(req.Limit, 50, 200)
	if oe != nil {
		return nil, oe
	}
	if req.Code != "" && !messages.ValidToken(req.Code) {
		return nil, opsErr(opsBadRequest, "invalid_request", "code: %q is not a dead-letter code", req.Code)
	}
	dl := o.deadLetters()
	out := messages.DeadLetterList{DeadLetters: []messages.DeadLetterSummary{}}
	from := req.After + 1
	for {
		m, err := dl.Next(ctx, from, req.Code)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, nil // the last page
		}
		if err != nil {
			return nil, o.opsFailed("reading the dead letters", err)
		}
		if len(out.DeadLetters) == limit {
			out.Next = from - 1 // there is more
			return out, nil
		}
		s, err := o.summarize(ctx, m)
		if err != nil {
			return nil, o.opsFailed("reading the dead letters' commands", err)
		}
		out.DeadLetters = append(out.DeadLetters, s)
		from = m.Sequence + 1
	}
}

func (o *OperatorService) deadLetterShow(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	m, oe := o.requestedDeadLetter(ctx, body)
	if oe != nil {
		return nil, oe
	}
	s, err := o.summarize(ctx, m)
	if err != nil {
		return nil, o.opsFailed("reading the dead letter's command", err)
	}
	d := messages.DeadLetterDetail{DeadLetterSummary: s, Headers: map[string][]string(m.Header), Replayable: true}
	if d.Headers == nil {
		d.Headers = map[string][]string{}
	}
	if utf8.Valid(m.Data) {
		d.Body = string(m.Data)
	} else {
		d.BodyBase64 = base64.StdEncoding.EncodeToString(m.Data)
	}
	if _, err := bus.ReplayOf(m); err != nil {
		d.Replayable, d.NotReplayable = false, err.Error()
	}
	return d, nil
}

// deadLetterPurge removes one dead letter or those stored before a time,
// only with confirm: without it the answer says what would go and nothing
// is removed.
func (o *OperatorService) deadLetterPurge(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req messages.DeadLetterPurgeRequest
	if oe := decodeOps(body, &req, `{"seq": n, "confirm": true} or {"older_than": "<RFC 3339>", "confirm": true}`); oe != nil {
		return nil, oe
	}
	switch {
	case req.Seq != 0 && req.OlderThan != "":
		return nil, opsErr(opsBadRequest, "invalid_request", "give seq or older_than, not both")
	case req.Seq != 0:
		m, oe := o.getDeadLetter(ctx, req.Seq)
		if oe != nil {
			return nil, oe
		}
		if !req.Confirm {
			s := bus.DeadLetterSummary(m)
			return nil, opsErr(opsBadRequest, "confirmation_required",
				"would remove dead letter %d (%s, customer %q, stored %s); nothing was removed: confirm to remove it",
				req.Seq, s.Code, s.CustomerID, s.StoredAt.Format(time.RFC3339))
		}
		if err := o.deadLetters().Delete(ctx, req.Seq); err != nil {
			return nil, o.opsFailed("removing the dead letter", err)
		}
		o.Logger.Info("Operator removed a dead letter", map[string]any{"seq": req.Seq})
		return messages.DeadLetterPurge{Purged: 1}, nil
	case req.OlderThan != "":
		t, err := time.Parse(time.RFC3339Nano, req.OlderThan)
		if err != nil {
			return nil, opsErr(opsBadRequest, "invalid_request", "older_than: %q is not an RFC 3339 time", req.OlderThan)
		}
		dl := o.deadLetters()
		below, count, err := dl.StoredBefore(ctx, t)
		if err != nil {
			return nil, o.opsFailed("finding the dead letters to remove", err)
		}
		if count == 0 {
			return messages.DeadLetterPurge{}, nil
		}
		if !req.Confirm {
			return nil, opsErr(opsBadRequest, "confirmation_required",
				"would remove %d dead letters stored before %s (every sequence below %d); nothing was removed: confirm to remove them",
				count, t.UTC().Format(time.RFC3339), below)
		}
		if err := dl.PurgeBelow(ctx, below); err != nil {
			return nil, o.opsFailed("removing the dead letters", err)
		}
		o.Logger.Info("Operator removed dead letters", map[string]any{"count": count, "below": below})
		return messages.DeadLetterPurge{Purged: count, Below: below}, nil
	}
	return nil, opsErr(opsBadRequest, "invalid_request", "give seq (one dead letter) or older_than (every one stored before it)")
}
