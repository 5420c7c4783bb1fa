package simulator

import (
	"strings"
	"testing"
	"time"
)

// Each part's time is what passed since the previous part ended, summed
// over the steps, with the longest step's.
func TestStepTimes_EachPartGetsTheTimeSinceThePreviousOne(t *testing.T) {
	var st StepTimes
	for _, d := range []time.Duration{3 * time.Millisecond, 7 * time.Millisecond} {
		timer := st.begin()
		timer.last = timer.last.Add(-d) // the calendar took d
		timer.done(PartCalendar)
		for p := PartPlan; p < parts; p++ {
			timer.done(p)
		}
	}
	if st.Steps != 2 || st.Total[PartCalendar] < 10*time.Millisecond || st.Max[PartCalendar] < 7*time.Millisecond {
		t.Fatalf("steps %d, calendar total %s, longest %s; want 2, at least 10ms and 7ms", st.Steps, st.Total[PartCalendar], st.Max[PartCalendar])
	}
	if st.Total[PartPlan] >= st.Total[PartCalendar] {
		t.Errorf("plan %s took the calendar's time %s", st.Total[PartPlan], st.Total[PartCalendar])
	}
	line := st.String()
	for _, name := range partNames {
		if !strings.Contains(line, " "+name+" ") {
			t.Errorf("%q lacks part %q", line, name)
		}
	}
	if (StepTimes{}).String() != "" {
		t.Error("a run without steps has a line")
	}
}
