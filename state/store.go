package state

import (
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultInboxRetention is used when Options.InboxRetention is not positive.
const DefaultInboxRetention = 7 * 24 * time.Hour

// inboxTrimBatch bounds how many expired inbox entries one Commit removes, so
// a commit stays O(1) however large a backlog of old entries is; each later
// commit of the customer removes the next batch.
const inboxTrimBatch = 32

// Options configures a Store.
type Options struct {
	Prefix string // key prefix; DefaultPrefix when ""
	// InboxRetention is how long a command stays in the inbox after it was
	// applied (by Commit.At). A command redelivered later than that is no
	// longer recognised as a duplicate. Entries older than this are trimmed
	// inside Commit, at most 32 per call. DefaultInboxRetention when <= 0.
	InboxRetention time.Duration
}

// Store reads and writes per-customer state. It is safe for concurrent use;
// all coordination happens in Redis.
type Store struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
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
	return &Store{rdb: rdb, prefix: opt.Prefix, retention: opt.InboxRetention}
}
