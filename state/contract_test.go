package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The store's contract, run against a single server and a Redis Cluster
// alike (backends_test.go). Customers are spread over many IDs so that on
// the cluster they land on every master.

const contractCustomers = 48

func contractCustomer(i int) string { return fmt.Sprintf("contract-cust-%03d", i) }

// G1 on every backend: a commit applies once; its redelivery is a
// Duplicate that hands back what was stored and writes nothing; a decision
// made on a stale version is refused; Load sees the committed state and
// recognises the applied command.
func TestG1CommitLoadDuplicateAndConflictOnEveryBackend(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := NewStore(rdb, Options{})
		for i := range contractCustomers {
			cust := contractCustomer(i)
			c := Commit{CustomerID: cust, CommandID: "cmd-1", Set: map[string][]byte{"sub": []byte("on")},
				Events: []OutboxEntry{ev(cust + "-e1")}, Result: []byte(`{"ok":true}`), At: t0}
			if out := mustCommit(t, s, c); out.Version != 1 {
				t.Fatalf("%s: version %d after the first commit", cust, out.Version)
			}
			dup, err := s.Commit(ctx, c)
			if err != nil || dup.Status != Duplicate || dup.Version != 1 || string(dup.Seen.Result) != `{"ok":true}` ||
				len(dup.Seen.Pending) != 1 || dup.Seen.Pending[0].ID != cust+"-e1" {
				t.Fatalf("%s: redelivery = %+v %s, %v; want Duplicate with the stored result and pending event", cust, dup, showHit(dup.Seen), err)
			}
			stale := Commit{CustomerID: cust, CommandID: "cmd-2", ExpectedVersion: 0, Set: map[string][]byte{"sub": []byte("off")}, At: t0}
			if out, err := s.Commit(ctx, stale); err != nil || out.Status != VersionConflict || out.Version != 1 {
				t.Fatalf("%s: stale commit = %+v, %v; want VersionConflict at 1", cust, out, err)
			}
			snap, err := s.Load(ctx, cust, "cmd-1")
			if err != nil || snap.Version != 1 || string(snap.Fields["sub"]) != "on" || snap.Seen == nil {
				t.Fatalf("%s: Load = %s, %v", cust, show(snap), err)
			}
			if snap, err := s.Load(ctx, cust, "cmd-2"); err != nil || snap.Seen != nil {
				t.Fatalf("%s: Load of the refused command = %s, %v; want not seen", cust, show(snap), err)
			}
			if d := mustDump(t, s, cust); d[s.stateKey(cust)] == "" || d[s.outboxKey(cust)] == "" {
				t.Fatalf("%s: Dump = %v; want its state and outbox", cust, d)
			}
		}
		if n, want := mastersHolding(t, rdb, "csp:{*}:state"), mastersOf(rdb); n != want {
			t.Errorf("customers' state on %d masters of %d: the suite did not reach every master", n, want)
		}
	})
}

// G3 on every backend: commits of one customer racing from several
// goroutines through Customers.Apply serialise on the version, none lost.
func TestG3ConcurrentAppliesOfOneCustomerSerialiseOnEveryBackend(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := NewStore(rdb, Options{})
		// One Customers each, as separate replicas; with n racers one can
		// lose at most n-1 times, within MaxConflictRetries.
		const n = MaxConflictRetries
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := NewCustomers(s, 0).Apply(ctx, "racer", fmt.Sprintf("cmd-%d", i), func(snap Snapshot) (*Commit, error) {
					count := len(snap.Fields)
					return &Commit{CustomerID: "racer", CommandID: fmt.Sprintf("cmd-%d", i),
						Set: map[string][]byte{fmt.Sprintf("f%02d", count): []byte("x")}, At: t0}, nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		snap, err := s.Load(ctx, "racer", "")
		if err != nil || snap.Version != n || len(snap.Fields) != n {
			t.Fatalf("after %d racing applies: %s, %v", n, show(snap), err)
		}
	})
}

// G7 on every backend: timers indexed by a commit are found due, and
// gone once unindexed.
func TestG7TimerIndexOnEveryBackend(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := NewStore(rdb, Options{})
		due := t0.Add(time.Hour)
		var want []TimerEntry
		for i := range 8 {
			e := TimerEntry{CustomerID: contractCustomer(i), TimerID: "t1", Kind: "renew", SubscriptionID: "s1", DueAt: due.Add(time.Duration(i) * time.Second)}
			want = append(want, e)
			mustCommit(t, s, Commit{CustomerID: e.CustomerID, CommandID: "cmd-1", At: t0, Timers: []TimerEntry{e}})
		}
		got, err := s.DueTimers(ctx, 0, due.Add(time.Minute), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("DueTimers = %d entries, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].CustomerID != want[i].CustomerID || !got[i].DueAt.Equal(want[i].DueAt) {
				t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
			}
		}
		if early, err := s.DueTimers(ctx, 0, due.Add(-time.Second), 100); err != nil || len(early) != 0 {
			t.Errorf("DueTimers before any is due = %v, %v", early, err)
		}
		if err := s.UnindexTimers(ctx, 0, got); err != nil {
			t.Fatal(err)
		}
		if left, err := s.DueTimers(ctx, 0, due.Add(time.Minute), 100); err != nil || len(left) != 0 {
			t.Errorf("DueTimers after unindexing = %v, %v", left, err)
		}
	})
}

// G2 on every backend: one relay sweep republishes the left-behind events
// of every customer, on every master, in write order, and deletes them;
// the outbox cleaner deletes published events wherever they live.
func TestG2OutboxRelaySweepsEveryMasterAndCleanerDeletesOnEveryBackend(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := NewStore(rdb, Options{})
		old := time.Now().Add(-time.Hour)
		for i := range contractCustomers {
			cust := contractCustomer(i)
			mustCommit(t, s, Commit{CustomerID: cust, CommandID: "c1", At: old, Events: []OutboxEntry{ev(cust + "-a"), ev(cust + "-b")}})
		}
		holding := mastersHolding(t, rdb, "csp:{*}:outbox")
		if holding != mastersOf(rdb) {
			t.Fatalf("outboxes on %d masters of %d", holding, mastersOf(rdb))
		}
		rec := newPublishRecorder()
		relay := NewOutboxRelay(s, rec.publish, RelayOptions{MinAge: time.Minute})
		n, err := relay.SweepOnce(ctx)
		if err != nil || n != 2*contractCustomers {
			t.Fatalf("SweepOnce = %d, %v; want %d", n, err, 2*contractCustomers)
		}
		got := rec.ids()
		for i := range contractCustomers {
			cust := contractCustomer(i)
			if !slices.Equal(got[cust], []string{cust + "-a", cust + "-b"}) {
				t.Errorf("%s: republished %v", cust, got[cust])
			}
			if left := outboxIDs(t, s, cust); len(left) != 0 {
				t.Errorf("%s: outbox after the sweep %v", cust, left)
			}
		}

		// The cleaner: fresh events, published, deleted in one flush
		// that spans every master.
		for i := range contractCustomers {
			cust := contractCustomer(i)
			mustCommit(t, s, Commit{CustomerID: cust, CommandID: "c2", ExpectedVersion: 1, At: time.Now(), Events: []OutboxEntry{ev(cust + "-c")}})
		}
		cleaner := NewOutboxCleaner(s, CleanerOptions{})
		cleaner.Start()
		for i := range contractCustomers {
			cleaner.Enqueue(contractCustomer(i), contractCustomer(i)+"-c")
		}
		shutdownCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := cleaner.Shutdown(shutdownCtx); err != nil {
			t.Fatal(err)
		}
		for i := range contractCustomers {
			if left := outboxIDs(t, s, contractCustomer(i)); len(left) != 0 {
				t.Errorf("%s: outbox after the cleaner %v", contractCustomer(i), left)
			}
		}
	})
}

// The durability start-up check reads every master: one master of a
// cluster syncing its AOF only every second is enough to refuse, and the
// message names it.
func TestCheckDurableRefusesAnyMasterThatCanLoseWritesOnEveryBackend(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		if err := CheckDurable(ctx, rdb); err != nil {
			t.Fatalf("CheckDurable on a durable %T: %v", rdb, err)
		}
		weak := masterOfKey(t, rdb, "csp:{some-customer}:state")
		if err := weak.ConfigSet(ctx, "appendfsync", "everysec").Err(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = weak.ConfigSet(context.Background(), "appendfsync", "always").Err() })
		err := CheckDurable(ctx, rdb)
		if err == nil || !strings.Contains(err.Error(), weak.Options().Addr) || !strings.Contains(err.Error(), "appendfsync everysec") {
			t.Fatalf("CheckDurable with %s on everysec = %v; want an error naming it", weak.Options().Addr, err)
		}
	})
}

// The simulated clock lives in one key (one slot) and only moves forward.
func TestSimClockMovesForwardOnlyOnEveryBackend(t *testing.T) {
	onEveryBackend(t, func(t *testing.T, rdb redis.UniversalClient) {
		ctx := context.Background()
		s := NewStore(rdb, Options{})
		later, earlier := t0.Add(48*time.Hour), t0.Add(24*time.Hour)
		if got, err := s.SetSimClock(ctx, later); err != nil || !got.Equal(later) {
			t.Fatalf("SetSimClock(later) = %v, %v", got, err)
		}
		if got, err := s.SetSimClock(ctx, earlier); err != nil || !got.Equal(later) {
			t.Fatalf("SetSimClock(earlier) = %v, %v; want it to stay at %v", got, err, later)
		}
		if got, err := s.SimClock(ctx); err != nil || !got.Equal(later) {
			t.Fatalf("SimClock = %v, %v", got, err)
		}
	})
}

// mastersOf is how many masters serve rdb's keys.
func mastersOf(rdb redis.UniversalClient) int {
	c, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return 1
	}
	n := 0
	var mu sync.Mutex
	_ = c.ForEachMaster(context.Background(), func(context.Context, *redis.Client) error {
		mu.Lock()
		n++
		mu.Unlock()
		return nil
	})
	return n
}
