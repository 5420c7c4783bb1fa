package state

import (
	"encoding/json"
	"fmt"
	"time"
)

// Records are JSON so that the Lua scripts can read what they need with
// cjson (only the inbox record's "e" list) and a person can read them with
// redis-cli. Byte payloads are []byte, which encoding/json stores as base64,
// so arbitrary bytes survive the trip through cjson untouched.

// inboxRecord is the value of <prefix>:{c}:inbox[commandID].
// The Lua scripts depend on the field name "e".
type inboxRecord struct {
	Result   []byte   `json:"r"`
	EventIDs []string `json:"e"` // never null: cjson must see an array
}

// outboxRecord is the value of <prefix>:{c}:outbox[eventID].
type outboxRecord struct {
	Subject   string `json:"s"`
	Data      []byte `json:"d"`
	WrittenAt int64  `json:"t"` // unix millis, Commit.WrittenAt
	Version   int64  `json:"v"` // customer version the writing commit produced
	Seq       int    `json:"n"` // index of the event within that commit
	// The causing command's W3C trace context (OutboxEntry.TraceParent).
	TraceParent string `json:"tp,omitempty"`
	TraceState  string `json:"ts,omitempty"`
}

// storedEntry is an outbox entry with the position it was written at:
// (version, seq) orders a customer's entries exactly as they were written,
// which WrittenAt alone cannot (one commit writes several in the same
// millisecond).
type storedEntry struct {
	OutboxEntry
	version int64
	seq     int
}

func encodeInbox(result []byte, eventIDs []string) (string, error) {
	if eventIDs == nil {
		eventIDs = []string{}
	}
	b, err := json.Marshal(inboxRecord{Result: result, EventIDs: eventIDs})
	return string(b), err
}

func decodeInbox(rec string) (inboxRecord, error) {
	var r inboxRecord
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return r, fmt.Errorf("state: corrupt inbox record: %w", err)
	}
	return r, nil
}

func encodeOutbox(e OutboxEntry, at time.Time, version int64, seq int) (string, error) {
	b, err := json.Marshal(outboxRecord{
		Subject:   e.Subject,
		Data:      e.Data,
		WrittenAt: at.UnixMilli(),
		Version:   version,
		Seq:       seq,

		TraceParent: e.TraceParent,
		TraceState:  e.TraceState,
	})
	return string(b), err
}

func decodeOutbox(id, rec string) (storedEntry, error) {
	var r outboxRecord
	if err := json.Unmarshal([]byte(rec), &r); err != nil {
		return storedEntry{}, fmt.Errorf("state: corrupt outbox record %q: %w", id, err)
	}
	return storedEntry{
		OutboxEntry: OutboxEntry{
			ID:        id,
			Subject:   r.Subject,
			Data:      r.Data,
			WrittenAt: time.UnixMilli(r.WrittenAt),

			TraceParent: r.TraceParent,
			TraceState:  r.TraceState,
		},
		version: r.Version,
		seq:     r.Seq,
	}, nil
}

// decodeHit builds an InboxHit from an inbox record and the flat
// {eventID, outboxRecord, ...} list the scripts return for it.
func decodeHit(rec string, pending []string) (*InboxHit, error) {
	r, err := decodeInbox(rec)
	if err != nil {
		return nil, err
	}
	hit := &InboxHit{Result: r.Result, EventIDs: r.EventIDs}
	for i := 0; i+1 < len(pending); i += 2 {
		e, err := decodeOutbox(pending[i], pending[i+1])
		if err != nil {
			return nil, err
		}
		hit.Pending = append(hit.Pending, e.OutboxEntry)
	}
	return hit, nil
}
