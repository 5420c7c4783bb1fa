package bus_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// inbox applies each customer's commands the way the processor's inbox
// does: a command seen before is a duplicate, the next one is applied,
// and one further ahead means an earlier one was overtaken (G3 broken).
type inbox struct {
	mu       sync.Mutex
	applied  map[string]int
	overtook []string
}

func (b *inbox) handle(t testing.TB, m *message.Message) {
	c, n := parsePayload(t, m)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch have := b.applied[c]; {
	case n <= have: // duplicate
	case n == have+1:
		b.applied[c] = n
	default:
		b.overtook = append(b.overtook, fmt.Sprintf("%s: %d handled after %d (%s, delivered %s)", c, n, have, m.UUID, m.Metadata.Get(bus.MetaNumDelivered)))
	}
}

// G3 and G1 under crashes with several commands in flight per partition:
// processors die (their connection closes, nothing acked any more) five
// times while 3,000 commands of 150 customers are worked through, each
// followed by a new processor; every command is applied, none before an
// earlier one of its customer.
func TestG3_ProcessorsDyingWithCommandsInFlightLoseAndReorderNothing(t *testing.T) {
	const partitions, customers, commands = 8, 150, 3000
	e := newEnv(t, partitions)
	published := map[string]int{}
	for i := 0; i < commands; i++ {
		c := fmt.Sprintf("k%d", (i*13+i/7)%customers)
		published[c]++
		if _, err := e.js.PublishAsync("csp.cmd.P1.admin_agent."+c+".order.placed", []byte(cmdPayload(c, published[c]))); err != nil {
			t.Fatal(err)
		}
	}
	<-e.js.PublishAsyncComplete()

	box := &inbox{applied: map[string]int{}}
	var handled sync.WaitGroup
	cfg := bus.SubscriberConfig{MaxInFlight: 16, AckWait: time.Second, ShutdownTimeout: 100 * time.Millisecond}
	start := func() (kill func()) {
		nc, js := natstest.Connect(t, e.srv)
		sub, err := bus.NewCommandSubscriber(js, e.streams, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ch, err := sub.Subscribe(context.Background(), "commands")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for m := range ch {
				handled.Add(1)
				go func() {
					defer handled.Done()
					// A millisecond of work per command, so that a replica
					// dies with commands still with its handlers (not a wait
					// for anything).
					time.Sleep(time.Millisecond)
					box.handle(t, m)
					m.Ack()
				}()
			}
		}()
		return func() { nc.Close(); _ = sub.Close() }
	}
	total := func() int {
		box.mu.Lock()
		defer box.mu.Unlock()
		n := 0
		for _, a := range box.applied {
			n += a
		}
		return n
	}
	kill := start()
	for k := 1; k <= 5; k++ {
		checkFor(t, 60*time.Second, 5*time.Millisecond, func() error {
			if n := total(); n < commands*k/7 {
				return fmt.Errorf("%d applied", n)
			}
			return nil
		})
		kill()
		t.Logf("kill %d with %d of %d applied", k, total(), commands)
		kill = start()
	}
	checkFor(t, 120*time.Second, 10*time.Millisecond, func() error {
		if n := total(); n < commands {
			return fmt.Errorf("%d of %d applied", n, commands)
		}
		return nil
	})
	kill()
	handled.Wait()
	box.mu.Lock()
	defer box.mu.Unlock()
	for _, o := range box.overtook {
		t.Error(o)
	}
}
