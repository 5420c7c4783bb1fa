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
