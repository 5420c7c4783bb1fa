//go:build cluster

package bus_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natscluster"
	"github.com/cspreseller/csp-processor/messages/bus/natstest/clustertest"
)

// r3Cluster is a 3-node cluster with the processor's streams replicated
// to every node, and a processor connection to any node.
func r3Cluster(t *testing.T) (*natscluster.Cluster, jetstream.JetStream) {
	t.Helper()
	c := clustertest.Run(t, 3)
	nc, js := clustertest.Connect(t, c, natsauth.ProcessorUser)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := bus.RetryStartup(ctx, 0, "ensure streams", func(ctx context.Context) error {
		return bus.EnsureStreams(ctx, js, nc, bus.StreamsConfig{Replicas: 3})
	}); err != nil {
		t.Fatal(err)
	}
	return c, js
}

func commandMsg(t testing.TB, customer, id string) *nats.Msg {
	t.Helper()
	m, err := messages.NewCommandMsg("P-1001", messages.RoleAdminAgent, messages.Command{ID: id, Type: "subscription.cancel", CustomerID: customer})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func storedCommands(t testing.TB, js jetstream.JetStream) uint64 {
	t.Helper()
	s, err := js.Stream(ctxT(t), bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

// 10158: a clustered stream answers "duplicate message id is in process"
// to a message whose first copy it is still replicating. Two publishers
// storing the same commands at once (an upstream re-sending, a timer
// announced by two replicas) both succeed: the answer is published again
// until it is a PubAck, never counted as a failure, and each command is
// stored once.
func TestStore_DuplicateMessageIDInProcessIsPublishedAgainNotFailed(t *testing.T) {
	c, js := r3Cluster(t)
	_, ujs := clustertest.Connect(t, c, "upstream")
	var inProcess atomic.Int64
	opts := bus.StoreOptions{Budget: 30 * time.Second, OnRetry: func(_ *nats.Msg, cause error) {
		if bus.IsMsgIDInProcess(cause) {
			inProcess.Add(1)
		}
	}}
	const perRound = 200
	total := 0
	for round := 0; inProcess.Load() == 0; round++ {
		if round == 20 {
			t.Fatalf("no publish was answered 10158 in %d rounds of %d commands sent twice at once", round, perRound)
		}
		msgs := make([]*nats.Msg, perRound)
		for i := range msgs {
			msgs[i] = commandMsg(t, fmt.Sprintf("C-%d", i), fmt.Sprintf("r%d-cmd-%d", round, i))
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for k := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[k] = bus.Store(context.Background(), ujs, msgs, opts)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		total += perRound
		if n := storedCommands(t, js); n != uint64(total) {
			t.Fatalf("round %d: the stream holds %d commands, want %d (each once)", round, n, total)
		}
	}
	t.Logf("%d publishes answered 10158 and published again; %d commands stored once each", inProcess.Load(), total)
}

// A publisher connected to a node that survives, storing commands while
// the command stream's leader is SIGKILLed: every Store call returns within
// its budget (none hangs on a PubAck the dead leader took with it), every
// command is stored, none twice. Logs how long publishing stalled.
func TestStore_EveryCommandIsStoredWithinItsBudgetWhileTheStreamLeaderIsKilled(t *testing.T) {
	c, js := r3Cluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	leader, err := c.StreamLeader(ctx, bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	survivor := (leader + 1) % c.Size()
	_, ujs := clustertest.Connect(t, c, "upstream", survivor)

	const publishers, batch = 4, 10
	const budget = 30 * time.Second
	var (
		stored, lostAcks, inProcess atomic.Int64
		killedAt                    atomic.Pointer[time.Time]
		mu                          sync.Mutex
		slowest                     time.Duration
		firstAfterKill              time.Duration
		failures                    []error
	)
	opts := bus.StoreOptions{Budget: budget, OnRetry: func(_ *nats.Msg, cause error) {
		switch {
		case bus.IsMsgIDInProcess(cause):
			inProcess.Add(1)
		case errors.Is(cause, bus.ErrNoPubAck), errors.Is(cause, jetstream.ErrAsyncPublishTimeout):
			lostAcks.Add(1)
		}
	}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				msgs := make([]*nats.Msg, batch)
				for i := range msgs {
					msgs[i] = commandMsg(t, fmt.Sprintf("C-%d-%d", p, i), fmt.Sprintf("p%d-b%d-%d", p, n, i))
				}
				began := time.Now()
				_, err := bus.Store(ctx, ujs, msgs, opts)
				took := time.Since(began)
				mu.Lock()
				slowest = max(slowest, took)
				if k := killedAt.Load(); k != nil && err == nil && firstAfterKill == 0 && began.After(*k) {
					firstAfterKill = time.Since(*k)
				}
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
				stored.Add(batch)
			}
		}()
	}
	waitStored := func(n int64) {
		t.Helper()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for stored.Load() < n {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("only %d commands stored, waiting for %d", stored.Load(), n)
			}
		}
	}
	waitStored(200)
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	killedAt.Store(&now)
	next, err := c.StreamLeader(ctx, bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	elected := time.Since(now)
	waitStored(stored.Load() + 400)
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(failures) > 0 {
		t.Fatalf("%d Store calls failed; first: %v", len(failures), failures[0])
	}
	if slowest > budget {
		t.Errorf("the slowest Store call took %v, above its budget %v", slowest, budget)
	}
	if n := storedCommands(t, js); n != uint64(stored.Load()) {
		t.Fatalf("the stream holds %d commands, %d were acknowledged: lost or stored twice", n, stored.Load())
	}
	t.Logf("leader %s killed; %s leads after %v; first batch begun after the kill stored %v after it; "+
		"slowest Store call %v; %d commands stored; retried: %d lost PubAcks, %d answered 10158",
		natscluster.NodeName(leader), natscluster.NodeName(next), elected.Round(time.Millisecond),
		firstAfterKill.Round(time.Millisecond), slowest.Round(time.Millisecond), stored.Load(), lostAcks.Load(), inProcess.Load())
}
