package report

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// Many goroutines record while others read progress and summaries; run
// with -race. Every count must come out exact.
func TestConcurrentRecording(t *testing.T) {
	r := NewRecorder(t0)
	const workers, each = 32, 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			now := t0.Add(time.Duration(i%30) * time.Second)
			if !strings.Contains(r.ProgressLine(now), "sent ") {
				t.Error("progress line without sent")
				return
			}
			_ = r.Summary("mid-run", now)
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Times interleave across seconds so the ring is exercised
				// with slightly out-of-order completions.
				at := t0.Add(time.Duration(i)*10*time.Millisecond + time.Duration(w)*time.Millisecond)
				r.Sent(at)
				r.Completed(at.Add(5*time.Millisecond), "order.placed", time.Duration(1+i%20)*time.Millisecond)
				if i%4 == 0 {
					r.Rejected("QTY_BELOW_MINIMUM")
				}
				r.Billing("charge", "USD", 100, t0)
				if i%500 == 0 {
					r.Mismatch("m")
					r.Pause(at, at.Add(time.Millisecond))
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	s := r.Summary("concurrent", t0.Add(21*time.Second))
	const n = workers * each
	if s.Sent != n || s.Completed != n {
		t.Errorf("sent/completed = %d/%d, want %d", s.Sent, s.Completed, n)
	}
	if s.Rejections["QTY_BELOW_MINIMUM"] != n/4 || s.Charges != n || s.ChargedMinor["USD"] != 100*n {
		t.Errorf("rejections %v charges %d charged %v", s.Rejections, s.Charges, s.ChargedMinor)
	}
	if s.Mismatches != workers*4 || len(s.Pauses) != workers*4 {
		t.Errorf("mismatches %d pauses %d, want %d each", s.Mismatches, len(s.Pauses), workers*4)
	}
	var sent, completed int64
	for _, smp := range s.Series {
		sent += smp.Sent
		completed += smp.Completed
	}
	if sent != n || completed != n {
		t.Errorf("series sums sent %d completed %d, want %d", sent, completed, n)
	}
	if s.LatencyMax != 20*time.Millisecond || !within(s.LatencyP50, 10*time.Millisecond, 0.001) {
		t.Errorf("max %v p50 %v, want 20ms and 10ms", s.LatencyMax, s.LatencyP50)
	}
}
