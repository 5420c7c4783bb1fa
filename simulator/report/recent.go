package report

import "github.com/HdrHistogram/hdrhistogram-go"

// ringSize is how many recent seconds keep a latency histogram. A whole
// histogram per second of a long run would take ~150 KB each; instead a
// second's p50/p99 are frozen once it is ringSize seconds older than the
// newest completion. It must exceed the progress window (5 s) plus the
// current second, and leaves room for completions reported slightly out
// of order by concurrent goroutines.
const ringSize = 8

type recentSecond struct {
	sec int64 // -1: free
	h   *hdrhistogram.Histogram
}

// recentSeconds is the ring of per-second histograms, slot = second % ringSize.
type recentSeconds struct {
	slots  [ringSize]recentSecond
	newest int64 // newest second recorded; -1 before the first
}

func newRecentSeconds() recentSeconds {
	var rs recentSeconds
	for i := range rs.slots {
		rs.slots[i].sec = -1
	}
	rs.newest = -1
	return rs
}

// record adds a latency (µs) to second s. Seconds that fall out of the
// ring are passed to closeFn first. A completion for a second already out
// of the ring still counts everywhere else (totals, whole-run histogram,
// per-second count and max); only that second's p50/p99 miss it.
func (rs *recentSeconds) record(s, us int64, closeFn func(int64, *hdrhistogram.Histogram)) {
	if s > rs.newest {
		for i := range rs.slots {
			sl := &rs.slots[i]
			if sl.sec >= 0 && sl.sec <= s-ringSize {
				closeFn(sl.sec, sl.h)
				sl.h.Reset()
				sl.sec = -1
			}
		}
		rs.newest = s
	}
	if s <= rs.newest-ringSize {
		return
	}
	sl := &rs.slots[s%ringSize]
	if sl.sec != s {
		// The slot is free: anything older than s-ringSize was closed above.
		sl.sec = s
		if sl.h == nil {
			sl.h = newHistogram()
		}
	}
	_ = sl.h.RecordValue(us)
}

// each calls fn for every second still held in the ring.
func (rs *recentSeconds) each(fn func(s int64, h *hdrhistogram.Histogram)) {
	for i := range rs.slots {
		if rs.slots[i].sec >= 0 {
			fn(rs.slots[i].sec, rs.slots[i].h)
		}
	}
}
