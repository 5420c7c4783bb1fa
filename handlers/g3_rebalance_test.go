package handlers

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// startReplica runs a processor that shares the partitions with others
// through leases, on its own NATS connection, until the test ends or stop
// is called (a graceful stop: its partitions are handed back).
func (e *env) startReplica(id string) (p *Processor, stop func()) {
	e.t.Helper()
	nc, _ := natstest.Connect(e.t, e.srv)
	return e.runProcessor(func(c *Config) {
		c.NATS = nc
		c.Leases = &lease.Config{ReplicaID: id, TTL: 2 * time.Second}
	})
}

// waitPartitions waits until cond holds for the partitions each replica
// consumes.
func waitPartitions(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		<-tick.C
	}
}

// G3 across rebalancing: a second replica joins while commands are in
// flight (the first hands half of its partitions over), then the first
// stops (the second takes the rest), and every customer's commands are
// still applied once each, in publish order: alternating suspend and
// reactivate, so one applied out of order or twice would be rejected.
func TestG3_CommandsKeepTheirOrderWhileReplicasJoinAndLeave(t *testing.T) {
	e := newEnv(t)
	a, stopA := e.startReplica("replica-a")
	partitions := e.bus.Streams.Partitions
	waitPartitions(t, "replica a owns every partition", func() bool { return len(a.Partitions()) == partitions })

	const customers, rounds = 16, 18
	subs := map[string]string{}
	for c := range customers {
		id := fmt.Sprintf("C-RB-%d", c)
		e.createCustomer(partnerA, id)
		subs[id] = e.buy(partnerA, id, 1)
	}
	sent := map[string][]string{}
	var last []messages.Command
	publish := func(from, to int) {
		for r := from; r < to; r++ {
			for c := range customers {
				id := fmt.Sprintf("C-RB-%d", c)
				cmd := e.suspendOrReactivate(r, id, subs[id])
				sent[id] = append(sent[id], cmd.ID)
				if r == rounds-1 {
					last = append(last, cmd)
				}
			}
		}
	}

	publish(0, rounds/3)
	b, _ := e.startReplica("replica-b")
	publish(rounds/3, 2*rounds/3)
	waitPartitions(t, "the replicas share the partitions", func() bool {
		pa, pb := a.Partitions(), b.Partitions()
		return len(pa) > 0 && len(pb) > 0 && len(pa)+len(pb) == partitions
	})
	if both := slices.DeleteFunc(a.Partitions(), func(p int) bool { return !slices.Contains(b.Partitions(), p) }); len(both) > 0 {
		t.Errorf("partitions %v consumed by both replicas", both)
	}
	publish(2*rounds/3, rounds)
	stopA() // graceful: hands its partitions to b with commands still in flight
	waitPartitions(t, "replica b owns every partition", func() bool { return len(b.Partitions()) == partitions })
	for _, cmd := range last {
		e.await(cmd)
	}

	e.checkAppliedInPublishOrder(sent)
	for c := range customers {
		id := fmt.Sprintf("C-RB-%d", c)
		if v, want := e.version(id), int64(2+rounds); v != want {
			t.Errorf("customer %s: version %d, want %d (each command applied once)", id, v, want)
		}
	}
}
