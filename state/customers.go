package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Customers is the repository the command handler changes customers
// through: Apply runs an update closure on a customer's current state and
// commits what it returns. It owns what every writer would otherwise
// repeat: the cache of recently committed state, the inbox check (a
// command applied before is answered with its unconfirmed events, never
// decided again) and the retries when another writer moved the customer's
// version between the load and the commit.
//
// The closure is pure decision: it may run several times for one command
// (once per version conflict), so it must not publish or write anything
// itself.
type Customers struct {
	store *Store
	cache *stateCache
	stats customerCounters
}

// NewCustomers returns the repository on store, caching up to cacheBytes
// of recently committed customers' state (DefaultStateCacheBytes when <= 0).
func NewCustomers(store *Store, cacheBytes int) *Customers {
	return &Customers{store: store, cache: newStateCache(cacheBytes)}
}

// Update decides on a customer's current state. It returns the commit to
// make — Apply sets its ExpectedVersion to snap.Version — or nil when the
// command leaves no trace at all (a timer that is not due).
type Update func(snap Snapshot) (*Commit, error)

// Applied is what Apply did.
type Applied struct {
	// Status is Committed, Duplicate (the command was applied before), or 0
	// when the update returned nil and nothing was written.
	Status CommitStatus
	// Events are what the caller must publish: the commit's events, or for
	// a Duplicate those its first application left unconfirmed.
	Events []OutboxEntry
}

// MaxConflictRetries bounds how often Apply decides a command again when
// another writer committed the customer in between (another replica, or a
// timer and a command of one customer in flight at once). Past it Apply
// fails with ErrKeptChanging.
const MaxConflictRetries = 5

// ErrKeptChanging is Apply's error when the customer's version moved under
// every one of MaxConflictRetries+1 decisions.
var ErrKeptChanging = errors.New("the customer kept changing under the decision")

// ErrFenced is Apply's error (wrapped) when the commit was refused as
// Fenced: a replica that acquired the command's partition after this one
// has committed for the customer, so this replica lost the partition. The
// handler must treat it as transient and never dead-letter the command:
// it is the new owner's to apply (JetStream redelivers it there), and this
// replica's lease keeper releases the partition.
var ErrFenced = errors.New("a later owner of the partition committed first (lease fenced)")

// Apply loads the customer (from the cache when this process committed its
// last change, else from Redis with the inbox check in the same round
// trip), runs update on it and commits the result, retrying on a version
// conflict. A command found in the inbox is not decided again.
func (c *Customers) Apply(ctx context.Context, customerID, commandID string, update Update) (Applied, error) {
	return c.ApplyReferencing(ctx, customerID, commandID, nil, update)
}

// ApplyReferencing is Apply for a command that names the entity fields
// tombs (rules.Referenced): a load reads their tombstones too
// (Snapshot.Tombstones). A cached snapshot has none; a decision that found
// a named field absent lists it in Commit.Absent, and the commit refuses
// as a VersionConflict if it is tombstoned, which drops the cache and
// decides again on a load.
func (c *Customers) ApplyReferencing(ctx context.Context, customerID, commandID string, tombs []string, update Update) (Applied, error) {
	c.stats.applies.Add(1)
	for attempt := 0; attempt <= MaxConflictRetries; attempt++ {
		snap, err := c.load(ctx, customerID, commandID, tombs)
		if err != nil {
			return Applied{}, fmt.Errorf("load customer %s: %w", customerID, err)
		}
		if snap.Seen != nil {
			c.stats.commit(Duplicate)
			return Applied{Status: Duplicate, Events: snap.Seen.Pending}, nil
		}
		commit, err := update(snap)
		if err != nil || commit == nil {
			return Applied{}, err
		}
		commit.ExpectedVersion = snap.Version
		res, err := c.store.Commit(ctx, *commit)
		if err != nil {
			return Applied{}, fmt.Errorf("commit command %s: %w", commandID, err)
		}
		c.stats.commit(res.Status)
		switch res.Status {
		case Committed:
			c.remember(customerID, res.Version, snap, commit)
			return Applied{Status: Committed, Events: commit.Events}, nil
		case Duplicate:
			c.cache.drop(customerID)
			return Applied{Status: Duplicate, Events: res.Seen.Pending}, nil
		case VersionConflict:
			c.cache.drop(customerID)
		case Fenced:
			// The cache may hold what only this replica believes; the next
			// owner-to-be reads Redis.
			c.cache.drop(customerID)
			return Applied{}, fmt.Errorf("commit command %s of customer %s with fence %d: %w", commandID, customerID, commit.Fence, ErrFenced)
		default:
			return Applied{}, fmt.Errorf("commit command %s: unknown status %v", commandID, res.Status)
		}
	}
	return Applied{}, fmt.Errorf("command %s of customer %s: %w", commandID, customerID, ErrKeptChanging)
}

// load is the state to decide on. The cache holds only what this process
// committed; the commit script checks the version and the inbox
// atomically, so a stale entry (another writer committed, or the command
// was applied elsewhere) comes back as a VersionConflict or a Duplicate.
func (c *Customers) load(ctx context.Context, customerID, commandID string, tombs []string) (Snapshot, error) {
	if e, ok := c.cache.get(customerID); ok {
		c.stats.cacheHits.Add(1)
		return e.snapshot(), nil
	}
	c.stats.loads.Add(1)
	return c.store.LoadReferencing(ctx, customerID, commandID, tombs)
}

// withArchived is the fields a commit removes from the state: those it
// deletes and those it archives.
func withArchived(deleted []string, archived map[string][]byte) []string {
	if len(archived) == 0 {
		return deleted
	}
	out := slices.Clone(deleted)
	for f := range archived {
		out = append(out, f)
	}
	return out
}

// remember caches what the customer holds after a commit decided on snap:
// the caller's decoded state when it gave one, else the fields. A
// commit without a decoded state made on a decoded snapshot has no fields
// to apply its changes to, so the customer is dropped instead.
func (c *Customers) remember(customerID string, version int64, snap Snapshot, commit *Commit) {
	sizes := snap.sizes
	if sizes == nil {
		sizes = fieldSizes(snap.Fields)
	}
	removed := withArchived(commit.Delete, commit.Archive)
	sizes = applied(sizes, fieldSizes(commit.Set), removed)
	switch {
	case commit.Decoded != nil:
		c.cache.put(customerID, version, commit.Decoded, nil, sizes)
	case snap.Decoded == nil:
		c.cache.put(customerID, version, nil, applied(snap.Fields, commit.Set, removed), sizes)
	default:
		c.cache.drop(customerID)
	}
}
