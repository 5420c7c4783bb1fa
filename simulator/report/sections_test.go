package report

import (
	"bytes"
	"maps"
	"strings"
	"testing"
	"time"
)

// The per-type latencies add up to the whole run and tell the slow type
// from the others; the most frequent type comes first.
func TestLatencyByTypeAddsUpAndTellsTheTypesApart(t *testing.T) {
	s := sampleRun(t, "by type")
	if len(s.LatencyByType) != len(sampleTypes) {
		t.Fatalf("%d types, want %d: %+v", len(s.LatencyByType), len(sampleTypes), s.LatencyByType)
	}
	var n int64
	byType := map[string]TypeLatency{}
	for i, l := range s.LatencyByType {
		n += l.Count
		byType[l.Type] = l
		if !(l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) {
			t.Errorf("%s: p50 %v p95 %v p99 %v max %v out of order", l.Type, l.P50, l.P95, l.P99, l.Max)
		}
		if i > 0 && (l.Count > s.LatencyByType[i-1].Count ||
			l.Count == s.LatencyByType[i-1].Count && l.Type < s.LatencyByType[i-1].Type) {
			t.Errorf("type %s out of order after %s", l.Type, s.LatencyByType[i-1].Type)
		}
	}
	if n != s.Completed {
		t.Errorf("per-type counts add up to %d, %d completed", n, s.Completed)
	}
	cancel, order := byType["subscription.cancel"], byType["order.placed"]
	if ratio := float64(cancel.P50) / float64(order.P50); ratio < 1.8 || ratio > 2.2 {
		t.Errorf("cancellations' p50 %v is %.2f times the orders' %v, want about 2", cancel.P50, ratio, order.P50)
	}
	if order.Max != 900*time.Millisecond {
		t.Errorf("orders' max %v, want the 900ms outlier exactly", order.Max)
	}
}

// Each stage holds its share of the way, the whole way comes last, and a
// PubAck handled after the commit, or an event without a commit time, is
// counted as such.
func TestStagesSplitEachCommandsWay(t *testing.T) {
	s := sampleRun(t, "stages")
	want := []string{StagePublishedStored, StageStoredCommitted, StageCommittedReceived, StagePublishedReceived}
	if len(s.Stages) != len(want) {
		t.Fatalf("stages %+v", s.Stages)
	}
	for i, st := range s.Stages {
		if st.Stage != want[i] {
			t.Errorf("stage %d is %q, want %q", i, st.Stage, want[i])
		}
	}
	whole := s.Stages[3]
	if whole.Count != s.Completed || whole.P50 != s.LatencyP50 || whole.Max != s.LatencyMax {
		t.Errorf("whole way %+v, want the run's %d commands, p50 %v, max %v", whole, s.Completed, s.LatencyP50, s.LatencyMax)
	}
	if s.StagesWithoutCommit != 28 || s.Stages[1].Count != s.Completed-28 || s.Stages[2].Count != s.Completed-28 {
		t.Errorf("%d without a commit time, stages through committed count %d and %d, want 28 and %d",
			s.StagesWithoutCommit, s.Stages[1].Count, s.Stages[2].Count, s.Completed-28)
	}
	if s.Stages[1].Negative == 0 || s.Stages[0].Negative != 0 || s.Stages[2].Negative != 0 {
		t.Errorf("negatives %d %d %d, want only stored → committed's (the late PubAcks)", s.Stages[0].Negative, s.Stages[1].Negative, s.Stages[2].Negative)
	}
	// A tenth, a half and four tenths of each command's latency.
	for i, share := range []float64{0.1, 0.5, 0.4} {
		got, wantP50 := s.Stages[i].P50, time.Duration(share*float64(whole.P50))
		if !within(got, wantP50, 0.03) {
			t.Errorf("%s p50 %v, want about %v", s.Stages[i].Stage, got, wantP50)
		}
	}
}

// Charges and credits per simulated day add up to the run's totals.
func TestBillingByDayAddsUpToTheTotals(t *testing.T) {
	s := sampleRun(t, "days")
	if len(s.BillingByDay) != 57 { // 60 s, one simulated day each, 3 of them paused
		t.Fatalf("%d days, want 57", len(s.BillingByDay))
	}
	for i, d := range s.BillingByDay[1:] {
		if d.Day <= s.BillingByDay[i].Day {
			t.Errorf("day %s after %s", d.Day, s.BillingByDay[i].Day)
		}
	}
	if s.BillingByDay[0].Day != "2026-01-01" || s.BillingByDay[0].Charges != 20 || s.BillingByDay[0].ChargedMinor["USD"] != 10*72000 {
		t.Errorf("first day %+v, want 2026-01-01 with 20 charges, USD 7,200.00 of them", s.BillingByDay[0])
	}
	sum := s.DayTotals()
	if sum.Charges != s.Charges || sum.Credits != s.Credits || !maps.Equal(sum.ChargedMinor, s.ChargedMinor) ||
		!maps.Equal(sum.CreditedMinor, s.CreditedMinor) {
		t.Errorf("days add up to %+v; the run has %d charges %v, %d credits %v", sum, s.Charges, s.ChargedMinor, s.Credits, s.CreditedMinor)
	}
}

// The resource series sum their samples: CPU time, mean and peak cores,
// peak and last resident memory.
func TestResourcesSummariseTheirSamples(t *testing.T) {
	s := sampleRun(t, "resources")
	if len(s.Resources) != 2 || s.Resources[0].Name != "processor" || s.Resources[1].Name != "Redis" {
		t.Fatalf("resources %+v, want processor then Redis", s.Resources)
	}
	p, r := s.Resources[0], s.Resources[1]
	if len(p.Samples) != 60 || p.Span != time.Minute || p.CPU != 58*250*time.Millisecond+2*900*time.Millisecond {
		t.Errorf("processor: %d samples over %v, CPU %v", len(p.Samples), p.Span, p.CPU)
	}
	if p.CoresPeak != 0.9 || p.CoresMean < 0.2716 || p.CoresMean > 0.2717 {
		t.Errorf("processor cores mean %v peak %v, want 0.2717 and 0.9", p.CoresMean, p.CoresPeak)
	}
	if r.RSSPeak != 90<<20 || r.RSSLast != 90<<20 || r.Samples[0].RSS != 31<<20 || r.Samples[0].At != time.Second {
		t.Errorf("Redis memory peak %d last %d first sample %+v", r.RSSPeak, r.RSSLast, r.Samples[0])
	}
}

// The terminal report carries the new tables; the HTML the days too.
func TestReportsShowTypesStagesResourcesAndDays(t *testing.T) {
	s := sampleRun(t, "sections")
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := s.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"latency p95", "Latency by command type", "subscription.quantity.change", "7,125",
		"Latency by stage", StagePublishedStored, StageCommittedReceived, "28 commands", "first event carried no commit time",
		"Resources (CPU and memory sampled every 1s)", "processor", "0.27", "0.90", "90.0 MiB",
		"simulated days with billing", "57 (most on 2026-01-01",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
		if !strings.Contains(page.String(), want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	for _, want := range []string{"Charges and credits per simulated day", "<td>2026-02-26</td>", "USD 7,200.00",
		"CPU per second (cores)", "Resident memory (MiB)"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
	if strings.Contains(text.String(), "2026-02-26") {
		t.Error("the terminal report lists the days (HTML and JSON only)")
	}
}
