package bus_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// checkFor calls f every interval until it returns nil, and fails the test
// with f's last error when timeout passes first.
func checkFor(t testing.TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("condition not met within %v: %v", timeout, err)
		case <-tick.C:
		}
	}
}

// env is one test's server, connection and ensured streams.
type env struct {
	srv     *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	streams bus.StreamsConfig
}

func newEnv(t testing.TB, partitions int) *env {
	t.Helper()
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	streams := bus.StreamsConfig{Partitions: partitions}.WithDefaults()
	if err := bus.EnsureStreams(ctxT(t), js, nc, streams); err != nil {
		t.Fatalf("EnsureStreams: %v", err)
	}
	return &env{srv: s, nc: nc, js: js, streams: streams}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publishCommand publishes one command the way an upstream system does and
// returns its stream sequence.
func (e *env) publishCommand(t testing.TB, partner, customer, typ string, payload string) uint64 {
	t.Helper()
	ack, err := e.js.Publish(ctxT(t), "csp.cmd."+partner+".admin_agent."+customer+"."+typ, []byte(payload))
	if err != nil {
		t.Fatalf("publish command: %v", err)
	}
	return ack.Sequence
}

func (e *env) subscriber(t testing.TB, js jetstream.JetStream, cfg bus.SubscriberConfig) *bus.CommandSubscriber {
	t.Helper()
	sub, err := bus.NewCommandSubscriber(js, e.streams, cfg)
	if err != nil {
		t.Fatalf("NewCommandSubscriber: %v", err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

func (e *env) consumerInfo(t testing.TB, prefix string, p int) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := e.js.Consumer(ctxT(t), e.streams.CommandStream, bus.ConsumerName(prefix, p, e.streams.Partitions))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	info, err := c.Info(ctxT(t))
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info
}

// runRouter runs a watermill router with one consumer handler on sub and
// closes it when the test ends.
func runRouter(t testing.TB, sub message.Subscriber, h message.NoPublishHandlerFunc) *message.Router {
	t.Helper()
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, watermill.NopLogger{})
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	r.AddConsumerHandler("commands", "commands", sub, h)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	select {
	case <-r.Running():
	case err := <-done:
		t.Fatalf("router stopped at start: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("router not running after 10s")
	}
	t.Cleanup(func() {
		_ = r.Close()
		<-done
	})
	return r
}

// receive waits for the next message on ch.
func receive(t testing.TB, ch <-chan *message.Message, timeout time.Duration) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription channel closed")
		}
		return m
	case <-time.After(timeout):
		t.Fatalf("no message within %v", timeout)
	}
	return nil
}

// waitClosed waits until ch is closed, failing on any further message.
func waitClosed(t testing.TB, ch <-chan *message.Message, timeout time.Duration) {
	t.Helper()
	select {
	case m, ok := <-ch:
		if ok {
			t.Fatalf("unexpected message %s while waiting for the channel to close", m.UUID)
		}
	case <-time.After(timeout):
		t.Fatalf("channel not closed within %v", timeout)
	}
}

// customersInPartition returns n customer IDs that map to partition p.
func customersInPartition(p, partitions, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		c := "C" + strconv.Itoa(i)
		if bus.PartitionOf(c, partitions) == p {
			out = append(out, c)
		}
	}
	return out
}

// recorder records what handlers saw, safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]int
	n    int
}

func newRecorder() *recorder { return &recorder{seen: map[string][]int{}} }

func (r *recorder) add(customer string, seq int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen[customer] = append(r.seen[customer], seq)
	r.n++
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *recorder) waitCount(want int) func() error {
	return func() error {
		if got := r.count(); got < want {
			return fmt.Errorf("handled %d of %d", got, want)
		}
		return nil
	}
}
