package simulator_test

import (
	"bytes"
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

// A short real run's JSON has the report's sections, consistent with each
// other: the per-type counts add up to the commands completed; every
// command's way is split into stages (the processor stamps its commit time
// on the events it publishes after a commit), the stages in order on one
// clock; the days' charges and credits add up to the run's; and the
// simulator (with the embedded NATS and the in-process processor) and
// Redis were sampled.
func TestReport_AShortRunsJSONHasConsistentTypesStagesDaysAndResources(t *testing.T) {
	r, st := startRunOnStack(t, 5)
	end := simStart.AddDate(0, 0, 10)
	err := r.Run(context.Background(), simulator.LoadConfig{Customers: 40, CommandsPerStep: 20, StepSim: 7 * time.Hour,
		Start: simStart, End: end, RunID: "t5", Seed: 5, Processes: st.Processes, SampleEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	if err := r.Rec.Summary("short", time.Now()).WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"latency_by_type"`, `"latency_p95_ns"`, `"stages"`, `"resources"`, `"billing_by_day"`} {
		if !strings.Contains(js.String(), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
	s, err := report.ReadJSON(&js)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mismatches != 0 || s.Completed == 0 || s.Completed != s.Sent {
		t.Fatalf("%d sent, %d completed, %d mismatches: %v", s.Sent, s.Completed, s.Mismatches, s.MismatchTexts)
	}

	var n int64
	types := map[string]bool{}
	for _, l := range s.LatencyByType {
		n += l.Count
		types[l.Type] = true
		if l.Count == 0 || l.P50 > l.P95 || l.P95 > l.P99 || l.P99 > l.Max || l.Max > s.LatencyMax {
			t.Errorf("type %+v", l)
		}
	}
	if n != s.Completed {
		t.Errorf("per-type counts add up to %d, %d completed", n, s.Completed)
	}
	for _, typ := range []messages.CommandType{messages.CmdCustomerCreated, messages.CmdOrderPlaced, messages.CmdQuantityChange} {
		if !types[string(typ)] {
			t.Errorf("no latency for %s: %+v", typ, s.LatencyByType)
		}
	}

	checkStages(t, s)
	checkDays(t, s, simStart, end)
	checkResources(t, s)
}

func checkStages(t *testing.T, s report.Summary) {
	t.Helper()
	names := []string{report.StagePublishedStored, report.StageStoredCommitted, report.StageCommittedReceived, report.StagePublishedReceived}
	if len(s.Stages) != len(names) {
		t.Fatalf("stages %+v, want %v", s.Stages, names)
	}
	// A first event without a commit time comes only from an event
	// published again (a redelivered command): a rare thing in a clean run.
	if s.StagesWithoutCommit > s.Completed/100 {
		t.Errorf("%d of %d commands' first events carried no commit time", s.StagesWithoutCommit, s.Completed)
	}
	for i, st := range s.Stages {
		want := s.Completed
		if i == 1 || i == 2 {
			want -= s.StagesWithoutCommit
		}
		if st.Stage != names[i] || st.Count != want || st.P50 > st.P99 || st.P99 > st.Max {
			t.Errorf("stage %d: %+v, want %s over %d commands", i, st, names[i], want)
		}
	}
	whole := s.Stages[3]
	if whole.P50 != s.LatencyP50 || whole.P99 != s.LatencyP99 || whole.Max != s.LatencyMax {
		t.Errorf("the whole way p50 %v p99 %v max %v, the run's latency %v %v %v", whole.P50, whole.P99, whole.Max,
			s.LatencyP50, s.LatencyP99, s.LatencyMax)
	}
	// One clock: the PubAck follows the publish, and the processor
	// commits before it publishes the event the simulator receives.
	if s.Stages[0].Negative != 0 || s.Stages[2].Negative != 0 || whole.Negative != 0 {
		t.Errorf("stages ended before they began: %+v", s.Stages)
	}
	for _, st := range s.Stages[:3] {
		if st.P50 <= 0 || st.P50 > whole.P99 || st.Max > whole.Max {
			t.Errorf("stage %s p50 %v max %v against the whole way's p99 %v max %v", st.Stage, st.P50, st.Max, whole.P99, whole.Max)
		}
	}
	if parts := s.Stages[0].P50 + s.Stages[1].P50 + s.Stages[2].P50; parts > 2*whole.P50+time.Millisecond {
		t.Errorf("the stages' medians add up to %v, the whole way's is %v", parts, whole.P50)
	}
}

func checkDays(t *testing.T, s report.Summary, start, end time.Time) {
	t.Helper()
	if len(s.BillingByDay) < 2 || s.Charges == 0 || s.Credits == 0 {
		t.Fatalf("%d billing days, %d charges, %d credits", len(s.BillingByDay), s.Charges, s.Credits)
	}
	for _, d := range s.BillingByDay {
		if d.Day < start.Format("2006-01-02") || d.Day > end.Format("2006-01-02") {
			t.Errorf("billing on %s, outside the simulated %s..%s", d.Day, start, end)
		}
	}
	sum := s.DayTotals()
	if sum.Charges != s.Charges || sum.Credits != s.Credits || !maps.Equal(sum.ChargedMinor, s.ChargedMinor) ||
		!maps.Equal(sum.CreditedMinor, s.CreditedMinor) {
		t.Errorf("days add up to %+v; the run has %d charges %v, %d credits %v", sum, s.Charges, s.ChargedMinor, s.Credits, s.CreditedMinor)
	}
}

func checkResources(t *testing.T, s report.Summary) {
	t.Helper()
	got := map[string]report.ResourceSeries{}
	for _, r := range s.Resources {
		got[r.Name] = r
	}
	self, redis := got[stack.GroupSimulator+" + NATS + processor"], got[stack.GroupRedis]
	if len(self.Samples) == 0 || self.CPU <= 0 || self.RSSPeak <= 0 || self.CoresMean <= 0 {
		t.Errorf("the simulator's process: %+v (series: %v)", self, s.Resources)
	}
	if len(redis.Samples) == 0 || redis.RSSPeak <= 0 {
		t.Errorf("Redis: %+v", redis)
	}
	var cpu time.Duration
	for _, smp := range self.Samples {
		cpu += smp.CPU
		if smp.Span <= 0 || smp.At > s.End.Sub(s.Start) {
			t.Errorf("sample %+v outside the run of %v", smp, s.End.Sub(s.Start))
		}
	}
	if cpu != self.CPU {
		t.Errorf("samples add up to %v of CPU, the series says %v", cpu, self.CPU)
	}
}
