package state

import (
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultInboxRetention is used when Options.InboxRetention is not positive.
const DefaultInboxRetention = 7 * 24 * time.Hour

// DefaultAppliedRetention is used when Options.AppliedRetention is not
// positive. It equals the command stream's default MaxAge (30 days, see
// messages/bus): a command can be delivered again for as long as the stream
// keeps it, and upstream systems retry for days, so the store must know it
// was applied at least that long. The processor raises it to the configured
// MaxAge when that is longer, and a test in handlers keeps this default no
// shorter than the stream's.
const DefaultAppliedRetention = 30 * 24 * time.Hour

// inboxTrimBatch bounds how many expired inbox entries one Commit removes
// (and, separately, how many expired compact records), so a commit stays
// O(1) however large a backlog of old entries is; each later commit of the
// customer removes the next batch.
const inboxTrimBatch = 32

// DefaultArchiveRetention is used when Options.ArchiveRetention is not
// positive: 400 days keeps a closed entity's full record in the history
// exports for more than a year after it left the hot state (a year of
// order history and subscriptions, with a month to spare for a year-end
// export), while its tombstone stays for good.
const DefaultArchiveRetention = 400 * 24 * time.Hour

// Options configures a Store.
type Options struct {
	// ArchiveRetention is how long the full record of an archived entity
	// is kept in the customer's archive (history queries read it) after
	// it was archived; older records are trimmed by later commits of the
	// customer. Tombstones are never trimmed. DefaultArchiveRetention when
	// <= 0.
	ArchiveRetention time.Duration
	Prefix           string // key prefix; DefaultPrefix when ""
	// InboxRetention is how long the full inbox record of a command (its
	// result and event IDs, what a redelivery needs to republish pending
	// events) is kept after it was applied (by Commit.At). Older records
	// are trimmed inside Commit, at most 32 per call, and leave a compact
	// record behind. DefaultInboxRetention when <= 0.
	InboxRetention time.Duration
	// AppliedRetention is how long a command is still recognised as applied
	// (a Duplicate that changes nothing): the compact record (command ID and
	// applied-at) outlives the full record until then. It must cover the
	// command stream's MaxAge; a command re-sent later than this is applied
	// again. DefaultAppliedRetention when <= 0, and never shorter than
	// InboxRetention (raised to it).
	AppliedRetention time.Duration
	// WaitReplicas is how many replicas must acknowledge a commit (Redis
	// WAIT) before Commit reports it made, and before the events of a
	// command found already applied are handed out again (Load, Commit's
	// Duplicate, the outbox relay). 0 does not wait. See replicas.go.
	WaitReplicas int
	// WaitTimeout bounds each WAIT; fewer acknowledgements by then fail the
	// call with ErrReplicasBehind. DefaultWaitTimeout when <= 0. Keep it
	// below the client's read timeout.
	WaitTimeout time.Duration
}

// Store reads and writes per-customer state. It is safe for concurrent use;
// all coordination happens in Redis.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration // full inbox records (Options.InboxRetention)
	applied   time.Duration // compact records (Options.AppliedRetention)
	archive   time.Duration // archive records (Options.ArchiveRetention)

	waitReplicas int           // Options.WaitReplicas
	waitTimeout  time.Duration // Options.WaitTimeout after defaults
}

// NewStore returns a Store on rdb. It panics if opt.Prefix contains '{' or
// '}', which would move the hash tag away from the customer ID.
func NewStore(rdb redis.UniversalClient, opt Options) *Store {
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(opt.Prefix, "{}") {
		panic(fmt.Sprintf("state: key prefix %q contains '{' or '}'", opt.Prefix))
	}
	if opt.InboxRetention <= 0 {
		opt.InboxRetention = DefaultInboxRetention
	}
	if opt.AppliedRetention <= 0 {
		opt.AppliedRetention = DefaultAppliedRetention
	}
	// A compact record shorter-lived than the full one would be trimmed
	// before it is written (see commitCmd).
	opt.AppliedRetention = max(opt.AppliedRetention, opt.InboxRetention)
	if opt.ArchiveRetention <= 0 {
		opt.ArchiveRetention = DefaultArchiveRetention
	}
	if opt.WaitTimeout <= 0 {
		opt.WaitTimeout = DefaultWaitTimeout
	}
	return &Store{rdb: rdb, prefix: opt.Prefix, retention: opt.InboxRetention, applied: opt.AppliedRetention,
		archive: opt.ArchiveRetention, waitReplicas: max(opt.WaitReplicas, 0), waitTimeout: opt.WaitTimeout}
}

// AppliedRetention is how long this store recognises an applied command
// (Options.AppliedRetention after defaults).
func (s *Store) AppliedRetention() time.Duration { return s.applied }
