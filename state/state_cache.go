package state

import (
	"container/list"
	"maps"
	"sync"
)

// stateCache keeps, for recently decided customers, the stored entity
// fields and the version they have in Redis, so that the next command of
// the customer is decided without a load round trip. It is only an
// optimisation, never a source of truth: the commit script checks the
// version and the inbox atomically, so an entry that went stale (another
// replica committed, or a command was already applied) comes back as a
// VersionConflict or a Duplicate and the handler reloads from Redis.
//
// It holds the raw field bytes, decoded anew for every decision, so no
// decision can change what a later one starts from.
type stateCache struct {
	mu       sync.Mutex
	maxBytes int
	bytes    int
	entries  map[string]*list.Element
	lru      list.List
}

type cachedFields struct {
	customer string
	version  int64
	fields   map[string][]byte
	size     int
}

// DefaultStateCacheBytes bounds the cache by the bytes it holds rather than
// by customers, whose state ranges from one subscription to hundreds: 32 MiB
// keeps the processor well inside its memory budget and, at a few hundred
// bytes per subscription, holds tens of thousands of customers, so a busy
// customer is decided without a load round trip.
const DefaultStateCacheBytes = 32 << 20

// entryOverhead approximates what the list element, the map entries and
// the headers cost beyond the keys' and values' bytes.
const entryOverhead, fieldOverhead = 160, 48

func newStateCache(maxBytes int) *stateCache {
	if maxBytes <= 0 {
		maxBytes = DefaultStateCacheBytes
	}
	return &stateCache{maxBytes: maxBytes, entries: map[string]*list.Element{}}
}

func sizeOf(customer string, fields map[string][]byte) int {
	n := entryOverhead + len(customer)
	for k, v := range fields {
		n += fieldOverhead + len(k) + len(v)
	}
	return n
}

func (c *stateCache) get(customer string) (cachedFields, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[customer]
	if !ok {
		return cachedFields{}, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(cachedFields), true
}

// put records the fields a customer has in Redis at version.
func (c *stateCache) put(customer string, version int64, fields map[string][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := cachedFields{customer: customer, version: version, fields: fields, size: sizeOf(customer, fields)}
	if e, ok := c.entries[customer]; ok {
		c.bytes += v.size - e.Value.(cachedFields).size
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
	v := e.Value.(cachedFields)
	c.lru.Remove(e)
	delete(c.entries, v.customer)
	c.bytes -= v.size
}

// applied is the fields after a commit that set and deleted some.
func applied(fields map[string][]byte, set map[string][]byte, deleted []string) map[string][]byte {
	out := maps.Clone(fields)
	if out == nil {
		out = map[string][]byte{}
	}
	maps.Copy(out, set)
	for _, k := range deleted {
		delete(out, k)
	}
	return out
}
