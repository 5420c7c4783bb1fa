package lease

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

const testPartitions = 32

// recorder is the Owner of every keeper in a test. It logs each Acquire
// (when it is called) and each Release (when it returns) on one monotonic
// clock and flags any moment two replicas work one partition, and any
// fence not above the partition's previous one.
type recorder struct {
	mu        sync.Mutex
	holder    map[int]string // partition -> replica working it
	lastFence map[int]uint64
	releases  map[string][]release // replica -> its releases, in order
	problems  []string
}

type release struct {
	p  int
	at time.Time
}

func newRecorder() *recorder {
	return &recorder{holder: map[int]string{}, lastFence: map[int]uint64{}, releases: map[string][]release{}}
}

// ownerAs is the Owner of one replica. A releaseDelay makes each
// Release take that long, as draining a busy partition may.
type ownerAs struct {
	r            *recorder
	replica      string
	releaseDelay time.Duration
}

func (o ownerAs) Acquire(_ context.Context, l Lease) error {
	r := o.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.holder[l.Partition]; ok {
		r.problems = append(r.problems, fmt.Sprintf("%s acquired partition %d while %s works it", o.replica, l.Partition, h))
	}
	if l.Fence <= r.lastFence[l.Partition] {
		r.problems = append(r.problems, fmt.Sprintf("%s acquired partition %d with fence %d, not above the previous %d",
			o.replica, l.Partition, l.Fence, r.lastFence[l.Partition]))
	}
	r.holder[l.Partition] = o.replica
	r.lastFence[l.Partition] = l.Fence
	return nil
}

func (o ownerAs) Release(_ context.Context, p int) error {
	if o.releaseDelay > 0 {
		<-time.After(o.releaseDelay)
	}
	r := o.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.holder[p]; h != o.replica {
		r.problems = append(r.problems, fmt.Sprintf("%s released partition %d, which %q works", o.replica, p, h))
	} else {
		delete(r.holder, p)
	}
	r.releases[o.replica] = append(r.releases[o.replica], release{p, time.Now()})
	return nil
}

// counts is how many partitions each replica works, and how many nobody.
func (r *recorder) counts() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := map[string]int{}
	for _, h := range r.holder {
		c[h]++
	}
	return c, testPartitions - len(r.holder)
}

func (r *recorder) releasesOf(replica string) []release {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.releases[replica])
}

func (r *recorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Error(p)
	}
}

// shares reports whether the replicas work every partition between them
// with exactly these counts (in any order).
func (r *recorder) shares(want ...int) bool {
	c, free := r.counts()
	if free != 0 || len(c) != len(want) {
		return false
	}
	var got []int
	for _, n := range c {
		got = append(got, n)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	return slices.Equal(got, want)
}

// testKeeper is a keeper on a connection of its own (closing it simulates
// a crash).
type testKeeper struct {
	*Keeper
	nc *nats.Conn
	js jetstream.JetStream
}

func startKeeper(t *testing.T, s *server.Server, r *recorder, replica string) *testKeeper {
	t.Helper()
	return startKeeperOwnedBy(t, s, ownerAs{r: r, replica: replica})
}

func startKeeperOwnedBy(t *testing.T, s *server.Server, o ownerAs) *testKeeper {
	t.Helper()
	replica := o.replica
	nc, js := natstest.Connect(t, s)
	k, err := NewKeeper(js, Config{ReplicaID: replica, Partitions: testPartitions, Logger: testLogger(t)}, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(); err != nil {
		t.Fatalf("start %s: %v", replica, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = k.Shutdown(ctx)
	})
	return &testKeeper{Keeper: k, nc: nc, js: js}
}

func testLogger(t *testing.T) func(string, error) {
	return func(msg string, err error) {
		if err != nil {
			t.Logf("%s %s: %v", time.Now().Format("15:04:05.000"), msg, err)
		}
	}
}

// waitUntil polls cond every 5 ms until it holds, failing the test after
// within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("not within %v: %s", within, what)
		}
		<-tick.C
	}
	return time.Since(start)
}

// disjointCover checks that the keepers' Owned lists are disjoint and
// cover every partition.
func disjointCover(t *testing.T, keepers ...*testKeeper) {
	t.Helper()
	seen := map[int]string{}
	for _, k := range keepers {
		for _, p := range k.Owned() {
			if o, ok := seen[p]; ok {
				t.Errorf("partition %d owned by %s and %s", p, o, k.ReplicaID())
			}
			seen[p] = k.ReplicaID()
		}
	}
	if len(seen) != testPartitions {
		t.Errorf("%d of %d partitions owned", len(seen), testPartitions)
	}
}
