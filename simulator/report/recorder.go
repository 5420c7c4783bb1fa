package report

import (
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

const (
	// maxMismatchTexts bounds the memory a broken run can take: the count
	// of mismatches stays exact, only the first texts are kept.
	maxMismatchTexts = 100
	// maxSeconds bounds the per-second series (7 days). Times are wall-clock
	// times of one run; a later time (for example a simulated date passed
	// by mistake) lands in the last second instead of allocating years.
	maxSeconds = 7 * 24 * 3600
)

// Recorder collects a run's measurements. Safe for concurrent use: one
// mutex guards everything, which costs far less than the network round
// trip of the command being measured.
type Recorder struct {
	mu    sync.Mutex
	start time.Time

	sent, completed int64
	all             *hdrhistogram.Histogram // whole-run latencies
	byType          map[string]*latencies   // by command type
	stages          stageBook               // the way of each command, stage by stage
	maxLatency      time.Duration           // exact, not bucketed
	sumLatency      float64                 // nanoseconds; float64 because an int64 sum can overflow on long slow runs

	seconds []second // index: whole seconds since start
	recent  recentSeconds
	scratch *hdrhistogram.Histogram // reused by ProgressLine

	rejections        map[string]int64
	charges, credits  int64
	charged, credited map[string]int64
	otherBilling      map[string]int64 // kinds that are neither charge nor credit, reported as notes
	days              map[string]*DayBilling

	mismatches    int64
	mismatchTexts []string
	lost          int64 // of the mismatches, commands that got no event in time

	rulesChecked  map[string]int64 // checked billing events by the money rule they reached
	rulesExpected []string         // the money rules a run should reach, in the caller's order

	pauses []Span

	resources     map[string]*ResourceSeries
	resourceOrder []string
}

// second is the per-second part of the series.
type second struct {
	sent, completed int64
	max             time.Duration // exact
	p50, p99        time.Duration // set when the second's histogram leaves the ring
}

// Span is a time span relative to the start of the run.
type Span struct {
	From time.Duration `json:"from_ns"`
	To   time.Duration `json:"to_ns"`
}

// NewRecorder returns a Recorder whose seconds count from start.
func NewRecorder(start time.Time) *Recorder {
	return &Recorder{
		start:      start,
		all:        newHistogram(),
		recent:     newRecentSeconds(),
		scratch:    newHistogram(),
		byType:     map[string]*latencies{},
		rejections: map[string]int64{},
		charged:    map[string]int64{},
		credited:   map[string]int64{},
		days:       map[string]*DayBilling{},
		resources:  map[string]*ResourceSeries{},
	}
}

// secondOf returns the index of the second t falls in; times before the
// start count in the first second.
func (r *Recorder) secondOf(t time.Time) int64 {
	d := t.Sub(r.start)
	if d < 0 {
		return 0
	}
	s := int64(d / time.Second)
	if s >= maxSeconds {
		return maxSeconds - 1
	}
	return s
}

// at returns the record of second s, growing the series as needed.
// Caller holds r.mu.
func (r *Recorder) at(s int64) *second {
	for int64(len(r.seconds)) <= s {
		r.seconds = append(r.seconds, second{})
	}
	return &r.seconds[s]
}

// Sent counts one command published at time t (open-loop: t is the actual
// publish time, not the time it was scheduled for).
func (r *Recorder) Sent(t time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent++
	r.at(r.secondOf(t)).sent++
}

// Completed counts one command of commandType (order.placed, ...) whose
// first event arrived at time t; latency is publish -> first event. The
// command counts in the second it completed in, and in its type.
func (r *Recorder) Completed(t time.Time, commandType string, latency time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	us := micros(latency)
	r.completed++
	_ = r.all.RecordValue(us) // cannot fail: us is clamped to the range
	r.recordType(commandType, latency)
	r.sumLatency += float64(latency)
	if latency > r.maxLatency {
		r.maxLatency = latency
	}
	s := r.secondOf(t)
	sec := r.at(s)
	sec.completed++
	if latency > sec.max {
		sec.max = latency
	}
	r.recent.record(s, us, r.closeSecond)
}

// closeSecond freezes a second's percentiles from its histogram before the
// histogram is reused. Caller holds r.mu.
func (r *Recorder) closeSecond(s int64, h *hdrhistogram.Histogram) {
	sec := r.at(s)
	sec.p50 = valueAt(h, 50, sec.max)
	sec.p99 = valueAt(h, 99, sec.max)
}

// Rejected counts a command.rejected event by its code.
func (r *Recorder) Rejected(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejections[code]++
}

// Billing counts a billing event (kind "charge" or "credit") and its amount
// in minor units per currency, in the whole run and in the simulated day it
// occurred on. Any other kind is counted apart and shown as a note, so a
// mistake in the caller is visible rather than lost.
func (r *Recorder) Billing(kind, currency string, amountMinor int64, occurredAt time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bookDay(kind, currency, amountMinor, occurredAt)
	switch kind {
	case "charge":
		r.charges++
		r.charged[currency] += amountMinor
	case "credit":
		r.credits++
		r.credited[currency] += amountMinor
	default:
		if r.otherBilling == nil {
			r.otherBilling = map[string]int64{}
		}
		r.otherBilling[kind]++
	}
}

// Mismatch counts a ledger mismatch. The count is exact; only the first
// 100 texts are kept.
func (r *Recorder) Mismatch(text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mismatches++
	if len(r.mismatchTexts) < maxMismatchTexts {
		r.mismatchTexts = append(r.mismatchTexts, text)
	}
}

// Lost counts a command that got no event within the run's deadline: a
// mismatch (the run fails), counted apart as well so a report tells a lost
// command from a wrong amount.
func (r *Recorder) Lost(text string) {
	r.Mismatch(text)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lost++
}

// RuleChecked counts a billing event checked against the model that
// reached money rule id.
func (r *Recorder) RuleChecked(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rulesChecked == nil {
		r.rulesChecked = map[string]int64{}
	}
	r.rulesChecked[id]++
}

// ExpectRules names the money rules a run's checked events should reach;
// the summary lists those none reached. Naming a rule again is harmless.
func (r *Recorder) ExpectRules(ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if !slices.Contains(r.rulesExpected, id) {
			r.rulesExpected = append(r.rulesExpected, id)
		}
	}
}

// Pause records a span when the generator was paused on purpose (the
// simulator drains in-flight commands and moves the simulated clock between
// steps), so a dip in throughput there is not read as a stall.
func (r *Recorder) Pause(from, to time.Time) {
	if to.Before(from) {
		from, to = to, from
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f, t := from.Sub(r.start), to.Sub(r.start)
	if f < 0 {
		f = 0
	}
	if t <= f {
		return
	}
	r.pauses = append(r.pauses, Span{From: f, To: t})
}
