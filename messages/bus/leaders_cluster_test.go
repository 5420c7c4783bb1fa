//go:build cluster

package bus_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natscluster"
	"github.com/cspreseller/csp-processor/messages/bus/natstest/clustertest"
)

// 32 R3 command consumers on a 3-node cluster: after two nodes were
// killed and restarted one after the other, their leaders are spread
// unevenly (measured and logged); SpreadCommandConsumerLeaders, which the
// processor runs at start-up, moves them until no node leads more than its
// share, 11 of 32.
func TestSpreadConsumerLeaders_NoNodeLeadsMoreThanItsShareAfterRestarts(t *testing.T) {
	c := clustertest.Run(t, 3)
	nc, js := clustertest.Connect(t, c, natsauth.ProcessorUser)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	streams := bus.StreamsConfig{Partitions: 32, Replicas: 3}.WithDefaults()
	if err := bus.RetryStartup(ctx, 0, "ensure streams", func(ctx context.Context) error {
		return bus.EnsureStreams(ctx, js, nc, streams)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.EnsureConsumers(ctx, js, streams, bus.SubscriberConfig{}); err != nil {
		t.Fatal(err)
	}
	names := make([]string, streams.Partitions)
	for p := range names {
		names[p] = bus.ConsumerName(bus.DefaultConsumerPrefix, p, streams.Partitions)
	}
	// leaders waits until every consumer has a leader among the running
	// nodes, and counts them per node.
	leaders := func() map[string]int {
		t.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			counts, total, err := c.ConsumerLeaders(ctx, streams.CommandStream)
			if err == nil && total == len(names) {
				out := map[string]int{}
				for i, n := range counts {
					out[natscluster.NodeName(i)] = n
				}
				return out
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("not every consumer has a leader: %v %v", counts, err)
			}
		}
	}
	t.Logf("consumer leaders at start: %v", leaders())
	for _, i := range []int{0, 1} {
		if err := c.Kill(i); err != nil {
			t.Fatal(err)
		}
		t.Logf("with %s killed: %v", natscluster.NodeName(i), leaders())
		if err := c.Restart(i); err != nil {
			t.Fatal(err)
		}
		if _, err := c.WaitMetaLeader(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Every replica current again before the leaders are read and moved.
	for _, name := range names {
		checkFor(t, time.Minute, 100*time.Millisecond, func() error {
			placements, err := bus.ConsumerLeaders(ctx, js, streams.CommandStream, []string{name})
			if err != nil {
				return err
			}
			if len(placements[0].Replicas) != 3 {
				return errNotCurrent(name, placements[0].Replicas)
			}
			return nil
		})
	}
	before := leaders()
	t.Logf("after restarting %s and %s: %v", natscluster.NodeName(0), natscluster.NodeName(1), before)
	share := (len(names) + 2) / 3
	moved, err := bus.SpreadCommandConsumerLeaders(ctx, js, streams, bus.DefaultConsumerPrefix)
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, time.Minute, 100*time.Millisecond, func() error {
		after := leaders()
		for node, n := range after {
			if n > share {
				return errAboveShare(node, n, share, after)
			}
		}
		t.Logf("%d leaders moved: %v", moved, after)
		return nil
	})
}

func errNotCurrent(consumer string, replicas []string) error {
	return fmt.Errorf("consumer %s: current replicas %v, want 3", consumer, replicas)
}

func errAboveShare(node string, n, share int, all map[string]int) error {
	return fmt.Errorf("%s leads %d consumers, above its share %d: %v", node, n, share, all)
}
