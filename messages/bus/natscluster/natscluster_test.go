//go:build cluster

package natscluster_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natstest/clustertest"
)

// Three nodes started from the shipped cluster-node.conf form a JetStream
// cluster that the shipped users log in to over TLS; the processor creates
// R3 streams on it; killing the command stream's leader (SIGKILL) makes
// another node its leader, with every stored command still there; the
// killed node comes back on its store and the cluster is whole again.
func TestClusterFromShippedConfigReelectsAKilledStreamLeaderAndTakesTheNodeBack(t *testing.T) {
	c := clustertest.Run(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nc, js := clustertest.Connect(t, c, natsauth.ProcessorUser)
	streams := bus.StreamsConfig{Replicas: 3}
	if err := bus.EnsureStreams(ctx, js, nc, streams); err != nil {
		t.Fatal(err)
	}
	stream := bus.DefaultCommandStream
	_, ujs := clustertest.Connect(t, c, "upstream")
	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := ujs.Publish(ctx, "csp.cmd.P-1.admin_agent.C-"+strconv.Itoa(i)+".order.placed", []byte("{}"),
				jetstream.WithMsgID("m-"+strconv.Itoa(i))); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
	}
	publish(0, 10)
	leader, err := c.StreamLeader(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	next, err := c.StreamLeader(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stream %s: leader %d killed, node %d leads after %v", stream, leader, next, time.Since(killed).Round(time.Millisecond))
	if next == leader {
		t.Fatalf("the killed node %d still leads", leader)
	}
	publish(10, 20)
	if err := c.Restart(leader); err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitMetaLeader(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.CachedInfo().State.Msgs; n != 20 {
		t.Fatalf("stream holds %d commands, want 20", n)
	}
	// The restarted node catches up: its replica reports itself current.
	if err := waitCurrent(ctx, js, stream, 3); err != nil {
		t.Fatal(err)
	}
}

// waitCurrent waits until the stream has a leader and replicas-1 current
// followers.
func waitCurrent(ctx context.Context, js jetstream.JetStream, stream string, replicas int) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		s, err := js.Stream(ctx, stream)
		if err == nil && s.CachedInfo().Cluster != nil {
			current := 0
			for _, r := range s.CachedInfo().Cluster.Replicas {
				if r.Current {
					current++
				}
			}
			if current == replicas-1 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
