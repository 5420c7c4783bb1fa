package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/cspreseller/csp-processor/simulator/footprint"
)

// The targets make bench reports as met or MISSED. They are measured, not
// asserted: the run exits 0 when one is missed.
const (
	targetDrainCPUPerCommand = 60 * time.Microsecond
	targetEndToEndOfRaw      = 0.70
	targetP99AtHalf          = 10 * time.Millisecond
	targetRedisPerSub        = 1024 // bytes of the processor's keys (MEMORY USAGE) per live subscription
	targetYearOldOfNew       = 0.95
)

// benchResults is one make bench run, written as JSON (-json) so runs can
// be compared. Durations are in nanoseconds, rates per second.
type benchResults struct {
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	// Raw is (a), the raw pipeline; Drain (b); EndToEnd (c); HalfLoad the
	// open-loop run at half of (c)'s throughput; YearNew and YearOld (d):
	// the same load on new customers and on customers with a year of
	// history.
	Raw      rawPhase   `json:"raw_pipeline"`
	Drain    drainPhase `json:"drain"`
	EndToEnd loadPhase  `json:"end_to_end"`
	HalfLoad loadPhase  `json:"half_load"`
	YearNew  loadPhase  `json:"year_new_customers"`
	YearOld  yearPhase  `json:"year_old_customers"`
	Ratios   benchRatio `json:"ratios"`
	Targets  []target   `json:"targets"`
	// Mismatches are the ledger's over every checked phase; any fails
	// the run.
	Mismatches int64 `json:"mismatches"`
}

type rawPhase struct {
	Commands         int           `json:"commands"`
	EventsPerCommand float64       `json:"events_per_command"`
	CommandBytes     int           `json:"command_bytes"`
	EventBytes       int           `json:"event_bytes"`
	StateBytes       int           `json:"state_bytes"`
	Partitions       int           `json:"partitions"`
	Elapsed          time.Duration `json:"elapsed_ns"`
	Throughput       float64       `json:"throughput_per_s"`
}

type drainPhase struct {
	Customers int `json:"customers"`
	// Stored commands in the backlog, Answered those of them that got an
	// event once the processor had acked every command.
	Stored   int           `json:"stored"`
	Answered int           `json:"answered"`
	Elapsed  time.Duration `json:"elapsed_ns"` // processor start .. every command acked
	// ProcessorCPU is the processor's CPU over the drain less what it
	// used to start (measured on a start with nothing to do).
	ProcessorCPU  time.Duration    `json:"processor_cpu_ns"`
	StartupCPU    time.Duration    `json:"startup_cpu_ns"`
	CPUPerCommand time.Duration    `json:"cpu_per_command_ns"`
	Throughput    float64          `json:"throughput_per_s"`
	Kinds         map[string]int64 `json:"kinds"`
}

type loadPhase struct {
	Customers   int           `json:"customers"`
	OfferedRate float64       `json:"offered_per_s"`
	Duration    time.Duration `json:"duration_ns"`
	Completed   int64         `json:"completed"`
	Throughput  float64       `json:"throughput_per_s"`
	P50         time.Duration `json:"p50_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	Mismatches  int64         `json:"mismatches"`
	// MismatchTexts say what the ledger found (the first ones).
	MismatchTexts []string `json:"mismatch_texts,omitempty"`
	// Machine says how busy the machine was and what the hypervisor stole.
	Machine string `json:"machine,omitempty"`
}

type yearPhase struct {
	loadPhase
	Days         int           `json:"days"`
	Step         time.Duration `json:"step_ns"`
	YearCommands int64         `json:"year_commands"`
	YearElapsed  time.Duration `json:"year_elapsed_ns"`
	LiveSubs     int64         `json:"live_subscriptions"`
	RedisBytes   int64         `json:"redis_used_memory_bytes"`
	// RedisPerSub is the processor's keys' bytes (Redis.KeyBytes) per live
	// subscription; Redis splits them by kind of key.
	RedisPerSub    int64               `json:"redis_bytes_per_subscription"`
	Redis          footprint.Footprint `json:"redis_footprint"`
	YearMismatches int64               `json:"year_mismatches"`
}

// benchRatio holds the ratios to the raw pipeline, and (d)'s year-old
// customers' throughput over new ones'.
type benchRatio struct {
	DrainOfRaw    float64 `json:"drain_of_raw"`
	EndToEndOfRaw float64 `json:"end_to_end_of_raw"`
	YearOldOfNew  float64 `json:"year_old_of_new"`
	YearOldOfEnd  float64 `json:"year_old_of_end_to_end"`
}

// target is one target with its measured value.
type target struct {
	Name     string  `json:"name"`
	Want     string  `json:"want"`
	Measured string  `json:"measured"`
	Value    float64 `json:"value"`
	Met      bool    `json:"met"`
}

// ratio is a/b, 0 when b is not positive (a phase that measured nothing).
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

// evaluate fills the ratios and the targets from the phases' results.
func (r *benchResults) evaluate() {
	r.Ratios = benchRatio{
		DrainOfRaw:    ratio(r.Drain.Throughput, r.Raw.Throughput),
		EndToEndOfRaw: ratio(r.EndToEnd.Throughput, r.Raw.Throughput),
		YearOldOfNew:  ratio(r.YearOld.Throughput, r.YearNew.Throughput),
		YearOldOfEnd:  ratio(r.YearOld.Throughput, r.EndToEnd.Throughput),
	}
	cpu := r.Drain.CPUPerCommand
	p99 := r.HalfLoad.P99
	r.Targets = []target{
		{Name: "drain_cpu_per_command", Want: "processor CPU ≤ 60 µs per command (drain)",
			Measured: fmt.Sprintf("%.1f µs", micros(cpu)), Value: micros(cpu),
			Met: r.Drain.Answered > 0 && cpu <= targetDrainCPUPerCommand},
		{Name: "end_to_end_of_raw", Want: "end to end ≥ 70 % of the raw pipeline",
			Measured: fmt.Sprintf("%.1f %%", 100*r.Ratios.EndToEndOfRaw), Value: r.Ratios.EndToEndOfRaw,
			Met: r.Ratios.EndToEndOfRaw >= targetEndToEndOfRaw},
		{Name: "p99_at_half_capacity", Want: fmt.Sprintf("p99 ≤ 10 ms at half the end-to-end capacity (%.0f/s)", r.HalfLoad.OfferedRate),
			Measured: fmt.Sprintf("%.1f ms", millis(p99)), Value: millis(p99),
			Met: r.HalfLoad.Completed > 0 && p99 <= targetP99AtHalf},
		{Name: "redis_bytes_per_subscription", Want: "Redis ≤ 1 KiB per active subscription (after the year)",
			Measured: fmt.Sprintf("%d bytes", r.YearOld.RedisPerSub), Value: float64(r.YearOld.RedisPerSub),
			Met: r.YearOld.LiveSubs > 0 && r.YearOld.RedisPerSub <= targetRedisPerSub},
		{Name: "year_old_of_new", Want: "year-old customers within 5 % of new customers' throughput",
			Measured: fmt.Sprintf("%.1f %%", 100*r.Ratios.YearOldOfNew), Value: r.Ratios.YearOldOfNew,
			Met: r.Ratios.YearOldOfNew >= targetYearOldOfNew},
	}
	r.Mismatches = r.EndToEnd.Mismatches + r.HalfLoad.Mismatches + r.YearNew.Mismatches + r.YearOld.Mismatches + r.YearOld.YearMismatches
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

func millis(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// writeText prints the summary of the run.
func (r *benchResults) writeText(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("\n================ make bench ================")
	p("(a) raw pipeline:        %8.0f commands/s  (%d commands: publish with Nats-Msg-Id, pull consume, one commit script, %.2f event publishes of %d bytes with PubAcks, ack; no rules)",
		r.Raw.Throughput, r.Raw.Commands, r.Raw.EventsPerCommand, r.Raw.EventBytes)
	p("(b) drain:               %8.0f commands/s  (%d stored, %d applied in %s; processor CPU %.1f µs per command)",
		r.Drain.Throughput, r.Drain.Stored, r.Drain.Answered, r.Drain.Elapsed.Round(time.Millisecond), micros(r.Drain.CPUPerCommand))
	p("(c) end to end:          %8.0f commands/s  (offered %.0f/s over %d customers; p50 %.1f ms, p99 %.1f ms; %d mismatches)",
		r.EndToEnd.Throughput, r.EndToEnd.OfferedRate, r.EndToEnd.Customers, millis(r.EndToEnd.P50), millis(r.EndToEnd.P99), r.EndToEnd.Mismatches)
	p("    at half of (c):      %8.0f commands/s  (offered %.0f/s; p50 %.1f ms, p99 %.1f ms, max %.1f ms)",
		r.HalfLoad.Throughput, r.HalfLoad.OfferedRate, millis(r.HalfLoad.P50), millis(r.HalfLoad.P99), millis(r.HalfLoad.Max))
	p("(d) new customers:       %8.0f commands/s  (%d customers, offered %.0f/s)", r.YearNew.Throughput, r.YearNew.Customers, r.YearNew.OfferedRate)
	p("    year-old customers:  %8.0f commands/s  (the same %d customers after %d days of %s steps: %d commands in %s; %d live subscriptions, Redis %d bytes each, hot state %d bytes per customer, %d archived entities)",
		r.YearOld.Throughput, r.YearOld.Customers, r.YearOld.Days, r.YearOld.Step, r.YearOld.YearCommands, r.YearOld.YearElapsed.Round(time.Second),
		r.YearOld.LiveSubs, r.YearOld.RedisPerSub, r.YearOld.Redis.HotStatePerCustomer(), r.YearOld.Redis.Archived)
	p("ratios: (b)/(a) %.1f %%   (c)/(a) %.1f %%   (d) year-old/new %.1f %%   year-old/(c) %.1f %%",
		100*r.Ratios.DrainOfRaw, 100*r.Ratios.EndToEndOfRaw, 100*r.Ratios.YearOldOfNew, 100*r.Ratios.YearOldOfEnd)
	p("targets:")
	for _, t := range r.Targets {
		mark := "met   "
		if !t.Met {
			mark = "MISSED"
		}
		p("  %s %s: %s", mark, t.Want, t.Measured)
	}
	for _, l := range []loadPhase{r.EndToEnd, r.HalfLoad, r.YearNew, r.YearOld.loadPhase} {
		for _, m := range l.MismatchTexts {
			p("  MISMATCH at %.0f/s over %d customers: %s", l.OfferedRate, l.Customers, m)
		}
		if l.Machine != "" {
			p("  machine at %.0f/s over %d customers: %s", l.OfferedRate, l.Customers, l.Machine)
		}
	}
}

// writeJSON writes the results, indented.
func (r *benchResults) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
