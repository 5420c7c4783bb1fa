package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// sampleTypes are the command types of the sample run, in turn.
var sampleTypes = []string{"order.placed", "subscription.quantity.change", "subscription.cancel", "subscription.suspend"}

// simDay0 is the sample run's first simulated day: each wall second of
// the run is a simulated day, as if the clock moved a day a second.
var simDay0 = time.Date(2026, 1, 1, 0, 17, 0, 0, time.UTC)

// sampleRun replays a deterministic 60 s run at 500 commands/s: a pause
// from 20 s to 23 s, a latency spike around 40 s, four command types (the
// cancellations twice as slow), each command's stages, rejections, billing
// in three currencies over the simulated days, the processes' CPU and
// memory every second and two mismatches. No clock is read.
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
		typ := sampleTypes[i%len(sampleTypes)]
		if typ == "subscription.cancel" {
			lat *= 2
		}
		r.Completed(at.Add(lat), typ, lat)
		// A tenth of the way to the stream, half of it in the processor,
		// the rest on the way back; every 100th PubAck handled late.
		tl := Timeline{Published: at, Stored: at.Add(lat / 10), Committed: at.Add(6 * lat / 10), Received: at.Add(lat)}
		if i%100 == 7 {
			tl.Stored = tl.Committed.Add(time.Microsecond)
		}
		if i%1000 == 9 {
			tl.Committed = time.Time{} // an event published again from the outbox
		}
		r.Stages(tl)
		day := simDay0.AddDate(0, 0, int(at.Sub(t0)/time.Second))
		switch i % 50 {
		case 0:
			r.Rejected("QTY_BELOW_MINIMUM")
		case 1:
			r.Rejected("SUBSCRIPTION_NOT_FOUND")
		case 2:
			r.Billing("charge", "USD", 72000, day)
		case 3:
			r.Billing("charge", "JPY", 1500, day)
		case 4:
			r.Billing("credit", "EUR", 71803, day)
		}
	}
	// The processor at a quarter of a core, more during the spike; Redis
	// at a tenth, its memory growing a MiB a second.
	for sec := 1; sec <= 60; sec++ {
		at := t0.Add(time.Duration(sec) * time.Second)
		cpu := 250 * time.Millisecond
		if sec > 40 && sec <= 42 {
			cpu = 900 * time.Millisecond
		}
		r.Resource(at, "processor", cpu, time.Second, 80<<20)
		r.Resource(at, "Redis", 100*time.Millisecond, time.Second, int64(30+sec)<<20)
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
