package state

import (
	"container/list"
	"maps"
	"sync"
)

// stateCache keeps, for recently decided customers, their state and the
// version it has in Redis, so that the next command of the customer is
// decided without a load round trip and, when the caller gave its decoded
// state with the commit (Commit.Decoded), without decoding anything. It is
// only an optimisation, never a source of truth: the commit script checks
// the version and the inbox atomically, so an entry that went stale
// (another replica committed, or a command was already applied) comes back
// as a VersionConflict or a Duplicate and the handler reloads from Redis.
//
// A decoded entry is shared by every decision that reads it; the caller
// promises (and the rules' tests check) that a decision never changes the
// state it was given and that the state it commits is exactly its Set and
// Delete applied to what it started from.
type stateCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	entries  map[string]*list.Element
	lru      list.List
}

type cachedState struct {
	customer string
	version  int64
	decoded  any               // Commit.Decoded; nil when only fields are held
	fields   map[string][]byte // the stored fields, when decoded is nil
	sizes    map[string]int    // encoded bytes of each field
	size     int
}

// DefaultStateCacheBytes bounds the cache by the bytes it holds rather than
// by customers, whose state ranges from one subscription to hundreds: 64 MiB
// keeps the processor well inside its memory budget and holds a few
// thousand customers of a year's history (around 10–30 KB each), so a busy
// customer is decided without a load round trip.
const DefaultStateCacheBytes = 64 << 20

// entryOverhead approximates what the list element, the map entries and
// the headers cost beyond the keys' and values' bytes. A decoded state
// takes about its encoded size on the heap (measured: 8.5 KB for a state
// of 27 fields and 9.4 KB encoded), so both kinds of entry are accounted
// by the encoded bytes.
const entryOverhead, fieldOverhead = 160, 48

func newStateCache(maxBytes int) *stateCache {
	if maxBytes <= 0 {
		maxBytes = DefaultStateCacheBytes
	}
	return &stateCache{maxBytes: maxBytes, entries: map[string]*list.Element{}}
}

// fieldSizes is the encoded size of each field.
func fieldSizes(fields map[string][]byte) map[string]int {
	out := make(map[string]int, len(fields))
	for k, v := range fields {
		out[k] = len(v)
	}
	return out
}

// sizeOf is what an entry of these field sizes costs the budget.
func sizeOf(customer string, sizes map[string]int) int {
	n := entryOverhead + len(customer)
	for k, v := range sizes {
		n += fieldOverhead + len(k) + v
	}
	return n
}

func (c *stateCache) get(customer string) (cachedState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[customer]
	if !ok {
		return cachedState{}, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(cachedState), true
}

// snapshot is the entry as the state to decide on.
func (e cachedState) snapshot() Snapshot {
	return Snapshot{Version: e.version, Fields: e.fields, Decoded: e.decoded, sizes: e.sizes}
}

// put records the state a customer has in Redis at version: decoded when
// the caller gave it, else fields.
func (c *stateCache) put(customer string, version int64, decoded any, fields map[string][]byte, sizes map[string]int) {
	if decoded != nil {
		fields = nil
	}
	v := cachedState{customer: customer, version: version, decoded: decoded, fields: fields, sizes: sizes,
		size: sizeOf(customer, sizes)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[customer]; ok {
		c.bytes += v.size - e.Value.(cachedState).size
		e.Value = v
		c.lru.MoveToFront(e)
	} else {
		c.entries[customer] = c.lru.PushFront(v)
		c.bytes += v.size
	}
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
	}
}

func (c *stateCache) drop(customer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[customer]; ok {
		c.remove(e)
	}
}

func (c *stateCache) remove(e *list.Element) {
	v := e.Value.(cachedState)
	c.lru.Remove(e)
	delete(c.entries, v.customer)
	c.bytes -= v.size
}

// applied is a map after a commit that set and deleted some fields.
func applied[V any](before map[string]V, set map[string]V, deleted []string) map[string]V {
	out := maps.Clone(before)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, set)
	for _, k := range deleted {
		delete(out, k)
	}
	return out
}
