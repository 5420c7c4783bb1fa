package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// sampleRun replays a deterministic 60 s run at 500 commands/s: a pause
// from 20 s to 23 s, a latency spike around 40 s, rejections, billing in
// three currencies and two mismatches. No clock is read.
func sampleRun(t testing.TB, label string) Summary {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	r := NewRecorder(t0)
	const rate = 500
	for i := 0; i < 60*rate; i++ {
		at := t0.Add(time.Duration(i) * time.Second / rate)
		if s := at.Sub(t0); s >= 20*time.Second && s < 23*time.Second {
			continue // paused
		}
		r.Sent(at)
		// Log-normal around 3 ms, ten times slower for two seconds at 40 s.
		lat := time.Duration(3e6 * math.Exp(0.5*rng.NormFloat64()))
		if s := at.Sub(t0); s >= 40*time.Second && s < 42*time.Second {
			lat *= 10
		}
		if i == 45*rate {
			lat = 900 * time.Millisecond
		}
		r.Completed(at.Add(lat), lat)
		switch i % 50 {
		case 0:
			r.Rejected("QTY_BELOW_MINIMUM")
		case 1:
			r.Rejected("SUBSCRIPTION_NOT_FOUND")
		case 2:
			r.Billing("charge", "USD", 72000)
		case 3:
			r.Billing("charge", "JPY", 1500)
		case 4:
			r.Billing("credit", "EUR", 71803)
		}
	}
	r.Pause(t0.Add(20*time.Second), t0.Add(23*time.Second))
	r.Mismatch("customer c-17: billed USD 720.00, ledger says USD 718.03")
	r.Mismatch("customer c-42: credit missing")
	s := r.Summary(label, t0.Add(61*time.Second))
	s.Redeliveries = 3
	s.ProcessorRSSBytes = 85 << 20
	s.ProcessorPeakRSSBytes = 97 << 20
	s.RedisUsedMemoryBytes = 40 << 20
	s.Subscriptions = 20_000
	s.Notes = []string{"processor: 4 partitions", "redis-server 7.2 (private)"}
	return s
}

// within reports whether got is within rel (relative) of want.
func within(got, want time.Duration, rel float64) bool {
	return math.Abs(float64(got-want)) <= rel*float64(want)
}
