package report

import (
	"cmp"
	"slices"
	"time"
)

// TypeLatency is the latency, publish to first event, of the commands of
// one type (order.placed, subscription.cancel, ...).
type TypeLatency struct {
	Type  string        `json:"type"`
	Count int64         `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P95   time.Duration `json:"p95_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"` // exact
}

// unknownType stands for a command completed without its type.
const unknownType = "(unknown)"

// recordType adds a completion to its type's histogram. Caller holds r.mu.
func (r *Recorder) recordType(commandType string, latency time.Duration) {
	if commandType == "" {
		commandType = unknownType
	}
	l := r.byType[commandType]
	if l == nil {
		l = newLatencies()
		r.byType[commandType] = l
	}
	l.record(latency)
}

// typeLatencies are the per-type latencies, the most frequent type first
// (ties by name). Caller holds r.mu.
func (r *Recorder) typeLatencies() []TypeLatency {
	var out []TypeLatency
	for typ, l := range r.byType {
		out = append(out, TypeLatency{Type: typ, Count: l.count(), P50: l.at(50), P95: l.at(95), P99: l.at(99), Max: l.max})
	}
	slices.SortFunc(out, func(a, b TypeLatency) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Type, b.Type)) })
	return out
}
