package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// PendingEvent is an event waiting in a customer's outbox, as an operator
// sees it: committed, not yet confirmed published.
type PendingEvent struct {
	CustomerID string
	EventID    string
	Subject    string
	WrittenAt  time.Time
	Bytes      int
}

// errEnough stops a scan that has found what it needs.
var errEnough = errors.New("enough")

// PendingEvents lists the events waiting in outboxes, oldest first: those
// of customerID, or with customerID empty of every customer (a SCAN of the
// outbox keys, which in normal operation finds only the events being
// published now). It returns at most limit entries and whether there were
// more, and how many customers have entries (all of them up to scanLimit
// customers; the count stops there).
func (s *Store) PendingEvents(ctx context.Context, customerID string, limit, scanLimit int) (_ []PendingEvent, customers int, truncated bool, _ error) {
	var (
		mu  sync.Mutex // forEachKey calls concurrently on a cluster
		out []PendingEvent
	)
	read := func(ctx context.Context, customer string) error {
		stored, err := s.readOutbox(ctx, customer)
		if err != nil || len(stored) == 0 {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		customers++
		for _, e := range stored {
			out = append(out, PendingEvent{CustomerID: customer, EventID: e.ID, Subject: e.Subject, WrittenAt: e.WrittenAt.UTC(), Bytes: len(e.Data)})
		}
		if customers >= scanLimit {
			return errEnough
		}
		return nil
	}
	var err error
	if customerID != "" {
		if err = checkCustomerID(customerID); err != nil {
			return nil, 0, false, err
		}
		err = read(ctx, customerID)
	} else {
		err = forEachKey(ctx, s.rdb, s.outboxPattern(), func(ctx context.Context, key string) error {
			if customer, ok := s.customerFromOutboxKey(key); ok {
				return read(ctx, customer)
			}
			return nil
		})
	}
	if err != nil && !errors.Is(err, errEnough) {
		return nil, 0, false, fmt.Errorf("state: pending events: %w", err)
	}
	slices.SortStableFunc(out, func(a, b PendingEvent) int { return a.WrittenAt.Compare(b.WrittenAt) })
	if len(out) > limit {
		return out[:limit], customers, true, nil
	}
	return out, customers, errors.Is(err, errEnough), nil
}
