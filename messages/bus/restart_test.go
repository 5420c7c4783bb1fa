package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// A lease lost while its partition drains: StopPartition's deadline passes
// before the handler answered, so the old consumer is still stopping when
// the lease is acquired again. StartPartition under the new fence waits
// for the old consumer to end (never two consumers of one partition) and
// then consumes the partition again, instead of refusing it as already
// started (which left the partition unconsumed).
func TestG3_StartPartitionWaitsForAPreviousConsumerStillStopping(t *testing.T) {
	const partitions = 2
	e := newEnv(t, partitions)
	c := customersInPartition(0, partitions, 1)[0]
	cfg := bus.SubscriberConfig{MaxInFlight: 4, AckWait: 5 * time.Second, ShutdownTimeout: 10 * time.Second}
	var got log
	release := make(chan struct{})
	var withHandler atomic.Int32
	sub := e.dynamicSubscriber(t, cfg, func(m *message.Message) {
		if m.Metadata.Get(bus.MetaFence) == "7" {
			withHandler.Add(1)
			<-release
		}
		got.add(t, m)
		m.Ack()
	})
	if err := sub.StartPartition(ctxT(t), 0, 7); err != nil {
		t.Fatal(err)
	}
	e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, 1))
	checkFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		if withHandler.Load() == 0 {
			return errors.New("the first command is not with the handler yet")
		}
		return nil
	})

	// The lost lease's stop: its deadline passes while the handler holds
	// the command.
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := sub.StopPartition(short, 0)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("StopPartition with the handler busy: %v, want the deadline", err)
	}

	// The lease acquired again, under a higher fence.
	started := make(chan error, 1)
	go func() { started <- sub.StartPartition(ctxT(t), 0, 8) }()
	select {
	case err := <-started:
		t.Fatalf("StartPartition returned (%v) while the previous consumer was still stopping", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-started; err != nil {
		t.Fatalf("StartPartition after the previous consumer stopped: %v", err)
	}

	e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, 2))
	checkFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		if n := got.len(); n < 2 {
			return fmt.Errorf("%d of 2 commands handled", n)
		}
		return nil
	})
	got.mu.Lock()
	defer got.mu.Unlock()
	for i, h := range got.all {
		want := []string{"7", "8"}[min(i, 1)]
		if h.n != i+1 || h.fence != want {
			t.Errorf("command %d: handled %s:%d with fence %q, want %s:%d with fence %q", i, h.customer, h.n, h.fence, c, i+1, want)
		}
	}
}

// Starting a partition that runs and is not stopping is refused: that
// would be two consumers of one partition.
func TestStartPartitionRefusesAPartitionThatRuns(t *testing.T) {
	e := newEnv(t, 2)
	sub := e.dynamicSubscriber(t, bus.SubscriberConfig{}, func(m *message.Message) { m.Ack() })
	if err := sub.StartPartition(ctxT(t), 1, 3); err != nil {
		t.Fatal(err)
	}
	if err := sub.StartPartition(ctxT(t), 1, 4); err == nil {
		t.Fatal("a second StartPartition of a running partition succeeded")
	}
}
