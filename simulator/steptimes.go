package simulator

import (
	"fmt"
	"strings"
	"time"
)

// The parts of a step whose wall time the runner adds up (StepTimes), in
// the order a step runs them.
const (
	// PartCalendar: the model's calendar moved for every customer, with
	// the refund windows of the step's notices before and after it.
	PartCalendar = iota
	// PartPlan: the generator picked the step's commands and the model
	// predicted their outcomes.
	PartPlan
	// PartPublish: the commands published and stored by JetStream.
	PartPublish
	// PartWait: waiting for every answer, for the processor to ack every
	// command and for the ledger to receive the last event.
	PartWait
	// PartCheck: every outcome, amount and notice checked against the
	// model.
	PartCheck
	// PartClock: the processor's global clock moved to the next step, its
	// timers applied.
	PartClock
	// PartTestClocks: the test clocks moved one step behind it, one after
	// the other, their customers' timers applied.
	PartTestClocks
	parts
)

var partNames = [parts]string{"calendar", "plan", "publish", "wait", "check", "clock", "test clocks"}

// StepTimes is where a run's steps spent their wall time: Total per part
// and the longest single step's share of it (Max). The simulator's own
// CPU is the calendar, plan and check parts (and the ledger decoding
// events meanwhile); publish, wait and the clocks are mostly the broker's
// and the processor's time.
type StepTimes struct {
	Steps int64
	Total [parts]time.Duration
	Max   [parts]time.Duration
}

// stepTimer times one step's parts in order.
type stepTimer struct {
	t    *StepTimes
	last time.Time
}

func (t *StepTimes) begin() stepTimer {
	t.Steps++
	return stepTimer{t: t, last: time.Now()}
}

// done adds the time since the previous part's end to part.
func (s *stepTimer) done(part int) {
	now := time.Now()
	d := now.Sub(s.last)
	s.last = now
	s.t.Total[part] += d
	s.t.Max[part] = max(s.t.Max[part], d)
}

// String is one line of the report's notes: each part's total, mean and
// longest step.
func (t StepTimes) String() string {
	if t.Steps == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "wall time of the %d steps by part (total, mean per step, longest):", t.Steps)
	for i, name := range partNames {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " %s %s, %s, %s", name, t.Total[i].Round(time.Millisecond),
			(t.Total[i] / time.Duration(t.Steps)).Round(10*time.Microsecond), t.Max[i].Round(time.Millisecond))
	}
	return b.String()
}
