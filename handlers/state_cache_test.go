package handlers

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// The handler decides a customer's next command on the state it cached when
// it committed the last one. When someone else committed since (another
// replica), the commit script's version check refuses the stale decision
// and the handler decides again on what Redis holds.
func TestStateCacheNeverDecidesOnStaleState(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	const cust = "C-CACHE"
	e.createCustomer(partnerA, cust)
	sub := e.buy(partnerA, cust, 5) // now cached at this version

	// Another writer sets the quantity to 9 behind the processor's back.
	snap, err := e.store.Load(context.Background(), cust, "")
	if err != nil {
		t.Fatal(err)
	}
	var s rules.Subscription
	if err := json.Unmarshal(snap.Fields[rules.SubscriptionField(sub)], &s); err != nil {
		t.Fatal(err)
	}
	s.Quantity = 9
	s.Lots = []rules.Lot{{Quantity: 9, AddedAt: s.WindowOpenedAt, ReducibleUntil: s.CancellableUntil}}
	b, _ := json.Marshal(s)
	res, err := e.store.Commit(context.Background(), state.Commit{CustomerID: cust, CommandID: "other-replica", ExpectedVersion: snap.Version,
		Set: map[string][]byte{rules.SubscriptionField(sub): b}, Result: []byte(`{}`)})
	if err != nil || res.Status != state.Committed {
		t.Fatalf("other writer: %v %v", res.Status, err)
	}

	// Asking for 9 licenses: on the cached state (5) that would be an
	// increase; on the real one it changes nothing.
	nine := 9
	evs := e.await(e.send(partnerA, cust, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: &nine}))
	rej, ok := evs[0].Data.(*messages.CommandRejectedEvent)
	if !ok || rej.Code != "no_change" {
		t.Fatalf("decided on stale state: %v %+v", types(evs), evs[0].Data)
	}
}

func TestStateCacheStaysWithinItsByteBudgetEvictingTheLeastRecentlyUsed(t *testing.T) {
	fields := func(n int) map[string][]byte { return map[string][]byte{"sub:s1": make([]byte, n)} }
	one := sizeOf("C-1", fields(1000))
	c := newStateCache(3 * one)
	for _, id := range []string{"C-1", "C-2", "C-3"} {
		c.put(id, 1, fields(1000))
	}
	c.get("C-1") // now the most recently used
	c.put("C-4", 1, fields(1000))
	if _, ok := c.get("C-2"); ok {
		t.Fatal("C-2, the least recently used, is still cached past the budget")
	}
	for _, id := range []string{"C-1", "C-3", "C-4"} {
		if _, ok := c.get(id); !ok {
			t.Fatalf("%s was evicted", id)
		}
	}
	// A customer that grew is accounted at its new size.
	c.put("C-1", 2, fields(2000))
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
	c.put("C-big", 1, fields(4*one))
	if _, ok := c.get("C-big"); ok || c.bytes != 0 {
		t.Fatalf("an entry over the budget was kept (%d bytes)", c.bytes)
	}
}
