package footprint

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redistest"
)

// One private redis-server for the package; tests using it flush it and
// must not run in parallel.
func TestMain(m *testing.M) { redistest.Main(m) }

// knownKeys writes a small data set whose counts the test knows: three
// customers (state hashes of 1, 3 and 5 fields), archives of 2 and 4
// entities, 6 tombstones, an activity log of 4 entries, an inbox, a timer
// index, and keys outside the prefix that must not be counted. It returns
// the keys under the prefix by kind.
func knownKeys(t *testing.T, ctx context.Context, rdb redis.UniversalClient) map[string][]string {
	t.Helper()
	byKind := map[string][]string{}
	write := func(kind, key string, cmd func() error) {
		if err := cmd(); err != nil {
			t.Fatal(err)
		}
		byKind[kind] = append(byKind[kind], key)
	}
	hash := func(kind, key string, fields int) {
		write(kind, key, func() error {
			for i := range fields {
				if err := rdb.HSet(ctx, key, fmt.Sprintf("sub:%d", i), fmt.Sprintf(`{"id":%d,"quantity":%d}`, i, 10*i)).Err(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i, fields := range []int{1, 3, 5} {
		hash(KindState, fmt.Sprintf("csp:{C%d}:state", i), fields)
	}
	hash(KindArchive, "csp:{C0}:archive", 2)
	hash(KindArchive, "csp:{C1}:archive", 4)
	hash(KindTombs, "csp:{C1}:tombs", 6)
	hash("inbox", "csp:{C2}:inbox", 2)
	write(KindActivity, "csp:{C1}:activity", func() error { return rdb.RPush(ctx, "csp:{C1}:activity", "a", "b", "c", "d").Err() })
	write("timers", "csp:timers:{s7}", func() error {
		return rdb.ZAdd(ctx, "csp:timers:{s7}", redis.Z{Score: 1, Member: "timer"}).Err()
	})
	// Not the processor's: another prefix, and one that only starts alike.
	for _, k := range []string{"other:{C0}:state", "cspx:{C0}:state"} {
		if err := rdb.HSet(ctx, k, "f", "v").Err(); err != nil {
			t.Fatal(err)
		}
	}
	return byKind
}

func checkCounts(t *testing.T, ctx context.Context, rdb redis.UniversalClient, byKind map[string][]string, f Footprint) {
	t.Helper()
	var keys, total int64
	for kind, ks := range byKind {
		var bytes int64
		for _, k := range ks {
			n, err := rdb.MemoryUsage(ctx, k, 0).Result()
			if err != nil {
				t.Fatal(err)
			}
			bytes += n
		}
		if got := f.ByKind[kind]; got.Keys != int64(len(ks)) || got.Bytes != bytes {
			t.Errorf("kind %s: %+v, want %d keys of %d bytes", kind, got, len(ks), bytes)
		}
		keys += int64(len(ks))
		total += bytes
	}
	if len(f.ByKind) != len(byKind) {
		t.Errorf("kinds %v, want those of %v", f.ByKind, byKind)
	}
	if f.Keys != keys || f.KeyBytes != total {
		t.Errorf("%d keys of %d bytes, want %d of %d", f.Keys, f.KeyBytes, keys, total)
	}
	if f.StateHashes != 3 || f.StateFieldsP50 != 3 || f.StateFieldsMax != 5 {
		t.Errorf("state hashes %d, fields p50 %d max %d; want 3, 3, 5", f.StateHashes, f.StateFieldsP50, f.StateFieldsMax)
	}
	if f.StateBytesMax < f.StateBytesP50 || f.StateBytesP50 <= 0 {
		t.Errorf("state bytes p50 %d, max %d", f.StateBytesP50, f.StateBytesMax)
	}
	if f.Archived != 6 || f.Tombstones != 6 || f.ActivityEntries != 4 {
		t.Errorf("archived %d, tombstones %d, activity %d; want 6, 6, 4", f.Archived, f.Tombstones, f.ActivityEntries)
	}
	if f.UsedMemory < f.KeyBytes {
		t.Errorf("used_memory %d below the keys' %d bytes", f.UsedMemory, f.KeyBytes)
	}
	f.LiveSubscriptions = 4
	if got := f.BytesPerLiveSubscription(); got != total/4 {
		t.Errorf("bytes per live subscription %d, want %d", got, total/4)
	}
	if got := f.HotStatePerCustomer(); got != f.ByKind[KindState].Bytes/3 {
		t.Errorf("hot state per customer %d, want %d", got, f.ByKind[KindState].Bytes/3)
	}
}

func TestMeasureCountsTheProcessorsKeysByKind(t *testing.T) {
	rdb := redistest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	byKind := knownKeys(t, ctx, rdb)
	f, err := Measure(ctx, rdb, "csp")
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, ctx, rdb, byKind, f)
}

// On a cluster the customers' keys spread over the masters, and every
// master is read.
func TestMeasureReadsEveryMasterOfACluster(t *testing.T) {
	rdb := redistest.SharedClusterClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.FlushAll(ctx).Err() }); err != nil {
		t.Fatal(err)
	}
	byKind := knownKeys(t, ctx, rdb)
	f, err := Measure(ctx, rdb, "csp")
	if err != nil {
		t.Fatal(err)
	}
	checkCounts(t, ctx, rdb, byKind, f)
}

func TestMeasureRefusesAPrefixThatIsAPattern(t *testing.T) {
	for _, p := range []string{"", "c*p", "csp{x}"} {
		if _, err := Measure(context.Background(), redistest.Client(t), p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

func TestKindOf(t *testing.T) {
	for key, want := range map[string]string{
		"csp:{C1}:state":      "state",
		"csp:{a:b}:archive":   "archive",
		"csp:timers:{s3}":     "timers",
		"csp:testclock:{TC1}": "testclock",
		"csp:simclock":        "simclock",
		"csp:{C1}:replsync":   "replsync",
	} {
		if got := kindOf("csp", key); got != want {
			t.Errorf("kindOf(%q) = %q, want %q", key, got, want)
		}
	}
}
