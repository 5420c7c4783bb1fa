package state

import "testing"

func TestStateCacheStaysWithinItsByteBudgetEvictingTheLeastRecentlyUsed(t *testing.T) {
	fields := func(n int) map[string][]byte { return map[string][]byte{"sub:s1": make([]byte, n)} }
	one := sizeOf("C-1", fieldSizes(fields(1000)))
	c := newStateCache(3 * one)
	for _, id := range []string{"C-1", "C-2", "C-3"} {
		c.put(id, 1, nil, fields(1000), fieldSizes(fields(1000)))
	}
	c.get("C-1") // now the most recently used
	c.put("C-4", 1, nil, fields(1000), fieldSizes(fields(1000)))
	if _, ok := c.get("C-2"); ok {
		t.Fatal("C-2, the least recently used, is still cached past the budget")
	}
	for _, id := range []string{"C-1", "C-3", "C-4"} {
		if _, ok := c.get(id); !ok {
			t.Fatalf("%s was evicted", id)
		}
	}
	// A customer that grew is accounted at its new size.
	c.put("C-1", 2, nil, fields(2000), fieldSizes(fields(2000)))
	if c.bytes > c.maxBytes {
		t.Fatalf("cache holds %d bytes, budget %d", c.bytes, c.maxBytes)
	}
	c.drop("C-1")
	c.drop("C-3")
	c.drop("C-4")
	if c.bytes != 0 || c.lru.Len() != 0 || len(c.entries) != 0 {
		t.Fatalf("after dropping everything: %d bytes, %d entries", c.bytes, c.lru.Len())
	}
	// An entry larger than the whole budget is not kept.
	c.put("C-big", 1, nil, fields(4*one), fieldSizes(fields(4*one)))
	if _, ok := c.get("C-big"); ok || c.bytes != 0 {
		t.Fatalf("an entry over the budget was kept (%d bytes)", c.bytes)
	}
}
