package report

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// progressWindow is how many seconds (the current one included) the
// progress line's percentiles cover: long enough to be stable, short
// enough to show a change within seconds.
const progressWindow = 5

// ProgressLine is one line for a live progress display (no newline), e.g.
//
//	"  42s  sent 209,876  done 209,870  4,998/s  p50 3.1ms p99 11.2ms  in flight 6  rejected 10,211  mismatches 0"
//
// The rate is the completions of the last full second; the percentiles
// cover the last 5 seconds up to now.
func (r *Recorder) ProgressLine(now time.Time) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.secondOf(now)
	var rate int64
	if cur >= 1 && cur-1 < int64(len(r.seconds)) {
		rate = r.seconds[cur-1].completed
	}
	r.scratch.Reset()
	r.recent.each(func(s int64, h *hdrhistogram.Histogram) {
		if s > cur-progressWindow && s <= cur {
			r.scratch.Merge(h)
		}
	})
	p50, p99 := "-", "-"
	if r.scratch.TotalCount() > 0 {
		p50 = formatLatency(valueAt(r.scratch, 50, r.maxLatency))
		p99 = formatLatency(valueAt(r.scratch, 99, r.maxLatency))
	}
	var rejected int64
	for _, n := range r.rejections {
		rejected += n
	}
	elapsed := now.Sub(r.start)
	if elapsed < 0 {
		elapsed = 0
	}
	return fmt.Sprintf("%5ds  sent %s  done %s  %s/s  p50 %s p99 %s  in flight %s  rejected %s  mismatches %s",
		int64(elapsed/time.Second), groupInt(r.sent), groupInt(r.completed), groupInt(rate),
		p50, p99, groupInt(r.sent-r.completed), groupInt(rejected), groupInt(r.mismatches))
}
