package state

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"
)

// OutboxEntry is one event waiting in a customer's outbox.
type OutboxEntry struct {
	ID        string    // event ID; becomes Nats-Msg-Id
	Subject   string    // NATS subject to publish to
	Data      []byte    // event body
	WrittenAt time.Time // filled by the store on read (Commit.At of the writing commit); ignored on write
	// OccurredAt is the event's occurred_at, for its CloudEvents ce-time
	// header. Not stored: an entry read back from the outbox has it zero,
	// and the publisher reads it from Data.
	OccurredAt time.Time
	// CommittedAt is when the commit that wrote the entry returned, set by
	// the handler that made it and published as messages.HeaderCommittedAt.
	// Not stored: an entry read back from the outbox has it zero.
	CommittedAt time.Time
	// TraceParent and TraceState are the W3C trace context of the command
	// that caused the event (messages.FormatTrace), stored with the entry
	// so that an event published again from the outbox continues the same
	// trace. Empty in an entry written before they were kept.
	TraceParent, TraceState string
}

// MarkPublished removes confirmed-published events from the customer's
// outbox (HDEL). IDs no longer there are ignored.
func (s *Store) MarkPublished(ctx context.Context, customerID string, eventIDs ...string) error {
	if err := checkCustomerID(customerID); err != nil {
		return err
	}
	if len(eventIDs) == 0 {
		return nil
	}
	if err := s.rdb.HDel(ctx, s.outboxKey(customerID), eventIDs...).Err(); err != nil {
		return fmt.Errorf("state: mark published %s: %w", customerID, err)
	}
	return nil
}

// readOutbox returns every entry of the customer's outbox in the order they
// were written.
func (s *Store) readOutbox(ctx context.Context, customerID string) ([]storedEntry, error) {
	m, err := s.rdb.HGetAll(ctx, s.outboxKey(customerID)).Result()
	if err != nil {
		return nil, fmt.Errorf("state: read outbox %s: %w", customerID, err)
	}
	out := make([]storedEntry, 0, len(m))
	for id, rec := range m {
		e, err := decodeOutbox(id, rec)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b storedEntry) int {
		return cmp.Or(cmp.Compare(a.version, b.version), cmp.Compare(a.seq, b.seq), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
