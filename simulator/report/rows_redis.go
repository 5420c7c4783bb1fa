package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/cspreseller/csp-processor/simulator/footprint"
)

// redisRows are the rows of the processor's keys in Redis (Summary.Redis):
// bytes per active subscription, hot state per customer, the state hashes'
// sizes, and what was archived out of them.
func redisRows(f *footprint.Footprint, add, sub func(k, v string)) {
	add("Redis, the processor's keys", fmt.Sprintf("%s keys, %s (MEMORY USAGE summed; used_memory %s)",
		groupInt(f.Keys), formatBytes(f.KeyBytes), formatBytes(f.UsedMemory)))
	kinds := slices.Collect(maps.Keys(f.ByKind))
	slices.SortFunc(kinds, func(a, b string) int {
		return cmp.Or(cmp.Compare(f.ByKind[b].Bytes, f.ByKind[a].Bytes), cmp.Compare(a, b))
	})
	for _, k := range kinds {
		sub(":"+k, fmt.Sprintf("%s keys, %s", groupInt(f.ByKind[k].Keys), formatBytes(f.ByKind[k].Bytes)))
	}
	if f.LiveSubscriptions > 0 {
		add("Redis per active subscription", fmt.Sprintf("%s (%s active or suspended subscriptions; used_memory %s each)",
			formatBytes(f.BytesPerLiveSubscription()), groupInt(f.LiveSubscriptions), formatBytes(f.UsedMemoryPerLiveSubscription())))
	}
	if f.StateHashes > 0 {
		add("hot state per customer", fmt.Sprintf("%s (%s state hashes)", formatBytes(f.HotStatePerCustomer()), groupInt(f.StateHashes)))
		sub("fields p50 / max", fmt.Sprintf("%s / %s", groupInt(f.StateFieldsP50), groupInt(f.StateFieldsMax)))
		sub("bytes p50 / max", fmt.Sprintf("%s / %s", formatBytes(f.StateBytesP50), formatBytes(f.StateBytesMax)))
	}
	add("archived entities", groupInt(f.Archived))
	add("tombstones", groupInt(f.Tombstones))
	add("activity log entries", groupInt(f.ActivityEntries))
}
