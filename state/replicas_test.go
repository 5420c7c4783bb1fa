package state

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/state/redistest"
)

// With WaitReplicas = 1: a commit returns once the replica holds it; with
// the replica gone it fails with ErrReplicasBehind within the timeout, and
// until the replica is back nothing hands out its events (a retried
// Commit, Load, the outbox relay); then the retry finds it applied and
// returns its pending events.
func TestCommitWaitsForReplicas(t *testing.T) {
	p := redistest.StartReplicaPair(t)
	ctx := context.Background()
	// Through the processor's autopipeliner, as in production. Two stores
	// on it: one whose WAIT is long enough for a loaded machine where the
	// replica must acknowledge, one with a short WAIT where it cannot.
	ap, err := p.Master.AutoPipeline()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ap.Close() })
	s := NewStore(ap, Options{WaitReplicas: 1, WaitTimeout: 2 * time.Second})
	const timeout = 300 * time.Millisecond
	short := NewStore(ap, Options{WaitReplicas: 1, WaitTimeout: timeout})

	out := mustCommit(t, s, Commit{CustomerID: "C1", CommandID: "cmd-1", Events: []OutboxEntry{ev("e1")}, At: t0})
	// No polling: the commit returned, so the replica has it.
	if v, err := p.Replica.HGet(ctx, s.stateKey("C1"), versionField).Result(); err != nil || v != strconv.FormatInt(out.Version, 10) {
		t.Fatalf("replica has version %q (%v), want %d", v, err, out.Version)
	}

	p.Detach(t)
	c2 := Commit{CustomerID: "C1", CommandID: "cmd-2", ExpectedVersion: out.Version, Events: []OutboxEntry{ev("e2")}, At: t0}
	began := time.Now()
	_, err = short.Commit(ctx, c2)
	if took := time.Since(began); !errors.Is(err, ErrReplicasBehind) || took > timeout+2*time.Second {
		t.Fatalf("commit without a replica: %v after %v, want ErrReplicasBehind within about %v", err, took, timeout)
	}
	// It is applied on the master, but nothing reports it applied yet.
	if _, err := short.Commit(ctx, c2); !errors.Is(err, ErrReplicasBehind) {
		t.Fatalf("commit retried without a replica: %v", err)
	}
	if _, err := short.Load(ctx, "C1", "cmd-2"); !errors.Is(err, ErrReplicasBehind) {
		t.Fatalf("load of the applied command without a replica: %v", err)
	}
	published := 0
	relayOn := func(st *Store) *OutboxRelay {
		r := NewOutboxRelay(st, func(context.Context, string, []OutboxEntry) error { published++; return nil },
			RelayOptions{MinAge: time.Nanosecond, Logger: func(string, error) {}})
		r.now = func() time.Time { return time.Now().Add(time.Hour) }
		return r
	}
	if _, err := relayOn(short).SweepOnce(ctx); !errors.Is(err, ErrReplicasBehind) || published != 0 {
		t.Fatalf("relay without a replica: %v, %d publishes", err, published)
	}
	if got := outboxIDs(t, s, "C1"); len(got) != 2 {
		t.Fatalf("outbox %v, want e1 and e2 kept", got)
	}

	p.Attach(t)
	again, err := s.Commit(ctx, c2)
	if err != nil || again.Status != Duplicate || again.Seen == nil || len(again.Seen.Pending) != 1 || again.Seen.Pending[0].ID != "e2" {
		t.Fatalf("retry with the replica back: %+v, %v; want Duplicate with e2 pending", again, err)
	}
	if v, err := p.Replica.HGet(ctx, s.stateKey("C1"), versionField).Result(); err != nil || v != "2" {
		t.Fatalf("replica has version %q (%v), want 2", v, err)
	}
	if n, err := relayOn(s).SweepOnce(ctx); err != nil || n != 2 || published != 1 {
		t.Fatalf("relay with the replica back: %d events, %v, %d publishes", n, err, published)
	}
}

// WaitReplicas = 0 sends no WAIT: a commit on a master without replicas
// returns at once.
func TestCommitWithoutWaitIgnoresReplicas(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	began := time.Now()
	mustCommit(t, s, Commit{CustomerID: "C1", CommandID: "cmd-1", Events: []OutboxEntry{ev("e1")}, At: t0})
	if took := time.Since(began); took > time.Second {
		t.Errorf("commit took %v", took)
	}
	if err := CheckReplicas(context.Background(), rdb, 0); err != nil {
		t.Errorf("CheckReplicas(0): %v", err)
	}
}

// The start-up check refuses a master with fewer connected replicas than
// commits wait for, and names the setting.
func TestCheckReplicas(t *testing.T) {
	p := redistest.StartReplicaPair(t)
	ctx := context.Background()
	if err := CheckReplicas(ctx, p.Master, 1); err != nil {
		t.Fatalf("one replica connected, one wanted: %v", err)
	}
	err := CheckReplicas(ctx, p.Master, 2)
	if err == nil || !strings.Contains(err.Error(), "has 1 connected replicas") || !strings.Contains(err.Error(), "REDIS_WAIT_REPLICAS") {
		t.Fatalf("two wanted: %v", err)
	}
	p.Detach(t)
	if err := CheckReplicas(ctx, p.Master, 1); err == nil || !strings.Contains(err.Error(), "has 0 connected replicas") {
		t.Fatalf("replica gone: %v", err)
	}
}

// benchRuns numbers BenchmarkCommitWaitReplicas's runs, one customer each.
var benchRuns int

// BenchmarkCommitWaitReplicas is what waiting for one replica adds to a
// commit (both servers local, so it is the replica's acknowledgement, not
// a network): go test -run '^$' -bench CommitWaitReplicas ./state/
func BenchmarkCommitWaitReplicas(b *testing.B) {
	p := redistest.StartReplicaPair(b)
	for _, n := range []int{0, 1} {
		b.Run("replicas="+strconv.Itoa(n), func(b *testing.B) {
			s := NewStore(p.Master, Options{WaitReplicas: n, WaitTimeout: 2 * time.Second})
			ctx := context.Background()
			benchRuns++ // the benchmark runs again with a larger N, and with -count
			customer := "B" + strconv.Itoa(benchRuns)
			var version int64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out, err := s.Commit(ctx, Commit{CustomerID: customer, CommandID: "cmd-" + strconv.Itoa(i), ExpectedVersion: version,
					Events: []OutboxEntry{ev("e" + strconv.Itoa(i))}, At: t0})
				if err != nil || out.Status != Committed {
					b.Fatalf("commit %d: %v %v", i, out.Status, err)
				}
				version = out.Version
			}
		})
	}
}
