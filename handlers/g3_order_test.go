package handlers

import (
	"fmt"
	"testing"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// G3: commands for one customer apply in the order they were published,
// while several partitions are processed concurrently. Each customer gets
// alternating suspend/reactivate commands: applied out of order, one of them
// would be rejected (already suspended / not suspended).
func TestG3_CommandsOfOneCustomerApplyInPublishOrder(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	const customers, rounds = 12, 15
	subs := map[string]string{}
	partitions := map[int]bool{}
	for c := range customers {
		id := fmt.Sprintf("C-G3-%d", c)
		e.createCustomer(partnerA, id)
		subs[id] = e.buy(partnerA, id, 1)
		partitions[bus.PartitionOf(id, testBus().Streams.Partitions)] = true
	}
	if len(partitions) < 2 {
		t.Fatalf("customers landed in %d partition(s); the test needs concurrency", len(partitions))
	}

	// Publish interleaved across customers, without waiting in between.
	sent := map[string][]string{}
	var last []messages.Command
	for r := range rounds {
		for c := range customers {
			id := fmt.Sprintf("C-G3-%d", c)
			cmd := e.suspendOrReactivate(r, id, subs[id])
			sent[id] = append(sent[id], cmd.ID)
			if r == rounds-1 {
				last = append(last, cmd)
			}
		}
	}
	for _, cmd := range last {
		e.await(cmd)
	}

	e.checkAppliedInPublishOrder(sent)
}

// suspendOrReactivate publishes round r's command for a customer's
// subscription: suspend in even rounds, reactivate in odd ones, so that one
// applied out of order, or twice, is rejected (already suspended / not
// suspended).
func (e *env) suspendOrReactivate(r int, customer, subscription string) messages.Command {
	e.t.Helper()
	if r%2 == 0 {
		return e.send(partnerA, customer, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: subscription, Reason: "non_payment"})
	}
	return e.send(partnerA, customer, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: subscription})
}

// checkAppliedInPublishOrder fails the test on any rejection, and when a
// customer's suspend and reactivate commands were applied in another order
// than sent (customer -> command IDs in publish order).
func (e *env) checkAppliedInPublishOrder(sent map[string][]string) {
	e.t.Helper()
	got := map[string][]string{}
	for _, ev := range e.events.Events() {
		if ev.Type == messages.EvtCommandRejected {
			e.t.Fatalf("command %s of %s was rejected: %+v (applied out of order or twice)", ev.CommandID, ev.CustomerID, ev.Data)
		}
		if ev.CommandType == messages.CmdSubscriptionSuspend || ev.CommandType == messages.CmdSubscriptionReactivate {
			got[ev.CustomerID] = append(got[ev.CustomerID], ev.CommandID)
		}
	}
	for id, want := range sent {
		if fmt.Sprint(got[id]) != fmt.Sprint(want) {
			e.t.Fatalf("customer %s: applied %v, published %v", id, got[id], want)
		}
	}
}
