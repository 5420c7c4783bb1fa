package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sampleResults is a run whose every target is met except the ones a
// test breaks.
func sampleResults() *benchResults {
	return &benchResults{
		Raw:      rawPhase{Commands: 1000, Throughput: 4000},
		Drain:    drainPhase{Stored: 1000, Answered: 1000, Throughput: 3000, CPUPerCommand: 55 * time.Microsecond},
		EndToEnd: loadPhase{Completed: 900, Throughput: 3000},
		HalfLoad: loadPhase{Completed: 400, OfferedRate: 1500, P99: 9 * time.Millisecond},
		YearNew:  loadPhase{Completed: 500, Throughput: 1000},
		YearOld: yearPhase{loadPhase: loadPhase{Completed: 480, Throughput: 960},
			LiveSubs: 100, RedisBytes: 100 * 1000, RedisPerSub: 1000},
	}
}

func targetsByName(r *benchResults) map[string]target {
	m := map[string]target{}
	for _, t := range r.Targets {
		m[t.Name] = t
	}
	return m
}

func TestEvaluateRatiosAndTargetsMet(t *testing.T) {
	r := sampleResults()
	r.evaluate()
	if r.Ratios.DrainOfRaw != 0.75 || r.Ratios.EndToEndOfRaw != 0.75 || r.Ratios.YearOldOfNew != 0.96 || r.Ratios.YearOldOfEnd != 0.32 {
		t.Errorf("ratios %+v, want 0.75, 0.75, 0.96, 0.32", r.Ratios)
	}
	if len(r.Targets) != 5 {
		t.Fatalf("%d targets, want 5", len(r.Targets))
	}
	for _, tg := range r.Targets {
		if !tg.Met {
			t.Errorf("target %s (%s) missed with %s", tg.Name, tg.Want, tg.Measured)
		}
	}
	m := targetsByName(r)
	if got := m["drain_cpu_per_command"]; got.Value != 55 || got.Measured != "55.0 µs" {
		t.Errorf("drain target %+v, want 55 µs", got)
	}
	if got := m["p99_at_half_capacity"]; got.Value != 9 {
		t.Errorf("p99 target %+v, want 9 ms", got)
	}
}

// Each target is missed just past its limit, and when its phase measured
// nothing (no commands: no evidence that it is met).
func TestEvaluateTargetsMissedPastTheirLimits(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(*benchResults)
	}{
		{"drain_cpu_per_command", func(r *benchResults) { r.Drain.CPUPerCommand = 60*time.Microsecond + 1 }},
		{"drain_cpu_per_command", func(r *benchResults) { r.Drain.Answered, r.Drain.CPUPerCommand = 0, 0 }},
		{"end_to_end_of_raw", func(r *benchResults) { r.EndToEnd.Throughput = 2799 }},
		{"end_to_end_of_raw", func(r *benchResults) { r.Raw.Throughput = 0 }},
		{"p99_at_half_capacity", func(r *benchResults) { r.HalfLoad.P99 = 10*time.Millisecond + 1 }},
		{"p99_at_half_capacity", func(r *benchResults) { r.HalfLoad.Completed, r.HalfLoad.P99 = 0, 0 }},
		{"redis_bytes_per_subscription", func(r *benchResults) { r.YearOld.RedisPerSub = 1025 }},
		{"redis_bytes_per_subscription", func(r *benchResults) { r.YearOld.LiveSubs, r.YearOld.RedisPerSub = 0, 0 }},
		{"year_old_of_new", func(r *benchResults) { r.YearOld.Throughput = 949 }},
	}
	for _, c := range cases {
		r := sampleResults()
		c.breakIt(r)
		r.evaluate()
		for _, tg := range r.Targets {
			if want := tg.Name != c.name; tg.Met != want {
				t.Errorf("breaking %s: target %s met=%v (%s)", c.name, tg.Name, tg.Met, tg.Measured)
			}
		}
	}
	// The limits themselves are met.
	r := sampleResults()
	r.Drain.CPUPerCommand, r.EndToEnd.Throughput, r.HalfLoad.P99 = 60*time.Microsecond, 2800, 10*time.Millisecond
	r.YearOld.RedisPerSub, r.YearOld.Throughput = 1024, 950
	r.evaluate()
	for _, tg := range r.Targets {
		if !tg.Met {
			t.Errorf("at its limit, target %s missed with %s", tg.Name, tg.Measured)
		}
	}
}

func TestEvaluateAddsEveryPhasesMismatches(t *testing.T) {
	r := sampleResults()
	r.EndToEnd.Mismatches, r.HalfLoad.Mismatches, r.YearNew.Mismatches, r.YearOld.Mismatches, r.YearOld.YearMismatches = 1, 2, 4, 8, 16
	r.evaluate()
	if r.Mismatches != 31 {
		t.Errorf("mismatches %d, want 31", r.Mismatches)
	}
}

func TestRatioOfNothingIsZero(t *testing.T) {
	if ratio(5, 0) != 0 || ratio(5, -1) != 0 || ratio(1, 4) != 0.25 {
		t.Errorf("ratio(5,0)=%v ratio(5,-1)=%v ratio(1,4)=%v", ratio(5, 0), ratio(5, -1), ratio(1, 4))
	}
}

// The JSON carries every phase, the ratios and the targets under stable
// names, with durations in nanoseconds, and reads back the same.
func TestBenchResultsJSON(t *testing.T) {
	r := sampleResults()
	r.Start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r.evaluate()
	var buf bytes.Buffer
	if err := r.writeJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"start", "raw_pipeline", "drain", "end_to_end", "half_load", "year_new_customers", "year_old_customers", "ratios", "targets", "mismatches"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %s", k, buf.String())
		}
	}
	drain := raw["drain"].(map[string]any)
	if drain["cpu_per_command_ns"] != float64(55000) || drain["answered"] != float64(1000) {
		t.Errorf("drain %v", drain)
	}
	year := raw["year_old_customers"].(map[string]any)
	if year["throughput_per_s"] != float64(960) || year["redis_bytes_per_subscription"] != float64(1000) {
		t.Errorf("year-old phase %v: the embedded load's fields belong at its level", year)
	}
	var back benchResults
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Drain.CPUPerCommand != r.Drain.CPUPerCommand || back.Ratios != r.Ratios || len(back.Targets) != 5 || back.Targets[0] != r.Targets[0] {
		t.Errorf("read back %+v, want %+v", back, r)
	}
}

func TestWriteTextMarksMissedTargets(t *testing.T) {
	r := sampleResults()
	r.YearOld.RedisPerSub = 5000
	r.evaluate()
	var buf bytes.Buffer
	r.writeText(&buf)
	out := buf.String()
	if !strings.Contains(out, "MISSED Redis ≤ 1 KiB per active subscription (after the year): 5000 bytes") ||
		!strings.Contains(out, "met    end to end ≥ 70 % of the raw pipeline: 75.0 %") ||
		!strings.Contains(out, "(b)/(a) 75.0 %") {
		t.Errorf("text:\n%s", out)
	}
}
