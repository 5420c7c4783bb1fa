package report

import (
	"fmt"
	"math"
	"time"
)

// Comparing a run with a baseline: an earlier run's JSON (WriteJSON), for
// a reader who changed something and wants to know what it did. Compared:
// throughput, the overall p50 and p99, each command type's p50 and p99,
// ledger mismatches, and the CPU each process group used per completed
// command (per command, so that runs of different lengths or rates
// compare). A command type is compared only when both runs completed at
// least MinTypeCount of it: the p99 of a few commands says nothing.

// MinTypeCount is the fewest commands of a type, in each run, for its
// latencies to be compared.
const MinTypeCount = 100

// SameBand is the change, in percent, under which a metric is called the
// same: run-to-run noise on a shared machine is far larger.
const SameBand = 1.0

// Units of a Delta's values.
const (
	UnitPerSecond  = "per_s"
	UnitDuration   = "ns"
	UnitCount      = "count"
	UnitPerCommand = "ns_per_command"
)

// Verdicts of a Delta.
const (
	Better = "better"
	Worse  = "worse"
	Same   = "same"
)

// Comparison is a run set against a baseline run.
type Comparison struct {
	File  string    `json:"file"`  // the baseline's JSON
	Label string    `json:"label"` // the baseline's label
	Start time.Time `json:"start"` // when the baseline ran
	// Deltas are the metrics compared, in the order printed.
	Deltas []Delta `json:"deltas"`
	// NotCompared says what was left out and why.
	NotCompared []string `json:"not_compared,omitempty"`
}

// Delta is one metric in both runs.
type Delta struct {
	Metric         string  `json:"metric"`
	Unit           string  `json:"unit"`
	Baseline       float64 `json:"baseline"`
	Current        float64 `json:"current"`
	HigherIsBetter bool    `json:"higher_is_better"`
	// ChangePct is (current − baseline) / baseline × 100; absent when the
	// baseline is 0.
	ChangePct *float64 `json:"change_pct,omitempty"`
	Verdict   string   `json:"verdict"`
}

// worsePct is how much worse the metric got, in percent of the baseline
// (negative: it got better); +Inf when it got worse from a baseline of 0.
func (d Delta) worsePct() float64 {
	if d.ChangePct == nil {
		switch {
		case d.Current == d.Baseline:
			return 0
		case (d.Current > d.Baseline) != d.HigherIsBetter:
			return math.Inf(1)
		default:
			return math.Inf(-1)
		}
	}
	if d.HigherIsBetter {
		return -*d.ChangePct
	}
	return *d.ChangePct
}

func newDelta(metric, unit string, base, cur float64, higherIsBetter bool) Delta {
	d := Delta{Metric: metric, Unit: unit, Baseline: base, Current: cur, HigherIsBetter: higherIsBetter}
	if base != 0 {
		pct := (cur - base) / base * 100
		d.ChangePct = &pct
	}
	switch w := d.worsePct(); {
	case cur == base || math.Abs(w) < SameBand:
		d.Verdict = Same
	case w > 0:
		d.Verdict = Worse
	default:
		d.Verdict = Better
	}
	return d
}

// Compare sets cur against base, read from file.
func Compare(base, cur Summary, file string) *Comparison {
	c := &Comparison{File: file, Label: base.Label, Start: base.Start}
	add := func(d Delta) { c.Deltas = append(c.Deltas, d) }
	dur := func(metric string, b, n time.Duration) {
		add(newDelta(metric, UnitDuration, float64(b), float64(n), false))
	}

	add(newDelta("throughput", UnitPerSecond, base.Throughput, cur.Throughput, true))
	dur("latency p50", base.LatencyP50, cur.LatencyP50)
	dur("latency p99", base.LatencyP99, cur.LatencyP99)
	add(newDelta("ledger mismatches", UnitCount, float64(base.Mismatches), float64(cur.Mismatches), false))

	baseTypes := map[string]TypeLatency{}
	for _, t := range base.LatencyByType {
		baseTypes[t.Type] = t
	}
	few := 0
	for _, t := range cur.LatencyByType {
		b, ok := baseTypes[t.Type]
		if !ok || b.Count < MinTypeCount || t.Count < MinTypeCount {
			few++
			continue
		}
		dur("latency p50 "+t.Type, b.P50, t.P50)
		dur("latency p99 "+t.Type, b.P99, t.P99)
	}
	if few > 0 {
		c.NotCompared = append(c.NotCompared, fmt.Sprintf("%d command types with fewer than %d commands in either run", few, MinTypeCount))
	}

	perCommand := func(cpu time.Duration, completed int64) float64 { return float64(cpu) / float64(completed) }
	if base.Completed > 0 && cur.Completed > 0 && len(base.Resources) > 0 && len(cur.Resources) > 0 {
		baseCPU := map[string]time.Duration{}
		var baseAll, curAll time.Duration
		for _, r := range base.Resources {
			baseCPU[r.Name] = r.CPU
			baseAll += r.CPU
		}
		for _, r := range cur.Resources {
			curAll += r.CPU
			if b, ok := baseCPU[r.Name]; ok {
				add(newDelta("CPU per command: "+r.Name, UnitPerCommand, perCommand(b, base.Completed), perCommand(r.CPU, cur.Completed), false))
			} else {
				c.NotCompared = append(c.NotCompared, "CPU of "+r.Name+": not sampled in the baseline")
			}
		}
		add(newDelta("CPU per command: all sampled processes", UnitPerCommand, perCommand(baseAll, base.Completed), perCommand(curAll, cur.Completed), false))
	} else {
		c.NotCompared = append(c.NotCompared, "CPU: a run has no resource samples or no completed command")
	}
	return c
}

// Regressions are the metrics worse than the baseline by more than pct
// percent (a metric worse from a baseline of 0, such as a first ledger
// mismatch, always is).
func (c *Comparison) Regressions(pct float64) []Delta {
	var out []Delta
	for _, d := range c.Deltas {
		if d.worsePct() > pct {
			out = append(out, d)
		}
	}
	return out
}

// Describe writes a delta for a person: "latency p99 12.0ms -> 14.1ms (+17.5%, worse)".
func (d Delta) Describe() string {
	return fmt.Sprintf("%s %s -> %s (%s, %s)", d.Metric, d.format(d.Baseline), d.format(d.Current), d.change(), d.Verdict)
}

// format writes one of the delta's values in its unit.
func (d Delta) format(v float64) string {
	switch d.Unit {
	case UnitPerSecond:
		return groupFloat(v) + "/s"
	case UnitDuration:
		return formatLatency(time.Duration(math.Round(v)))
	case UnitPerCommand:
		return formatLatency(time.Duration(math.Round(v))) + "/command"
	default:
		return groupInt(int64(math.Round(v)))
	}
}

// change writes the relative change, "+17.5%", or "from 0" without one.
func (d Delta) change() string {
	if d.ChangePct == nil {
		if d.Current == d.Baseline {
			return "0.0%"
		}
		return "from 0"
	}
	return fmt.Sprintf("%+.1f%%", *d.ChangePct)
}
