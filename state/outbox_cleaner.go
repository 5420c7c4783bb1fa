package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// The cleaner takes outbox deletions off the hot path: a processor confirms
// a publish and enqueues the event IDs, and the cleaner deletes many of them
// with one pipelined round trip. Losing a deletion is harmless — the relay
// republishes the entry under the same ID, which JetStream and consumers
// drop as a duplicate — but it costs a republish, so failures are retried a
// few times and always logged.

const (
	defaultCleanerMaxBatch = 512
	defaultCleanerMaxDelay = 2 * time.Millisecond
	// cleanerMaxFailures is how many failed flushes a deletion survives
	// before it is dropped (and logged) and left to the relay.
	cleanerMaxFailures = 5
	// cleanerFirstRetry is the wait after a failed flush; it doubles per
	// failure of the oldest deletion, so a Redis outage is not hammered.
	cleanerFirstRetry = 100 * time.Millisecond
)

// errCleanerClosed is logged for deletions enqueued after Shutdown.
var errCleanerClosed = errors.New("outbox cleaner is shut down")

// CleanerOptions configures an OutboxCleaner.
type CleanerOptions struct {
	MaxBatch int           // event IDs per flush; a full batch flushes at once. Default 512.
	MaxDelay time.Duration // longest a queued ID waits for its flush. Default 2ms.
	// Logger receives failed and dropped deletions. Default: log/slog.
	Logger func(msg string, err error)
}

// OutboxCleaner deletes confirmed-published events from outboxes in batches.
type OutboxCleaner struct {
	store *Store
	opt   CleanerOptions
	queue chan cleanGroup

	// mu orders Enqueue against Shutdown: Enqueue sends under RLock, so once
	// Shutdown has set closed under Lock, no send can land after the loop's
	// final drain unnoticed.
	mu     sync.RWMutex
	closed bool
	quit   chan struct{} // closed by Shutdown

	startOnce sync.Once
	runCtx    context.Context // cancelled when Shutdown's ctx expires
	cancel    context.CancelFunc
	done      chan struct{} // closed when the loop has returned
}

// cleanGroup is one customer's event IDs awaiting deletion.
type cleanGroup struct {
	customerID string
	ids        []string
	failures   int
}

// NewOutboxCleaner returns a cleaner for store's outboxes. Call Start.
func NewOutboxCleaner(store *Store, opt CleanerOptions) *OutboxCleaner {
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = defaultCleanerMaxBatch
	}
	if opt.MaxDelay <= 0 {
		opt.MaxDelay = defaultCleanerMaxDelay
	}
	if opt.Logger == nil {
		opt.Logger = defaultLogger
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &OutboxCleaner{
		store:  store,
		opt:    opt,
		queue:  make(chan cleanGroup, 4*opt.MaxBatch),
		quit:   make(chan struct{}),
		runCtx: ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
}

// Enqueue schedules the deletion of published events from a customer's
// outbox. It does not wait for Redis; it blocks only while the queue is full
// (4×MaxBatch calls), which pushes back on a publisher outrunning Redis.
// After Shutdown the deletion is dropped and logged.
func (c *OutboxCleaner) Enqueue(customerID string, eventIDs ...string) {
	if len(eventIDs) == 0 {
		return
	}
	if err := checkCustomerID(customerID); err != nil {
		c.opt.Logger("outbox cleaner: dropping deletion", err)
		return
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closed {
		c.opt.Logger(fmt.Sprintf("outbox cleaner: dropping deletion of %d events of %s; the relay will republish and delete them", len(eventIDs), customerID), errCleanerClosed)
		return
	}
	// Cloned: the caller may reuse its slice once Enqueue returns.
	c.queue <- cleanGroup{customerID: customerID, ids: slices.Clone(eventIDs)}
}

// Start starts the background loop. Calling it again does nothing. It
// cannot fail; the error is there for the shape every background
// component shares (Start, Shutdown).
func (c *OutboxCleaner) Start() error {
	c.startOnce.Do(func() { go c.run() })
	return nil
}

// Shutdown stops accepting deletions, flushes everything queued (retrying
// failures while ctx allows) and stops. If ctx expires first, the flush is
// abandoned, what is left is logged, and ctx's error is returned.
func (c *OutboxCleaner) Shutdown(ctx context.Context) error {
	// Start first: an Enqueue blocked on the full queue of a never-started
	// cleaner holds the read lock until the loop takes something.
	c.Start()
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.quit)
	}
	c.mu.Unlock()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		c.cancel()
		<-c.done
		return ctx.Err()
	}
}

func (c *OutboxCleaner) run() {
	defer close(c.done)
	defer c.cancel()

	var pending []cleanGroup // fresh deletions and failed ones awaiting a retry
	fresh := 0               // IDs enqueued since the last flush; only these count toward MaxBatch, so retries never trigger a flush storm
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	armed := false
	flush := func() {
		if armed {
			timer.Stop()
			armed = false
		}
		var left int
		pending, left = c.flush(c.runCtx, pending)
		fresh = 0
		if left > 0 {
			timer.Reset(c.retryDelay(pending))
			armed = true
		}
	}

	for {
		select {
		case g := <-c.queue:
			pending = append(pending, g)
			fresh += len(g.ids)
			if fresh >= c.opt.MaxBatch {
				flush()
			} else if !armed {
				timer.Reset(c.opt.MaxDelay)
				armed = true
			}
		case <-timer.C:
			armed = false
			flush()
		case <-c.quit:
			timer.Stop()
			c.final(pending)
			return
		}
	}
}

// final drains the queue and flushes until everything is deleted, every
// deletion has used up its retries, or Shutdown's deadline cancels runCtx.
func (c *OutboxCleaner) final(pending []cleanGroup) {
	// Shutdown set closed before closing quit, so nothing more arrives.
	for drained := false; !drained; {
		select {
		case g := <-c.queue:
			pending = append(pending, g)
		default:
			drained = true
		}
	}
	n := 0
	for {
		if pending, n = c.flush(c.runCtx, pending); n == 0 {
			return
		}
		wait := time.NewTimer(c.retryDelay(pending))
		select {
		case <-wait.C:
		case <-c.runCtx.Done():
			wait.Stop()
			c.opt.Logger(fmt.Sprintf("outbox cleaner: shut down with %d deletions undone; the relay will republish and delete them", n), c.runCtx.Err())
			return
		}
	}
}

// flush deletes every pending group in one pipeline and returns the groups
// to retry and their ID count. A group that failed cleanerMaxFailures times
// is dropped and logged.
func (c *OutboxCleaner) flush(ctx context.Context, pending []cleanGroup) ([]cleanGroup, int) {
	if len(pending) == 0 {
		return pending[:0], 0
	}
	pipe := c.store.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(pending))
	for i, g := range pending {
		cmds[i] = pipe.HDel(ctx, c.store.outboxKey(g.customerID), g.ids...)
	}
	_, _ = pipe.Exec(ctx) // each command's error is looked at below

	var (
		keep                  []cleanGroup
		kept, failed, dropped int
		firstErr              error
	)
	for i, g := range pending {
		err := cmds[i].Err()
		if err == nil {
			continue
		}
		failed += len(g.ids)
		if firstErr == nil {
			firstErr = err
		}
		g.failures++
		if g.failures >= cleanerMaxFailures {
			dropped += len(g.ids)
			continue
		}
		keep = append(keep, g)
		kept += len(g.ids)
	}
	if failed > 0 {
		c.opt.Logger(fmt.Sprintf("outbox cleaner: deleting %d published events failed; %d will be retried", failed, kept), firstErr)
	}
	if dropped > 0 {
		c.opt.Logger(fmt.Sprintf("outbox cleaner: giving up on deleting %d published events after %d failures; the relay will republish and delete them", dropped, cleanerMaxFailures), firstErr)
	}
	return keep, kept
}

// retryDelay backs off on the most-failed pending group.
func (c *OutboxCleaner) retryDelay(pending []cleanGroup) time.Duration {
	worst := 0
	for _, g := range pending {
		worst = max(worst, g.failures)
	}
	if worst == 0 {
		return c.opt.MaxDelay
	}
	return max(c.opt.MaxDelay, cleanerFirstRetry<<(worst-1))
}
