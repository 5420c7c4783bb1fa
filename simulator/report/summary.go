package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/cspreseller/csp-processor/simulator/footprint"
)

// Summary is the frozen numbers of a run. Durations are nanoseconds in JSON.
type Summary struct {
	Label      string    `json:"label"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Sent       int64     `json:"sent"`
	Completed  int64     `json:"completed"`
	Throughput float64   `json:"throughput_per_s"` // completed per second over End-Start

	LatencyP50  time.Duration `json:"latency_p50_ns"`
	LatencyP90  time.Duration `json:"latency_p90_ns"`
	LatencyP95  time.Duration `json:"latency_p95_ns"`
	LatencyP99  time.Duration `json:"latency_p99_ns"`
	LatencyP999 time.Duration `json:"latency_p999_ns"`
	LatencyMax  time.Duration `json:"latency_max_ns"`  // exact
	LatencyMean time.Duration `json:"latency_mean_ns"` // exact

	Rejections    map[string]int64 `json:"rejections"` // by code
	Charges       int64            `json:"charges"`
	Credits       int64            `json:"credits"`
	ChargedMinor  map[string]int64 `json:"charged_minor"`  // by currency
	CreditedMinor map[string]int64 `json:"credited_minor"` // by currency
	// CurrencyExponents are the catalog's minor-unit exponents, filled by
	// the caller; amounts of other currencies use CurrencyExponent.
	CurrencyExponents map[string]int `json:"currency_exponents,omitempty"`
	Mismatches        int64          `json:"mismatches"`
	MismatchTexts     []string       `json:"mismatch_texts"` // the first 100
	// Lost counts the commands that got no event within the run's
	// deadline (each is a mismatch too, named in MismatchTexts).
	Lost int64 `json:"lost"`
	// RulesChecked counts the checked billing events by the money rule
	// they reached (an event can reach several: its own rule, GEN-2 and
	// GEN-3 when prorated, ...); RulesUnreached are the money rules the
	// run expected (Recorder.ExpectRules) that no checked event reached.
	RulesChecked   map[string]int64 `json:"rules_checked,omitempty"`
	RulesUnreached []string         `json:"rules_unreached,omitempty"`

	// Filled by the caller (measured elsewhere); printed when non-zero.
	Redeliveries          int64 `json:"redeliveries"`
	DeadLetters           int64 `json:"dead_letters"`
	ProcessorRSSBytes     int64 `json:"processor_rss_bytes"`
	ProcessorPeakRSSBytes int64 `json:"processor_peak_rss_bytes"`
	RedisUsedMemoryBytes  int64 `json:"redis_used_memory_bytes"`
	Subscriptions         int64 `json:"subscriptions"` // for Redis memory per subscription
	// Redis is what the processor's keys take at the end of the run, by
	// kind, over the active subscriptions (nil: not measured).
	Redis *footprint.Footprint `json:"redis_footprint,omitempty"`
	Notes []string             `json:"notes"` // free lines printed at the end

	Series      []SecondSample    `json:"series"`      // one per wall-clock second since Start
	Pauses      []Span            `json:"pauses"`      // deliberate pauses of the generator
	Percentiles []PercentilePoint `json:"percentiles"` // whole-run latency distribution

	// LatencyByType splits the latency by command type, the most
	// frequent first; their counts add up to Completed.
	LatencyByType []TypeLatency `json:"latency_by_type"`
	// Stages split each command's way (Timeline) into published → stored
	// → committed → received, with the whole way of the same commands
	// last. StagesWithoutCommit counts the commands whose first event did
	// not say when the processor committed (an event published again from
	// the outbox, a processor that does not set the header): they are in
	// the stages without "committed".
	Stages              []StageLatency `json:"stages"`
	StagesWithoutCommit int64          `json:"stages_without_commit_time"`
	// Resources are the sampled processes' CPU and memory over the run.
	Resources []ResourceSeries `json:"resources"`
	// BillingByDay are the charges and credits per simulated day; their
	// counts and amounts add up to Charges, Credits, ChargedMinor and
	// CreditedMinor.
	BillingByDay []DayBilling `json:"billing_by_day"`
	// Baseline compares the run with an earlier one, when asked for.
	Baseline *Comparison `json:"baseline,omitempty"`
}

// SecondSample is one wall-clock second of the run, starting At after the
// start. Sent counts by publish time, Completed (and the latencies) by the
// arrival of the first event. Paused: the second overlaps a deliberate pause.
type SecondSample struct {
	At        time.Duration `json:"at_ns"`
	Sent      int64         `json:"sent"`
	Completed int64         `json:"completed"`
	P50       time.Duration `json:"p50_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
	Paused    bool          `json:"paused"`
	// Covered is how much of the second the run lasted: a whole second
	// but for the last, which the run's end usually cuts short (its
	// counts are that fraction's, not a drop in throughput).
	Covered time.Duration `json:"covered_ns"`
}

// PercentilePoint is one point of the latency distribution curve.
type PercentilePoint struct {
	Percentile float64       `json:"percentile"` // 0..100
	Latency    time.Duration `json:"latency_ns"`
}

// Distribution curve: evenly spaced in "nines" (x = -log10(1 - p/100)),
// from the 0th to the 99.99th percentile, which is where latency plots
// put their detail.
const (
	distributionMaxNines = 4
	distributionStep     = 0.05
)

// Summary freezes the numbers at end. The Recorder can keep recording and
// be summarised again.
func (r *Recorder) Summary(label string, end time.Time) Summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Summary{
		Label:         label,
		Start:         r.start,
		End:           end,
		Sent:          r.sent,
		Completed:     r.completed,
		LatencyP50:    valueAt(r.all, 50, r.maxLatency),
		LatencyP90:    valueAt(r.all, 90, r.maxLatency),
		LatencyP95:    valueAt(r.all, 95, r.maxLatency),
		LatencyP99:    valueAt(r.all, 99, r.maxLatency),
		LatencyP999:   valueAt(r.all, 99.9, r.maxLatency),
		LatencyMax:    r.maxLatency,
		Rejections:    maps.Clone(r.rejections),
		Charges:       r.charges,
		Credits:       r.credits,
		ChargedMinor:  maps.Clone(r.charged),
		CreditedMinor: maps.Clone(r.credited),
		Mismatches:    r.mismatches,
		Lost:          r.lost,
		RulesChecked:  maps.Clone(r.rulesChecked),
		MismatchTexts: slices.Clone(r.mismatchTexts),
		Pauses:        slices.Clone(r.pauses),
		Series:        r.series(end),
		Percentiles:   distribution(r.all, r.maxLatency),

		LatencyByType:       r.typeLatencies(),
		Stages:              r.stageLatencies(),
		StagesWithoutCommit: r.stages.withoutCommit,
		Resources:           r.resourceSeries(),
		BillingByDay:        r.billingByDay(),
	}
	if span := end.Sub(r.start).Seconds(); span > 0 {
		s.Throughput = float64(r.completed) / span
	}
	if r.completed > 0 {
		s.LatencyMean = time.Duration(math.Round(r.sumLatency / float64(r.completed)))
	}
	for _, id := range r.rulesExpected {
		if r.rulesChecked[id] == 0 {
			s.RulesUnreached = append(s.RulesUnreached, id)
		}
	}
	for _, kind := range slices.Sorted(maps.Keys(r.otherBilling)) {
		s.Notes = append(s.Notes, fmt.Sprintf("%s billing events of unknown kind %q were not counted as charges or credits",
			groupInt(r.otherBilling[kind]), kind))
	}
	return s
}

// series builds one sample per second from the start to end (or to the
// last second anything was recorded in, if later). Caller holds r.mu.
func (r *Recorder) series(end time.Time) []SecondSample {
	n := int64(len(r.seconds))
	if d := end.Sub(r.start); d > 0 {
		n = max(n, min(int64((d+time.Second-1)/time.Second), maxSeconds))
	}
	out := make([]SecondSample, n)
	for i := range out {
		out[i].At = time.Duration(i) * time.Second
		if i < len(r.seconds) {
			sec := r.seconds[i]
			out[i].Sent, out[i].Completed = sec.sent, sec.completed
			out[i].P50, out[i].P99, out[i].Max = sec.p50, sec.p99, sec.max
		}
		out[i].Paused = r.paused(out[i].At, out[i].At+time.Second)
		out[i].Covered = time.Second
		if left := end.Sub(r.start) - out[i].At; left < time.Second {
			out[i].Covered = max(left, 0)
		}
	}
	// Seconds still in the ring have no frozen percentiles yet: read them
	// without closing, so recording can go on.
	r.recent.each(func(s int64, h *hdrhistogram.Histogram) {
		if s < n {
			out[s].P50 = valueAt(h, 50, out[s].Max)
			out[s].P99 = valueAt(h, 99, out[s].Max)
		}
	})
	return out
}

// paused reports whether [from, to) overlaps a recorded pause. Caller holds r.mu.
func (r *Recorder) paused(from, to time.Duration) bool {
	for _, p := range r.pauses {
		if p.From < to && p.To > from {
			return true
		}
	}
	return false
}

// distribution samples the whole-run histogram along the nines scale.
func distribution(h *hdrhistogram.Histogram, exactMax time.Duration) []PercentilePoint {
	if h.TotalCount() == 0 {
		return nil
	}
	steps := int(math.Round(distributionMaxNines / distributionStep))
	out := make([]PercentilePoint, 0, steps+1)
	for i := 0; i <= steps; i++ {
		p := 100 * (1 - math.Pow(10, -float64(i)*distributionStep))
		out = append(out, PercentilePoint{Percentile: p, Latency: valueAt(h, p, exactMax)})
	}
	return out
}
