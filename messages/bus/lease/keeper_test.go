package lease

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// converge is generous: the machine running the tests may be loaded.
const converge = 20 * time.Second

// Two keepers split the partitions 16/16, together working every one and
// never one at the same moment (the recorder checks every Acquire against
// the current holders), with fences rising per partition.
func TestG3_TwoKeepersCoverEveryPartitionAndNeverWorkOneTogether(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	b := startKeeper(t, s, r, "b")
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	disjointCover(t, a, b)
	r.check(t)
}

// A third keeper joining two makes the others release their surplus and
// the shares converge to 11/11/10 of 32, with no partition worked by two
// replicas at any moment and every handed-over partition's fence higher
// than its previous owner's.
func TestG3_AThirdKeeperGetsAFairShareWithoutOverlap(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	b := startKeeper(t, s, r, "b")
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	c := startKeeper(t, s, r, "c")
	took := waitUntil(t, converge, "11/11/10", func() bool { return r.shares(10, 11, 11) })
	t.Logf("third keeper: shares 11/11/10 after %v", took.Round(time.Millisecond))
	disjointCover(t, a, b, c)
	r.check(t)
}

// A keeper shut down gracefully releases its partitions (Owner.Release,
// then the key's delete) and the other keeper works them far sooner than
// the TTL, which only a crash has to wait for.
func TestShutdownHandsPartitionsOverFarSoonerThanTheTTL(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	b := startKeeper(t, s, r, "b")
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, converge, "b works all 32", func() bool { return r.shares(32) })
	took := time.Since(start)
	t.Logf("graceful handover of 16 partitions: %v (TTL %v)", took.Round(time.Millisecond), DefaultTTL)
	if took > DefaultTTL/2 {
		t.Errorf("handover took %v, want well under the TTL %v", took, DefaultTTL)
	}
	n := 0
	for _, rel := range r.releasesOf("a") {
		if !rel.at.Before(start) {
			n++
		}
	}
	if n != 16 {
		t.Errorf("a released %d partitions on Shutdown, want 16", n)
	}
	disjointCover(t, b)
	r.check(t)
}

// A Release that takes longer than the TTL (a partition draining slow
// commands) keeps the lease renewed until it returns: the other keeper
// gets none of the partitions while they are still being worked, and each
// one as soon as its Release returned.
func TestG3_SlowReleaseKeepsTheLeaseUntilTheWorkHasStopped(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	delay := DefaultTTL + time.Second
	a := startKeeperOwnedBy(t, s, ownerAs{r: r, replica: "a", releaseDelay: delay})
	waitUntil(t, converge, "a works all 32", func() bool { return r.shares(32) })
	b := startKeeper(t, s, r, "b")
	took := waitUntil(t, converge+delay, "16/16", func() bool { return r.shares(16, 16) })
	if took < delay {
		t.Errorf("b got its share after %v, before a's releases (%v each) returned", took, delay)
	}
	t.Logf("16 partitions handed over %v after b started (each Release takes %v, TTL %v)", took.Round(time.Millisecond), delay, DefaultTTL)
	disjointCover(t, a, b)
	r.check(t)
}

// A keeper whose connection dies (a crashed replica: nothing released,
// nothing deleted) loses its leases when they expire, and the other keeper
// works its partitions within TTL + one renewal interval of the crash.
func TestCrashedKeepersPartitionsAreTakenOverWithinTTLAndOneRenewal(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	b := startKeeper(t, s, r, "b")
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	crash := time.Now()
	a.nc.Close()
	limit := DefaultTTL + DefaultTTL/3
	waitUntil(t, limit+5*time.Second, "b works all 32", func() bool {
		c, free := r.counts()
		return free == 0 && c["b"] == 32
	})
	took := time.Since(crash)
	t.Logf("takeover after a crash: %v (TTL %v, limit TTL + renewal interval = %v)", took.Round(time.Millisecond), DefaultTTL, limit)
	// The server expires entries on a timer of its own (up to a few
	// hundred ms late); a loaded machine adds scheduling delay.
	if slack := time.Second; took > limit+slack {
		t.Errorf("takeover took %v, want at most %v + %v", took, limit, slack)
	}
	disjointCover(t, b)
	r.check(t)
}

// A keeper that cannot renew (its connection is gone) stops working each
// partition before its local deadline, the start of its last renewal +
// TTL − SafetyMargin, so before the server could let anyone else have it.
func TestG3_KeeperThatCannotRenewReleasesBeforeItsDeadline(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	waitUntil(t, converge, "a works all 32", func() bool { return r.shares(32) })
	cut := time.Now()
	a.nc.Close()
	cfg := Config{}.WithDefaults()
	deadline := cut.Add(cfg.TTL - cfg.SafetyMargin)
	waitUntil(t, cfg.TTL+5*time.Second, "a released all 32", func() bool { return len(r.releasesOf("a")) == testPartitions })
	for _, rel := range r.releasesOf("a") {
		// The deadline timer fires on time; 100 ms covers its scheduling,
		// still SafetyMargin − 100 ms before the server's expiry.
		if late := rel.at.Sub(deadline); late > 100*time.Millisecond {
			t.Errorf("partition %d released %v after the deadline", rel.p, late)
		}
	}
	last := r.releasesOf("a")[testPartitions-1].at
	t.Logf("last release %v after the connection closed (deadline at most %v)", last.Sub(cut).Round(time.Millisecond), cfg.TTL-cfg.SafetyMargin)
	if got := a.Owned(); len(got) != 0 {
		t.Errorf("still owns %v", got)
	}
	r.check(t)
}

// A renewal that finds the key written by someone else (the revision
// moved) releases the partition at once; once the intruder's entry
// expires, the keeper acquires it again with a higher fence.
func TestKeeperReleasesAPartitionWhoseKeySomeoneElseWrote(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	waitUntil(t, converge, "a works all 32", func() bool { return r.shares(32) })
	_, js := natstest.Connect(t, s)
	kv, err := js.KeyValue(context.Background(), DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	fence := r.lastFence[5]
	r.mu.Unlock()
	if _, err := kv.Put(context.Background(), partitionKey(5), []byte(`{"replica":"intruder"}`)); err != nil {
		t.Fatal(err)
	}
	took := waitUntil(t, converge, "partition 5 released", func() bool {
		return slices.ContainsFunc(r.releasesOf("a"), func(rel release) bool { return rel.p == 5 })
	})
	t.Logf("released %v after the key was overwritten", took.Round(time.Millisecond))
	if slices.Contains(a.Owned(), 5) {
		t.Error("still owns partition 5")
	}
	waitUntil(t, converge, "partition 5 acquired again", func() bool { return r.shares(32) })
	r.mu.Lock()
	again := r.lastFence[5]
	r.mu.Unlock()
	if again <= fence {
		t.Errorf("fence of partition 5: %d after %d", again, fence)
	}
	r.check(t)
}

// A renewal whose reply was lost moved the key's revision without the
// keeper knowing; the next renewal's compare-and-set fails, but the key
// holds this keeper's own record (its instance and fence), so it adopts
// that revision and keeps the lease instead of dropping a partition nobody
// else could have taken. Simulated by writing the keeper's own last
// record again from another connection.
func TestKeeperKeepsALeaseWhoseRenewalReplyWasLost(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	waitUntil(t, converge, "a works all 32", func() bool { return r.shares(32) })
	_, js := natstest.Connect(t, s)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	var last jetstream.KeyValueEntry
	waitUntil(t, converge, "a renewal of partition 3", func() bool {
		e, err := kv.Get(ctx, partitionKey(3))
		var rec record
		if err != nil || json.Unmarshal(e.Value(), &rec) != nil || rec.Fence == 0 {
			return false
		}
		last = e
		return true
	})
	replayed, err := kv.Update(ctx, partitionKey(3), last.Value(), last.Revision())
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, converge, "a renewal by a after the replay", func() bool {
		e, err := kv.Get(ctx, partitionKey(3))
		return err == nil && e.Revision() > replayed && bytes.Contains(e.Value(), []byte(`"replica":"a"`))
	})
	if rels := r.releasesOf("a"); len(rels) != 0 || !slices.Contains(a.Owned(), 3) {
		t.Errorf("a released %v; owns %v", rels, a.Owned())
	}
	r.check(t)
}

// Fences are revisions of the bucket, which starts at 1000 × the Unix
// milliseconds of its creation: a bucket deleted and created again issues
// fences above every one the old bucket did, so customers the old fences
// were recorded for are not locked out.
func TestARecreatedBucketIssuesHigherFences(t *testing.T) {
	s := natstest.RunServer(t)
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	waitUntil(t, converge, "a works all 32", func() bool { return r.shares(32) })
	r.mu.Lock()
	var highest uint64
	for _, f := range r.lastFence {
		highest = max(highest, f)
	}
	r.mu.Unlock()
	if lowest := firstFence(time.Now().Add(-time.Minute)); highest < lowest {
		t.Fatalf("fence %d: the bucket did not start at 1000 × its creation's Unix milliseconds", highest)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.js.DeleteStream(ctx, bucketStream(DefaultBucket)); err != nil {
		t.Fatal(err)
	}
	b := startKeeper(t, s, r, "b")
	waitUntil(t, converge, "b works all 32", func() bool { return r.shares(32) })
	r.check(t) // every fence of b above a's for the same partition
	_ = b
}

// The shares of the live members always add up to at least every
// partition, and each replica ranks the partitions its own way.
func TestFairSharesCoverEveryPartitionAndReplicasPreferDifferentOnes(t *testing.T) {
	for _, parts := range []int{1, 2, 7, 32, 1024} {
		for members := 1; members <= 9; members++ {
			if s := fairShare(parts, members); s*members < parts || (s-1)*members >= parts {
				t.Errorf("fairShare(%d, %d) = %d", parts, members, s)
			}
		}
	}
	all := func() []int {
		ps := make([]int, testPartitions)
		for i := range ps {
			ps[i] = i
		}
		return ps
	}
	firsts := map[int]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		order := byPreference(id, all())
		if !slices.Equal(slices.Sorted(slices.Values(order)), all()) {
			t.Fatalf("%s's order is not a permutation: %v", id, order)
		}
		firsts[order[0]] = true
	}
	if len(firsts) < 4 {
		t.Errorf("six replicas prefer only %d different partitions first", len(firsts))
	}
}

// The bucket is made as the package doc says: History 1, TTL expiry with
// markers, file storage, the given replica count.
func TestBucketKeepsOneValueHasExpiryMarkersAndItsTTLIsOnlyLengthened(t *testing.T) {
	s := natstest.RunServer(t)
	_, js := natstest.Connect(t, s)
	cfg := Config{Partitions: 4}.WithDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ensureBucket(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, bucketStream(cfg.Bucket))
	if err != nil {
		t.Fatal(err)
	}
	got := st.CachedInfo().Config
	if got.MaxMsgsPerSubject != 1 || got.MaxAge != cfg.TTL || got.SubjectDeleteMarkerTTL != cfg.TTL ||
		got.Storage != jetstream.FileStorage || got.Replicas != 1 {
		t.Errorf("bucket config: history %d, TTL %v, marker TTL %v, storage %v, replicas %d",
			got.MaxMsgsPerSubject, got.MaxAge, got.SubjectDeleteMarkerTTL, got.Storage, got.Replicas)
	}
	// A bucket with a shorter TTL is lengthened; a longer one is kept.
	if _, err := ensureBucket(ctx, js, Config{Partitions: 4, TTL: 2 * cfg.TTL}.WithDefaults()); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureBucket(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	if st, err = js.Stream(ctx, bucketStream(cfg.Bucket)); err != nil || st.CachedInfo().Config.MaxAge != 2*cfg.TTL {
		t.Errorf("bucket TTL after a longer and a shorter keeper: %v %v, want %v", st.CachedInfo().Config.MaxAge, err, 2*cfg.TTL)
	}
}
