package deployments

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// G6 with several processor replicas: each replica logs in as the one
// processor user and serves the simulated clock and the queries as a member
// of a queue group, so that a request is answered by one replica, not by
// all of them. The shipped permissions allow those queue subscriptions and
// the answers to the simulator's and a partner's requests, and likewise the
// operator service's endpoints and the operator's requests; nothing is
// refused.
func TestG6_ProcessorReplicasServeTheClockAndQueriesAsAQueueGroup(t *testing.T) {
	s := startShippedNATS(t)
	const replicas, requests = 3, 30
	var served [replicas]atomic.Int64
	procs := make([]*natsClient, replicas)
	for r := range procs {
		procs[r] = s.connect(t, processorUser)
		for _, subject := range []string{messages.SimClockSubject, messages.QuerySubjectPrefix + ".>", messages.OperatorSubjectPrefix + ".>"} {
			if _, err := procs[r].nc.QueueSubscribe(subject, "processor", func(m *nats.Msg) {
				served[r].Add(1)
				_ = m.Respond([]byte(fmt.Sprintf("replica %d", r)))
			}); err != nil {
				t.Fatalf("replica %d: queue subscribe %s: %v", r, subject, err)
			}
		}
		if err := procs[r].nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	sim := s.connect(t, simulatorUser)
	partner := s.connect(t, "partner-P-1001")
	op := s.connect(t, operatorUser)
	for i := range requests {
		for _, req := range []struct {
			c       *natsClient
			subject string
		}{
			{sim, messages.SimClockSubject},
			{sim, messages.QuerySubject("P-2002", messages.RoleAdminAgent, "C-1", "reducible_quantity")},
			{partner, messages.QuerySubject("P-1001", messages.RoleAdminAgent, "C-1", "reducible_quantity")},
			{op, messages.OpsSubjectPartitions},
		} {
			if _, err := req.c.nc.Request(req.subject, nil, 5*time.Second); err != nil {
				t.Fatalf("%s: request %d on %s: %v", req.c.user, i, req.subject, err)
			}
		}
	}
	total := int64(0)
	for r := range served {
		total += served[r].Load()
	}
	// One answer per request: a plain subscription in each replica would
	// have served every request three times.
	if total != 4*requests {
		t.Errorf("the replicas served %d requests, want %d (each once)", total, 4*requests)
	}
	// A replica may move its command consumers' leaders
	// (bus.SpreadConsumerLeaders): the server answers (on one server, that
	// it takes a cluster); a refused request would get no answer.
	streams := bus.StreamsConfig{}.WithDefaults()
	if err := bus.EnsureStreams(ctxT(t), procs[0].js, procs[0].nc, streams); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.EnsureConsumers(ctxT(t), procs[0].js, streams, bus.SubscriberConfig{}); err != nil {
		t.Fatal(err)
	}
	first := bus.ConsumerName(bus.DefaultConsumerPrefix, 0, streams.Partitions)
	m, err := procs[1].nc.Request("$JS.API.CONSUMER.LEADER.STEPDOWN."+streams.CommandStream+"."+first, nil, 5*time.Second)
	if err != nil {
		t.Errorf("processor: step down the leader of %s: %v", first, err)
	} else if !strings.Contains(string(m.Data), "consumer_leader_stepdown_response") {
		t.Errorf("processor: step down the leader of %s: %s", first, m.Data)
	}
	for _, c := range append(procs, sim, partner, op) {
		c.noRefusals(t)
	}
}
