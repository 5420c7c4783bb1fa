package state

// Why republishing from the outbox is safe.
//
// The live path writes a command's events to the outbox inside Commit,
// publishes them, and deletes them once JetStream has acknowledged them
// (MarkPublished or the OutboxCleaner). A crash between Commit and the
// deletion leaves entries behind. Most are recovered by the live path
// itself: JetStream redelivers the unacknowledged command, Commit (or Load)
// reports it as a Duplicate whose InboxHit carries the still-pending
// entries, and the processor republishes those. The relay is the safety net
// for the rest — entries whose command was acknowledged but whose deletion
// was lost (a cleaner that gave up, a crash after the ack).
//
// Publishing an event twice is harmless because event IDs are deterministic
// (derived from customer, command and position) and travel as Nats-Msg-Id:
// JetStream drops a repeat inside its duplicate window, and consumers
// deduplicate by event ID beyond it. MinAge keeps the relay away from
// entries the live path may still be publishing, so in normal operation it
// finds nothing; when it does republish, it logs how many.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

const (
	defaultRelayInterval = 30 * time.Second
	defaultRelayMinAge   = time.Minute
)

// RelayOptions configures an OutboxRelay.
type RelayOptions struct {
	Interval time.Duration // time between sweeps. Default 30s.
	// MinAge: only entries written (Commit.At) at least MinAge ago are
	// touched, so the relay never races the live path. Default 1m.
	MinAge time.Duration
	// Logger receives sweep errors (err != nil) and how many events a sweep
	// republished (err == nil). Default: log/slog.
	Logger func(msg string, err error)
	// Owns, when set, limits the sweep to the customers it returns true
	// for: with several replicas, each relays the outboxes of the
	// partitions it holds, so a customer's left-behind events are
	// republished by the replica that also publishes its new ones. Nil:
	// every customer.
	Owns func(customerID string) bool
}

// PublishFunc publishes one customer's entries, in the given order, and
// returns nil only once all of them are confirmed (e.g. JetStream acks).
type PublishFunc = func(ctx context.Context, customerID string, entries []OutboxEntry) error

// OutboxRelay periodically republishes outbox entries that were left behind
// and deletes them once published.
type OutboxRelay struct {
	store   *Store
	publish PublishFunc
	opt     RelayOptions
	now     func() time.Time

	startOnce sync.Once
	stopOnce  sync.Once
	quit      chan struct{}   // closed by Shutdown
	runCtx    context.Context // cancelled when Shutdown's ctx expires
	cancel    context.CancelFunc
	done      chan struct{} // closed when the loop has returned

	backlogMu sync.Mutex
	backlog   Backlog
}

// Backlog is what the last complete sweep left in the outboxes it read:
// entries younger than MinAge (the live path is publishing them) and
// entries it could not publish. The relay counts it as a by-product of
// its sweep, so reading it costs nothing; it is as old as the last sweep
// (Interval).
type Backlog struct {
	// Entries is how many entries the sweep left.
	Entries int
	// Oldest is when the oldest of them was written (zero: none).
	Oldest time.Time
	// SweptAt is when the sweep ended (zero: no sweep has ended yet).
	SweptAt time.Time
}

// Backlog returns what the last complete sweep left behind.
func (r *OutboxRelay) Backlog() Backlog {
	r.backlogMu.Lock()
	defer r.backlogMu.Unlock()
	return r.backlog
}

// NewOutboxRelay returns a relay that hands left-behind entries to publish.
func NewOutboxRelay(store *Store, publish func(ctx context.Context, customerID string, entries []OutboxEntry) error, opt RelayOptions) *OutboxRelay {
	if opt.Interval <= 0 {
		opt.Interval = defaultRelayInterval
	}
	if opt.MinAge <= 0 {
		opt.MinAge = defaultRelayMinAge
	}
	if opt.Logger == nil {
		opt.Logger = defaultLogger
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &OutboxRelay{
		store:   store,
		publish: publish,
		opt:     opt,
		now:     time.Now,
		quit:    make(chan struct{}),
		runCtx:  ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
}

// SweepOnce scans every outbox once. For each customer, the entries written
// at least MinAge ago are passed to publish in the order they were written
// and, if publish succeeds, deleted (exactly those IDs). A customer whose
// publish or deletion fails keeps its entries for the next sweep; the sweep
// goes on with the others and reports the failures in err.
func (r *OutboxRelay) SweepOnce(ctx context.Context) (republished int, err error) {
	cutoff := r.now().Add(-r.opt.MinAge)
	var (
		mu       sync.Mutex // forEachKey calls concurrently on a cluster
		failed   int
		firstErr error
		left     Backlog
	)
	scanErr := forEachKey(ctx, r.store.rdb, r.store.outboxPattern(), func(ctx context.Context, key string) error {
		customerID, ok := r.store.customerFromOutboxKey(key)
		if !ok || (r.opt.Owns != nil && !r.opt.Owns(customerID)) {
			return nil
		}
		n, rest, err := r.relayCustomer(ctx, customerID, cutoff)
		mu.Lock()
		defer mu.Unlock()
		republished += n
		left.Entries += rest.Entries
		if !rest.Oldest.IsZero() && (left.Oldest.IsZero() || rest.Oldest.Before(left.Oldest)) {
			left.Oldest = rest.Oldest
		}
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
		// Stop only when the sweep itself is cancelled; one customer's
		// failure must not hold back the others.
		return ctx.Err()
	})
	if scanErr == nil && ctx.Err() == nil { // a complete sweep
		left.SweptAt = r.now()
		r.backlogMu.Lock()
		r.backlog = left
		r.backlogMu.Unlock()
	}
	switch {
	case scanErr != nil && !errors.Is(scanErr, ctx.Err()):
		return republished, fmt.Errorf("state: outbox relay: scan: %w", scanErr)
	case ctx.Err() != nil:
		return republished, fmt.Errorf("state: outbox relay: %w", ctx.Err())
	case failed > 0:
		return republished, fmt.Errorf("state: outbox relay: %d customers failed, first: %w", failed, firstErr)
	}
	return republished, nil
}

// relayCustomer republishes and deletes one customer's old entries, and
// says what it left: the young entries, or all of them on a failure.
func (r *OutboxRelay) relayCustomer(ctx context.Context, customerID string, cutoff time.Time) (int, Backlog, error) {
	stored, err := r.store.readOutbox(ctx, customerID)
	if err != nil {
		return 0, Backlog{}, err
	}
	all := backlogOf(stored)
	var old []OutboxEntry
	var young []storedEntry
	for _, e := range stored {
		if !e.WrittenAt.After(cutoff) {
			old = append(old, e.OutboxEntry)
		} else {
			young = append(young, e)
		}
	}
	if len(old) == 0 {
		return 0, all, nil
	}
	// An entry may be the event of a commit whose WAIT fell short and whose
	// command is still being retried: it is published only once the
	// replicas have it (replicas.go).
	if err := r.store.awaitReplicas(ctx, customerID, r.store.outboxKey(customerID), old[len(old)-1].ID); err != nil {
		return 0, all, fmt.Errorf("publish %d events of %s: %w", len(old), customerID, err)
	}
	if err := r.publish(ctx, customerID, old); err != nil {
		return 0, all, fmt.Errorf("publish %d events of %s: %w", len(old), customerID, err)
	}
	ids := make([]string, len(old))
	for i, e := range old {
		ids[i] = e.ID
	}
	// Deleting exactly the IDs just published never touches an entry
	// written after readOutbox: event IDs are unique per command and the
	// live path writes each only once.
	if err := r.store.MarkPublished(ctx, customerID, ids...); err != nil {
		return len(old), all, err
	}
	return len(old), backlogOf(young), nil
}

// backlogOf counts entries and finds the oldest.
func backlogOf(entries []storedEntry) Backlog {
	b := Backlog{Entries: len(entries)}
	for _, e := range entries {
		if b.Oldest.IsZero() || e.WrittenAt.Before(b.Oldest) {
			b.Oldest = e.WrittenAt
		}
	}
	return b
}

// Start runs a sweep now and then one every Interval until Shutdown.
// Calling it again does nothing. It cannot fail; the error is there for
// the shape every background component shares (Start, Shutdown).
func (r *OutboxRelay) Start() error {
	r.startOnce.Do(func() { go r.run() })
	return nil
}

// Shutdown stops the relay, letting a sweep in progress finish unless ctx
// expires first, in which case the sweep is cancelled and ctx's error
// returned.
func (r *OutboxRelay) Shutdown(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.quit) })
	r.startOnce.Do(func() { close(r.done) }) // never started: nothing to wait for
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		r.cancel()
		<-r.done
		return ctx.Err()
	}
}

func (r *OutboxRelay) run() {
	defer close(r.done)
	defer r.cancel()
	tick := time.NewTicker(r.opt.Interval)
	defer tick.Stop()
	for {
		select {
		case <-r.quit:
			return
		default:
		}
		r.sweep()
		select {
		case <-r.quit:
			return
		case <-tick.C:
		}
	}
}

func (r *OutboxRelay) sweep() {
	n, err := r.SweepOnce(r.runCtx)
	if err != nil {
		r.opt.Logger("outbox relay: sweep failed", err)
	}
	if n > 0 {
		r.opt.Logger(fmt.Sprintf("outbox relay: republished %d events whose deletion was lost", n), nil)
	}
}
