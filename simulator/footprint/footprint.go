// Package footprint measures what the processor's data takes in Redis:
// every key under the processor's prefix, its MEMORY USAGE summed by kind
// of key, the size distribution of the customers' state hashes, and how
// many entities were archived out of them.
//
// The measure of record is MEMORY USAGE (SAMPLES 0: every element counted)
// summed over the processor's keys, not INFO used_memory: used_memory also
// counts what Redis costs with no data at all (about a megabyte), its
// script cache, client buffers and allocator slack, which at a thousand
// customers would add a kilobyte per subscription that more customers do
// not pay, and on a Redis shared with others it counts their keys too.
// used_memory is reported beside it, as what the server holds in all.
package footprint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Key kinds the measure reads more than the bytes of: the state hash (hot
// entities), the archive (a field per closed entity moved out of the state
// hash), the tombstones (a field per archived entity, so that a late command
// about it is still recognised) and the activity log (a list).
const (
	KindState    = "state"
	KindArchive  = "archive"
	KindTombs    = "tombs"
	KindActivity = "activity"
)

// Kind is what the keys of one kind hold.
type Kind struct {
	Keys  int64 `json:"keys"`
	Bytes int64 `json:"bytes"`
}

// Footprint is one measure of the processor's keys.
type Footprint struct {
	// UsedMemory is INFO used_memory, summed over a cluster's masters:
	// everything the server holds, its own overhead included.
	UsedMemory int64 `json:"used_memory_bytes"`
	// Keys and KeyBytes are every key under the prefix and their MEMORY
	// USAGE summed; ByKind splits them by the key's kind: the suffix of a
	// customer's key (state, inbox, outbox, archive, ...), the segment after
	// the prefix otherwise (timers, testclock, simclock).
	Keys     int64           `json:"keys"`
	KeyBytes int64           `json:"key_bytes"`
	ByKind   map[string]Kind `json:"by_kind"`
	// StateHashes counts the customers' state hashes; the percentiles are
	// of their field counts (HLEN) and their bytes.
	StateHashes    int64 `json:"state_hashes"`
	StateFieldsP50 int64 `json:"state_fields_p50"`
	StateFieldsMax int64 `json:"state_fields_max"`
	StateBytesP50  int64 `json:"state_bytes_p50"`
	StateBytesMax  int64 `json:"state_bytes_max"`
	// Archived, Tombstones and ActivityEntries are the fields of every
	// archive hash, of every tombstone hash, and the entries of every
	// activity list (0 where the processor keeps none).
	Archived        int64 `json:"archived_entities"`
	Tombstones      int64 `json:"tombstones"`
	ActivityEntries int64 `json:"activity_entries"`
	// LiveSubscriptions is the simulator's count of active and suspended
	// subscriptions (the model's, filled by the caller): what the bytes
	// are divided by.
	LiveSubscriptions int64 `json:"live_subscriptions"`
}

// BytesPerLiveSubscription is KeyBytes over the live subscriptions (0
// when there are none).
func (f Footprint) BytesPerLiveSubscription() int64 {
	if f.LiveSubscriptions <= 0 {
		return 0
	}
	return f.KeyBytes / f.LiveSubscriptions
}

// UsedMemoryPerLiveSubscription is UsedMemory over the live subscriptions.
func (f Footprint) UsedMemoryPerLiveSubscription() int64 {
	if f.LiveSubscriptions <= 0 {
		return 0
	}
	return f.UsedMemory / f.LiveSubscriptions
}

// HotStatePerCustomer is the state hashes' bytes over their number: what
// a customer's live entities take.
func (f Footprint) HotStatePerCustomer() int64 {
	if f.StateHashes <= 0 {
		return 0
	}
	return f.ByKind[KindState].Bytes / f.StateHashes
}

// Measure reads every key under prefix (on every master of a cluster).
// Keys written while it runs may be missed or counted: measure a
// processor at rest.
func Measure(ctx context.Context, rdb redis.UniversalClient, prefix string) (Footprint, error) {
	if prefix == "" || strings.ContainsAny(prefix, "*?[]\\{}") {
		return Footprint{}, fmt.Errorf("footprint: key prefix %q: want one without glob characters or braces", prefix)
	}
	var mu sync.Mutex
	var all tally
	err := forEachNode(ctx, rdb, func(ctx context.Context, node redis.Cmdable) error {
		t, err := measureNode(ctx, node, prefix)
		mu.Lock()
		all.add(t)
		mu.Unlock()
		return err
	})
	if err != nil {
		return Footprint{}, err
	}
	return all.footprint(), nil
}

// UsedMemory is INFO used_memory, summed over a cluster's masters.
func UsedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	var total atomic.Int64
	err := forEachNode(ctx, rdb, func(ctx context.Context, node redis.Cmdable) error {
		m, err := usedMemory(ctx, node)
		total.Add(m)
		return err
	})
	return total.Load(), err
}

// forEachNode calls fn for every master of a cluster, every shard of a
// ring, or the one server; concurrently for several.
func forEachNode(ctx context.Context, rdb redis.UniversalClient, fn func(context.Context, redis.Cmdable) error) error {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return fn(ctx, n) })
	case *redis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return fn(ctx, n) })
	default:
		return fn(ctx, rdb)
	}
}

// tally is what the nodes' keys add up to, before the percentiles.
type tally struct {
	used                                  int64
	keys, bytes                           int64
	byKind                                map[string]Kind
	stateFields, stateBytes               []int64
	archived, tombstones, activityEntries int64
}

func (t *tally) add(o tally) {
	if t.byKind == nil {
		t.byKind = map[string]Kind{}
	}
	t.used += o.used
	t.keys += o.keys
	t.bytes += o.bytes
	for k, v := range o.byKind {
		have := t.byKind[k]
		t.byKind[k] = Kind{Keys: have.Keys + v.Keys, Bytes: have.Bytes + v.Bytes}
	}
	t.stateFields = append(t.stateFields, o.stateFields...)
	t.stateBytes = append(t.stateBytes, o.stateBytes...)
	t.archived += o.archived
	t.tombstones += o.tombstones
	t.activityEntries += o.activityEntries
}

func (t *tally) footprint() Footprint {
	f := Footprint{UsedMemory: t.used, Keys: t.keys, KeyBytes: t.bytes, ByKind: t.byKind,
		StateHashes: int64(len(t.stateFields)), Archived: t.archived, Tombstones: t.tombstones, ActivityEntries: t.activityEntries}
	if f.ByKind == nil {
		f.ByKind = map[string]Kind{}
	}
	f.StateFieldsP50, f.StateFieldsMax = medianAndMax(t.stateFields)
	f.StateBytesP50, f.StateBytesMax = medianAndMax(t.stateBytes)
	return f
}

// medianAndMax of xs (0, 0 when empty); sorts xs.
func medianAndMax(xs []int64) (int64, int64) {
	if len(xs) == 0 {
		return 0, 0
	}
	slices.Sort(xs)
	return xs[(len(xs)-1)/2], xs[len(xs)-1]
}

// scanCount is the SCAN COUNT hint: each batch's keys are measured in one
// pipeline.
const scanCount = 500

func measureNode(ctx context.Context, node redis.Cmdable, prefix string) (tally, error) {
	t := tally{byKind: map[string]Kind{}}
	used, err := usedMemory(ctx, node)
	if err != nil {
		return t, err
	}
	t.used = used
	// SCAN may return a key more than once.
	seen := map[string]struct{}{}
	match := prefix + ":*"
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, scanCount).Result()
		if err != nil {
			return t, err
		}
		fresh := keys[:0]
		for _, k := range keys {
			if _, ok := seen[k]; !ok {
				seen[k] = struct{}{}
				fresh = append(fresh, k)
			}
		}
		if err := t.measureKeys(ctx, node, prefix, fresh); err != nil {
			return t, err
		}
		if next == 0 {
			return t, nil
		}
		cursor = next
	}
}

// measureKeys reads the bytes of keys, and the length of those whose
// length is reported, in one pipeline.
func (t *tally) measureKeys(ctx context.Context, node redis.Cmdable, prefix string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	pipe := node.Pipeline()
	usage := make([]*redis.IntCmd, len(keys))
	lengths := make([]*redis.IntCmd, len(keys))
	kinds := make([]string, len(keys))
	for i, k := range keys {
		kinds[i] = kindOf(prefix, k)
		usage[i] = pipe.MemoryUsage(ctx, k, 0)
		switch kinds[i] {
		case KindState, KindArchive, KindTombs:
			lengths[i] = pipe.HLen(ctx, k)
		case KindActivity:
			lengths[i] = pipe.LLen(ctx, k)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for i := range keys {
		bytes, err := usage[i].Result()
		if errors.Is(err, redis.Nil) {
			continue // gone since the SCAN (expired)
		}
		if err != nil {
			return err
		}
		t.keys++
		t.bytes += bytes
		k := t.byKind[kinds[i]]
		t.byKind[kinds[i]] = Kind{Keys: k.Keys + 1, Bytes: k.Bytes + bytes}
		if lengths[i] == nil {
			continue
		}
		n, err := lengths[i].Result()
		if err != nil {
			return err
		}
		switch kinds[i] {
		case KindState:
			t.stateFields = append(t.stateFields, n)
			t.stateBytes = append(t.stateBytes, bytes)
		case KindArchive:
			t.archived += n
		case KindTombs:
			t.tombstones += n
		case KindActivity:
			t.activityEntries += n
		}
	}
	return nil
}

// kindOf names a key's kind: a customer's key (<prefix>:{<id>}:<suffix>)
// by its suffix, any other by the segment after the prefix
// (<prefix>:timers:{s3} is "timers").
func kindOf(prefix, key string) string {
	rest := strings.TrimPrefix(key, prefix+":")
	if strings.HasPrefix(rest, "{") {
		if i := strings.LastIndex(rest, "}:"); i >= 0 {
			return rest[i+2:]
		}
	}
	seg, _, _ := strings.Cut(rest, ":")
	return seg
}

func usedMemory(ctx context.Context, node redis.Cmdable) (int64, error) {
	info, err := node.Info(ctx, "memory").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, errors.New("no used_memory in INFO memory")
}
