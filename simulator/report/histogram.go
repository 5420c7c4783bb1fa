package report

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram range, in microseconds: a command answered faster than 1µs or
// slower than two minutes is outside anything the processor can do, so
// values beyond are clamped rather than dropped (the count stays exact).
const (
	lowestMicros  = 1
	highestMicros = 120_000_000
	sigFigs       = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(lowestMicros, highestMicros, sigFigs)
}

// micros converts a latency to the histogram's unit, clamped to its range.
func micros(d time.Duration) int64 {
	us := d.Microseconds()
	if us < lowestMicros {
		return lowestMicros
	}
	if us > highestMicros {
		return highestMicros
	}
	return us
}

// valueAt reads a percentile as a Duration, never above the exact maximum:
// HDR reports the highest value equivalent to the bucket, which can be a
// little above anything recorded.
func valueAt(h *hdrhistogram.Histogram, percentile float64, exactMax time.Duration) time.Duration {
	if h.TotalCount() == 0 {
		return 0
	}
	d := time.Duration(h.ValueAtPercentile(percentile)) * time.Microsecond
	if d > exactMax {
		return exactMax
	}
	return d
}

// latencies is a histogram with the exact maximum of what it holds.
type latencies struct {
	h   *hdrhistogram.Histogram
	max time.Duration
}

func newLatencies() *latencies { return &latencies{h: newHistogram()} }

func (l *latencies) record(d time.Duration) {
	_ = l.h.RecordValue(micros(d)) // cannot fail: clamped to the range
	if d > l.max {
		l.max = d
	}
}

func (l *latencies) count() int64 { return l.h.TotalCount() }

// at is the latency at percentile p (0..100).
func (l *latencies) at(p float64) time.Duration { return valueAt(l.h, p, l.max) }
