package report

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPercentilesOfKnownInputs(t *testing.T) {
	r := NewRecorder(t0)
	var sum time.Duration
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i) * time.Microsecond
		sum += d
		r.Sent(t0)
		r.Completed(t0.Add(time.Millisecond), "order.placed", d)
	}
	s := r.Summary("known", t0.Add(2*time.Second))
	// HDR with 3 significant figures: every value within 0.1%.
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"p50", s.LatencyP50, 5 * time.Millisecond},
		{"p90", s.LatencyP90, 9 * time.Millisecond},
		{"p99", s.LatencyP99, 9900 * time.Microsecond},
		{"p99.9", s.LatencyP999, 9990 * time.Microsecond},
	} {
		if !within(c.got, c.want, 0.001) {
			t.Errorf("%s = %v, want %v ±0.1%%", c.name, c.got, c.want)
		}
	}
	if s.LatencyMax != 10*time.Millisecond {
		t.Errorf("max = %v, want exactly 10ms", s.LatencyMax)
	}
	if want := sum / 10000; s.LatencyMean != want {
		t.Errorf("mean = %v, want exactly %v", s.LatencyMean, want)
	}
	if s.Sent != 10000 || s.Completed != 10000 {
		t.Errorf("sent/completed = %d/%d, want 10000/10000", s.Sent, s.Completed)
	}
	if s.Throughput != 5000 {
		t.Errorf("throughput = %v, want 5000 (10000 over 2s)", s.Throughput)
	}
	// The distribution curve rises from the minimum to the 99.99th percentile.
	if len(s.Percentiles) != 81 {
		t.Fatalf("%d percentile points, want 81", len(s.Percentiles))
	}
	first, last := s.Percentiles[0], s.Percentiles[len(s.Percentiles)-1]
	if first.Percentile != 0 || first.Latency != time.Microsecond {
		t.Errorf("first point = %+v, want 0th percentile at 1µs", first)
	}
	if !within(time.Duration(last.Percentile*1e6), time.Duration(99.99*1e6), 1e-9) || !within(last.Latency, 9999*time.Microsecond, 0.001) {
		t.Errorf("last point = %+v, want 99.99th percentile ≈ 9.999ms", last)
	}
	for i := 1; i < len(s.Percentiles); i++ {
		if s.Percentiles[i].Latency < s.Percentiles[i-1].Latency {
			t.Fatalf("percentile curve falls at %d: %+v after %+v", i, s.Percentiles[i], s.Percentiles[i-1])
		}
	}
}

func TestPercentileNeverAboveExactMax(t *testing.T) {
	r := NewRecorder(t0)
	r.Completed(t0, "order.placed", 10007*time.Microsecond+300)
	s := r.Summary("one", t0.Add(time.Second))
	if s.LatencyP50 > s.LatencyMax || s.LatencyP999 > s.LatencyMax {
		t.Errorf("p50 %v / p99.9 %v above max %v", s.LatencyP50, s.LatencyP999, s.LatencyMax)
	}
}

func TestLatenciesOutsideTheHistogramRangeAreClampedNotLost(t *testing.T) {
	r := NewRecorder(t0)
	r.Completed(t0, "order.placed", 200*time.Nanosecond)
	r.Completed(t0, "order.placed", 5*time.Minute)
	s := r.Summary("range", t0.Add(time.Second))
	if s.Completed != 2 || s.LatencyMax != 5*time.Minute {
		t.Errorf("completed %d max %v, want 2 and 5m0s", s.Completed, s.LatencyMax)
	}
	if !within(s.LatencyP99, 120*time.Second, 0.001) {
		t.Errorf("p99 = %v, want the clamp 2m0s", s.LatencyP99)
	}
}

func TestEmptyRecorder(t *testing.T) {
	s := NewRecorder(t0).Summary("empty", t0)
	if s.Sent != 0 || s.LatencyP50 != 0 || s.LatencyMean != 0 || s.Throughput != 0 || len(s.Series) != 0 || s.Percentiles != nil {
		t.Errorf("empty summary not empty: %+v", s)
	}
	for name, write := range map[string]func(*strings.Builder) error{
		"text": func(b *strings.Builder) error { return s.WriteText(b) },
		"html": func(b *strings.Builder) error { return s.WriteHTML(b) },
		"json": func(b *strings.Builder) error { return s.WriteJSON(b) },
	} {
		var b strings.Builder
		if err := write(&b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRejectionsByCode(t *testing.T) {
	r := NewRecorder(t0)
	for i := 0; i < 7; i++ {
		r.Rejected("QTY_BELOW_MINIMUM")
	}
	r.Rejected("SUBSCRIPTION_NOT_FOUND")
	r.Rejected("SUBSCRIPTION_NOT_FOUND")
	s := r.Summary("rej", t0.Add(time.Second))
	want := map[string]int64{"QTY_BELOW_MINIMUM": 7, "SUBSCRIPTION_NOT_FOUND": 2}
	if fmt.Sprint(s.Rejections) != fmt.Sprint(want) {
		t.Errorf("rejections = %v, want %v", s.Rejections, want)
	}
	// The summary is a copy: later recording does not change it.
	r.Rejected("QTY_BELOW_MINIMUM")
	if s.Rejections["QTY_BELOW_MINIMUM"] != 7 {
		t.Error("summary shares its rejection map with the recorder")
	}
}

func TestBillingByKindAndCurrency(t *testing.T) {
	r := NewRecorder(t0)
	r.Billing("charge", "USD", 72000, t0)
	r.Billing("charge", "USD", 1, t0)
	r.Billing("charge", "JPY", 1500, t0)
	r.Billing("credit", "USD", 71803, t0)
	r.Billing("refund", "USD", 5, t0)
	s := r.Summary("bill", t0.Add(time.Second))
	if s.Charges != 3 || s.Credits != 1 {
		t.Errorf("charges/credits = %d/%d, want 3/1", s.Charges, s.Credits)
	}
	if s.ChargedMinor["USD"] != 72001 || s.ChargedMinor["JPY"] != 1500 || s.CreditedMinor["USD"] != 71803 {
		t.Errorf("amounts: charged %v credited %v", s.ChargedMinor, s.CreditedMinor)
	}
	if len(s.Notes) != 1 || !strings.Contains(s.Notes[0], `"refund"`) {
		t.Errorf("unknown billing kind not reported in notes: %q", s.Notes)
	}
}

func TestMismatchCountExactTextsCapped(t *testing.T) {
	r := NewRecorder(t0)
	for i := 0; i < 250; i++ {
		r.Mismatch(fmt.Sprintf("mismatch %d", i))
	}
	s := r.Summary("mm", t0.Add(time.Second))
	if s.Mismatches != 250 {
		t.Errorf("mismatches = %d, want 250", s.Mismatches)
	}
	if len(s.MismatchTexts) != 100 || s.MismatchTexts[0] != "mismatch 0" || s.MismatchTexts[99] != "mismatch 99" {
		t.Errorf("kept %d texts (%q .. ), want the first 100", len(s.MismatchTexts), s.MismatchTexts[0])
	}
}
