package handlers

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
	mu      sync.Mutex
	max     int
	entries map[string]*list.Element
	lru     list.List
}

type cachedFields struct {
	customer string
	version  int64
	fields   map[string][]byte
}

// defaultStateCacheSize bounds the cache: about 4096 customers of a few
// kilobytes each.
const defaultStateCacheSize = 4096

func newStateCache(max int) *stateCache {
	if max <= 0 {
		max = defaultStateCacheSize
	}
	return &stateCache{max: max, entries: map[string]*list.Element{}}
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
	v := cachedFields{customer: customer, version: version, fields: fields}
	if e, ok := c.entries[customer]; ok {
		e.Value = v
		c.lru.MoveToFront(e)
		return
	}
	c.entries[customer] = c.lru.PushFront(v)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.entries, old.Value.(cachedFields).customer)
	}
}

func (c *stateCache) drop(customer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[customer]; ok {
		c.lru.Remove(e)
		delete(c.entries, customer)
	}
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
