package report

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// slower is the sample run made worse: 10% less throughput, a 20% higher
// p99 overall and for cancellations, one more mismatch and the processor
// using 30% more CPU; everything else as it was.
func slower(t *testing.T) (base, cur Summary) {
	base = sampleRun(t, "baseline")
	cur = sampleRun(t, "after a change")
	cur.Throughput *= 0.9
	cur.LatencyP99 = cur.LatencyP99 * 12 / 10
	for i := range cur.LatencyByType {
		if cur.LatencyByType[i].Type == "subscription.cancel" {
			cur.LatencyByType[i].P99 = cur.LatencyByType[i].P99 * 12 / 10
		}
	}
	cur.Mismatches++
	cur.Resources = append([]ResourceSeries(nil), cur.Resources...)
	cur.Resources[0].CPU = cur.Resources[0].CPU * 13 / 10
	return base, cur
}

func deltaOf(t *testing.T, c *Comparison, metric string) Delta {
	t.Helper()
	for _, d := range c.Deltas {
		if d.Metric == metric {
			return d
		}
	}
	t.Fatalf("no delta %q in %+v", metric, c.Deltas)
	return Delta{}
}

// Every compared metric gets the right direction and verdict; only a
// change beyond the threshold is a regression.
func TestBaselineComparisonMarksBetterAndWorse(t *testing.T) {
	base, cur := slower(t)
	c := Compare(base, cur, "base.json")
	for _, w := range []struct {
		metric, verdict string
		pct             float64
	}{
		{"throughput", Worse, -10},
		{"latency p50", Same, 0},
		{"latency p99", Worse, 20},
		{"latency p99 subscription.cancel", Worse, 20},
		{"latency p99 order.placed", Same, 0},
		{"ledger mismatches", Worse, 50},
		{"CPU per command: processor", Worse, 30},
		{"CPU per command: Redis", Same, 0},
		{"CPU per command: all sampled processes", Worse, 100 * 0.3 * 16.3 / (16.3 + 6)},
	} {
		d := deltaOf(t, c, w.metric)
		if d.Verdict != w.verdict || d.ChangePct == nil || *d.ChangePct-w.pct > 0.5 || w.pct-*d.ChangePct > 0.5 {
			t.Errorf("%s: %s %v%%, want %s %.1f%%", w.metric, d.Verdict, d.ChangePct, w.verdict, w.pct)
		}
	}
	// The same run set against itself: all the same, nothing regressed.
	for _, d := range Compare(base, base, "base.json").Deltas {
		if d.Verdict != Same {
			t.Errorf("a run against itself: %s", d.Describe())
		}
	}
	names := func(ds []Delta) string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Metric)
		}
		return strings.Join(out, ", ")
	}
	if got := names(c.Regressions(25)); got != "ledger mismatches, CPU per command: processor" {
		t.Errorf("regressions beyond 25%%: %s", got)
	}
	if got := names(c.Regressions(5)); !strings.Contains(got, "throughput") || !strings.Contains(got, "latency p99 subscription.cancel") {
		t.Errorf("regressions beyond 5%%: %s", got)
	}
	if got := c.Regressions(60); len(got) != 0 {
		t.Errorf("regressions beyond 60%%: %s", names(got))
	}
	// A first mismatch is worse than none by any threshold.
	base.Mismatches, cur.Mismatches = 0, 1
	if d := deltaOf(t, Compare(base, cur, "b"), "ledger mismatches"); d.Verdict != Worse || d.ChangePct != nil || d.change() != "from 0" {
		t.Errorf("0 -> 1 mismatches: %+v", d)
	}
	if got := names(Compare(base, cur, "b").Regressions(1000)); got != "ledger mismatches" {
		t.Errorf("regressions beyond 1000%%: %s", got)
	}
}

// A type with too few commands in either run, or a process sampled in one
// run only, is not compared, and the comparison says so.
func TestBaselineLeavesOutWhatCannotBeCompared(t *testing.T) {
	base, cur := slower(t)
	cur.LatencyByType = append(cur.LatencyByType, TypeLatency{Type: "transfer.submit", Count: 5000, P99: time.Second})
	base.LatencyByType[0].Count = MinTypeCount - 1
	cur.Resources = append(cur.Resources, ResourceSeries{Name: "NATS", CPU: time.Second})
	c := Compare(base, cur, "b")
	for _, d := range c.Deltas {
		if strings.Contains(d.Metric, "transfer.submit") || strings.Contains(d.Metric, base.LatencyByType[0].Type) || strings.HasSuffix(d.Metric, "NATS") {
			t.Errorf("compared %s", d.Metric)
		}
	}
	got := strings.Join(c.NotCompared, "; ")
	for _, want := range []string{"2 command types with fewer than 100 commands in either run", "CPU of NATS: not sampled in the baseline"} {
		if !strings.Contains(got, want) {
			t.Errorf("not compared %q lacks %q", got, want)
		}
	}
	// An old baseline without resource samples.
	base.Resources = nil
	if c := Compare(base, cur, "b"); !strings.Contains(strings.Join(c.NotCompared, ";"), "CPU: a run has no resource samples") {
		t.Errorf("not compared %v", c.NotCompared)
	}
}

// The comparison is in the terminal report (worse in capitals), in the
// HTML (rows coloured by verdict) and in the JSON, which reads back.
func TestBaselineComparisonIsInEveryReport(t *testing.T) {
	base, cur := slower(t)
	cur.Baseline = Compare(base, cur, "sim-base.json")
	var text strings.Builder
	if err := cur.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Compared with the baseline sim-base.json (baseline, 2026-11-21 09:00:00.000 UTC)",
		"throughput", "-10.0%", "WORSE", "same"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	var page bytes.Buffer
	if err := cur.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.String(), `<tr class="worse"><td>throughput</td>`) {
		t.Error("HTML: the throughput row is not marked worse")
	}
	var js bytes.Buffer
	if err := cur.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"baseline": {`) || !strings.Contains(js.String(), `"verdict": "worse"`) {
		t.Error("JSON lacks the comparison")
	}
	back, err := ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Baseline, cur.Baseline) {
		t.Errorf("comparison changed on the round trip:\n got %+v\nwant %+v", back.Baseline, cur.Baseline)
	}
}
