package report

import (
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	r := NewRecorder(t0)
	// 42 seconds; second s sends 5,000 and completes 4,998 (2 stay in
	// flight per second); latencies are 3 ms except 1.5% at 11 ms.
	for s := 0; s < 42; s++ {
		for k := 0; k < 5000; k++ {
			at := t0.Add(time.Duration(s)*time.Second + time.Duration(k)*200*time.Microsecond)
			r.Sent(at)
			if k < 4998 {
				lat := 3 * time.Millisecond
				if k%200 < 3 {
					lat = 11 * time.Millisecond
				}
				r.Completed(at, "order.placed", lat)
			}
			if k%10 == 0 {
				r.Rejected("QTY_BELOW_MINIMUM")
			}
		}
	}
	r.Mismatch("x")
	got := r.ProgressLine(t0.Add(42*time.Second + 300*time.Millisecond))
	want := "   42s  sent 210,000  done 209,916  4,998/s  p50 3.0ms p99 11.0ms  in flight 84  rejected 21,000  mismatches 1"
	if got != want {
		t.Errorf("progress line\n got %q\nwant %q", got, want)
	}
}

func TestProgressLinePercentilesCoverOnlyTheLastFiveSeconds(t *testing.T) {
	r := NewRecorder(t0)
	for s := 0; s < 20; s++ {
		lat := time.Millisecond
		if s >= 15 {
			lat = 40 * time.Millisecond // the last five seconds are slow
		}
		r.Completed(t0.Add(time.Duration(s)*time.Second), "order.placed", lat)
	}
	got := r.ProgressLine(t0.Add(19*time.Second + 500*time.Millisecond))
	want := "   19s  sent 0  done 20  1/s  p50 40.0ms p99 40.0ms  in flight -20  rejected 0  mismatches 0"
	if got != want {
		t.Errorf("progress line\n got %q\nwant %q", got, want)
	}
	// Long after the last completion the window is empty.
	got = r.ProgressLine(t0.Add(60 * time.Second))
	want = "   60s  sent 0  done 20  0/s  p50 - p99 -  in flight -20  rejected 0  mismatches 0"
	if got != want {
		t.Errorf("idle progress line\n got %q\nwant %q", got, want)
	}
}
