//go:build cluster

package bus_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natstest/clustertest"
)

// Three replicas started together on a fresh 3-node cluster, each
// connected to another node, create the same R3 streams and consumers at
// once. nats-server 2.15 left such equal concurrent creates of a stream
// unanswered (and the stream uncreated) until one was sent again; with
// 30-second attempts none of the three was up within a minute. Every
// replica must be up within the default start-up timeout, and every
// stream must have a leader.
func TestStartup_ReplicasStartedTogetherCreateTheStreamsAndConsumers(t *testing.T) {
	c := clustertest.Run(t, 3)
	streams := bus.StreamsConfig{Partitions: 8, Replicas: 3}.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 2*bus.DefaultStartupTimeout)
	defer cancel()
	start := time.Now()
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range errs {
		nc, js := clustertest.Connect(t, c, natsauth.ProcessorUser, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = bus.RetryStartup(ctx, 0, "ensure streams", func(ctx context.Context) error {
				return bus.EnsureStreams(ctx, js, nc, streams)
			})
			if errs[i] == nil {
				_, errs[i] = bus.EnsureConsumers(ctx, js, streams, bus.SubscriberConfig{})
			}
			t.Logf("replica %d up after %v (err %v)", i+1, time.Since(start).Round(time.Millisecond), errs[i])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i+1, err)
		}
	}
	for _, name := range []string{streams.CommandStream, streams.EventStream, streams.DeadLetterStream} {
		if _, err := c.StreamLeader(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}
