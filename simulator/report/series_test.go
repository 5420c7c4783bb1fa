package report

import (
	"testing"
	"time"
)

func TestSeriesBucketsBySecond(t *testing.T) {
	r := NewRecorder(t0)
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	r.Sent(sec(0.1))
	r.Sent(sec(0.999))
	r.Sent(sec(1.0))
	r.Sent(sec(-3)) // before the start: first second
	// Sent at 1.0, completed at 2.2: counts as completed in second 2.
	r.Completed(sec(2.2), "order.placed", 1200*time.Millisecond)
	r.Completed(sec(0.5), "order.placed", 4*time.Millisecond)
	r.Completed(sec(0.6), "order.placed", 2*time.Millisecond)

	s := r.Summary("series", sec(4.5))
	if len(s.Series) != 5 {
		t.Fatalf("%d samples, want 5 (4.5 s rounds up)", len(s.Series))
	}
	want := []struct {
		sent, completed int64
		max             time.Duration
	}{
		{3, 2, 4 * time.Millisecond},
		{1, 0, 0},
		{0, 1, 1200 * time.Millisecond},
		{0, 0, 0},
		{0, 0, 0},
	}
	for i, w := range want {
		g := s.Series[i]
		if g.At != time.Duration(i)*time.Second || g.Sent != w.sent || g.Completed != w.completed || g.Max != w.max {
			t.Errorf("second %d = %+v, want at %ds sent %d completed %d max %v", i, g, i, w.sent, w.completed, w.max)
		}
	}
	if !within(s.Series[0].P50, 2*time.Millisecond, 0.001) || !within(s.Series[0].P99, 4*time.Millisecond, 0.001) {
		t.Errorf("second 0 p50/p99 = %v/%v, want 2ms/4ms", s.Series[0].P50, s.Series[0].P99)
	}
}

// Each second gets its own percentiles, also after its histogram has left
// the ring of recent seconds; a completion reported for a second already
// out of the ring still counts.
func TestSeriesPercentilesPerSecondOverALongRun(t *testing.T) {
	r := NewRecorder(t0)
	const seconds = 40
	for s := 0; s < seconds; s++ {
		for k := 0; k < 100; k++ {
			at := t0.Add(time.Duration(s)*time.Second + time.Duration(k)*10*time.Millisecond)
			// Second s: latencies (s+1) ms, except one outlier per second.
			lat := time.Duration(s+1) * time.Millisecond
			if k == 99 {
				lat *= 10
			}
			r.Completed(at, "order.placed", lat)
		}
	}
	r.Completed(t0.Add(2*time.Second), "order.placed", 500*time.Millisecond) // very late report for second 2
	s := r.Summary("long", t0.Add(seconds*time.Second))
	if len(s.Series) != seconds {
		t.Fatalf("%d samples, want %d", len(s.Series), seconds)
	}
	for i, g := range s.Series {
		base := time.Duration(i+1) * time.Millisecond
		wantCompleted, wantMax := int64(100), 10*base
		if i == 2 {
			wantCompleted, wantMax = 101, 500*time.Millisecond
		}
		if g.Completed != wantCompleted || g.Max != wantMax {
			t.Errorf("second %d: completed %d max %v, want %d and %v", i, g.Completed, g.Max, wantCompleted, wantMax)
		}
		if !within(g.P50, base, 0.001) {
			t.Errorf("second %d: p50 %v, want %v", i, g.P50, base)
		}
		if !within(g.P99, base, 0.001) {
			t.Errorf("second %d: p99 %v, want %v (99 of 100 at the base)", i, g.P99, base)
		}
	}
	if s.Completed != seconds*100+1 || s.LatencyMax != 500*time.Millisecond {
		t.Errorf("totals: completed %d max %v", s.Completed, s.LatencyMax)
	}
}

func TestPausesMarkTheirSeconds(t *testing.T) {
	r := NewRecorder(t0)
	r.Pause(t0.Add(2500*time.Millisecond), t0.Add(4*time.Second))
	r.Pause(t0.Add(7*time.Second), t0.Add(6*time.Second)) // reversed: still a pause
	r.Pause(t0.Add(-time.Second), t0)                     // before the start: nothing
	s := r.Summary("pauses", t0.Add(8*time.Second))
	want := []bool{false, false, true, true, false, false, true, false}
	for i, w := range want {
		if s.Series[i].Paused != w {
			t.Errorf("second %d paused = %v, want %v", i, s.Series[i].Paused, w)
		}
	}
	wantSpans := []Span{{2500 * time.Millisecond, 4 * time.Second}, {6 * time.Second, 7 * time.Second}}
	if len(s.Pauses) != 2 || s.Pauses[0] != wantSpans[0] || s.Pauses[1] != wantSpans[1] {
		t.Errorf("pauses = %v, want %v", s.Pauses, wantSpans)
	}
}

func TestSummaryDoesNotStopRecording(t *testing.T) {
	r := NewRecorder(t0)
	r.Completed(t0, "order.placed", time.Millisecond)
	first := r.Summary("a", t0.Add(time.Second))
	r.Completed(t0.Add(100*time.Millisecond), "order.placed", 3*time.Millisecond)
	second := r.Summary("b", t0.Add(time.Second))
	if first.Series[0].Completed != 1 || second.Series[0].Completed != 2 {
		t.Fatalf("completed %d then %d, want 1 then 2", first.Series[0].Completed, second.Series[0].Completed)
	}
	if !within(second.Series[0].P99, 3*time.Millisecond, 0.001) {
		t.Errorf("p99 after more recording = %v, want 3ms", second.Series[0].P99)
	}
}

// The last second is as long as the run lasted into it, so a reader (and
// the throughput plot) takes its counts as a fraction of a second, not a
// drop: 100 commands in the last 0.5 s plot as 200/s, and a last second of
// 0.1 s is left out of the plot.
func TestLastSecondIsCoveredOnlyAsFarAsTheRunLasted(t *testing.T) {
	sec := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	r := NewRecorder(t0)
	for i := range 100 {
		r.Sent(sec(0.001 * float64(i+1)))
		r.Sent(sec(1 + 0.004*float64(i+1)))
	}
	s := r.Summary("covered", sec(1.5))
	if len(s.Series) != 2 || s.Series[0].Covered != time.Second || s.Series[1].Covered != 500*time.Millisecond {
		t.Fatalf("series %+v, want a whole first second and 0.5 s of the second", s.Series)
	}
	sent, _, peak := s.throughputLines()
	if len(sent.ys) != 2 || sent.ys[0] != 100 || sent.ys[1] != 200 || peak != 200 {
		t.Errorf("sent/s plotted %v (peak %v), want [100 200]: the last 0.5 s's 100 as 200/s", sent.ys, peak)
	}
	if short, _, _ := r.Summary("short", sec(1.1)).throughputLines(); len(short.ys) != 1 {
		t.Errorf("a last second of 0.1 s is plotted: %v", short.ys)
	}
}
