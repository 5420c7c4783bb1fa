package report

import (
	"strings"
	"testing"

	"github.com/cspreseller/csp-processor/simulator/footprint"
)

// The text report (and the HTML, from the same rows) shows the processor's
// keys: bytes per active subscription, hot state per customer, the state
// hashes' sizes and what was archived.
func TestTextReportHasTheRedisFootprint(t *testing.T) {
	s := sampleRun(t, "a year")
	s.Redis = &footprint.Footprint{UsedMemory: 3 << 20, Keys: 5000, KeyBytes: 2 << 20,
		ByKind:      map[string]footprint.Kind{"state": {Keys: 1000, Bytes: 1 << 20}, "outbox": {Keys: 4000, Bytes: 1 << 20}},
		StateHashes: 1000, StateFieldsP50: 31, StateFieldsMax: 77, StateBytesP50: 900, StateBytesMax: 4096,
		Archived: 1234, Tombstones: 1200, ActivityEntries: 7, LiveSubscriptions: 2048}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Redis, the processor's keys", "5,000 keys, 2.0 MiB (MEMORY USAGE summed; used_memory 3.0 MiB)",
		":state", "1,000 keys, 1.0 MiB",
		"Redis per active subscription", "1.0 KiB (2,048 active or suspended subscriptions; used_memory 1.5 KiB each)",
		"hot state per customer", "1.0 KiB (1,000 state hashes)",
		"fields p50 / max", "31 / 77",
		"bytes p50 / max", "900 B / 4.0 KiB",
		"archived entities", "1,234",
		"tombstones", "1,200",
		"activity log entries",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}
