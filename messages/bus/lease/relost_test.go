package lease

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// subscriberOwner drives a real command subscriber, as the processor does.
type subscriberOwner struct{ sub *bus.CommandSubscriber }

func (o subscriberOwner) Acquire(ctx context.Context, l Lease) error {
	return o.sub.StartPartition(ctx, l.Partition, l.Fence)
}

func (o subscriberOwner) Release(ctx context.Context, p int) error {
	return o.sub.StopPartition(ctx, p)
}

// A lease lost while its partition drains (the key was taken; the
// handler holds a command past the release's deadline) and acquired again
// once the key is free: the keeper's start waits for the old consumer
// instead of being refused and giving the lease up, and the partition is
// consumed again under the new, higher fence.
func TestG3_LeaseLostWhileDrainingIsConsumedAgainOnceAcquiredAgain(t *testing.T) {
	const partitions = 2
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	streams := bus.StreamsConfig{Partitions: partitions}.WithDefaults()
	if err := bus.EnsureStreams(ctx, js, nc, streams); err != nil {
		t.Fatal(err)
	}
	sub, err := bus.NewCommandSubscriber(js, streams, bus.SubscriberConfig{
		Dynamic: true, AckWait: 5 * time.Second, ShutdownTimeout: 15 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	ch, err := sub.Subscribe(context.Background(), "commands")
	if err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	var holding atomic.Bool
	var mu sync.Mutex
	var fences []uint64 // of the handled commands, in order
	go func() {
		for m := range ch {
			go func() {
				f, _ := strconv.ParseUint(m.Metadata.Get(bus.MetaFence), 10, 64)
				if strings.HasSuffix(string(m.Payload), ":1") {
					holding.Store(true)
					<-hold
				}
				mu.Lock()
				fences = append(fences, f)
				mu.Unlock()
				m.Ack()
			}()
		}
	}()

	var gaveUp atomic.Int32
	logf := testLogger(t)
	k, err := NewKeeper(js, Config{ReplicaID: "a", Partitions: partitions, Logger: func(msg string, err error) {
		if strings.Contains(msg, "could not start") {
			gaveUp.Add(1)
		}
		logf(msg, err)
	}}, subscriberOwner{sub})
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = k.Shutdown(ctx)
	})
	waitUntil(t, converge, "both partitions consumed", func() bool { return len(sub.Partitions()) == partitions })

	customer := "C0"
	for i := 0; bus.PartitionOf(customer, partitions) != 0; i++ {
		customer = "C" + strconv.Itoa(i)
	}
	publish := func(n int) {
		if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent."+customer+".order.placed", []byte(customer+":"+strconv.Itoa(n))); err != nil {
			t.Fatal(err)
		}
	}
	publish(1)
	waitUntil(t, converge, "the first command with the handler", holding.Load)

	kv, err := js.KeyValue(ctx, DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	first, err := kv.Get(ctx, partitionKey(0))
	if err != nil {
		t.Fatal(err)
	}
	intruder, err := kv.Put(ctx, partitionKey(0), []byte(`{"replica":"intruder"}`))
	if err != nil {
		t.Fatal(err)
	}
	// The intruder's entry expires (TTL) and the keeper creates the key
	// anew, while the old consumer still holds the first command.
	waitUntil(t, converge, "partition 0 acquired again", func() bool {
		e, err := kv.Get(ctx, partitionKey(0))
		return err == nil && e.Revision() > intruder
	})
	close(hold)
	publish(2)
	waitUntil(t, converge, "the second command handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(fences) == 2
	})
	mu.Lock()
	defer mu.Unlock()
	if fences[1] <= fences[0] || fences[0] != first.Revision() {
		t.Errorf("fences of the handled commands %v, want %d then a higher one", fences, first.Revision())
	}
	if n := gaveUp.Load(); n != 0 {
		t.Errorf("the keeper gave the lease up %d times for a start refused", n)
	}
	if !slices.Contains(k.Owned(), 0) {
		t.Errorf("owns %v, not partition 0", k.Owned())
	}
}
