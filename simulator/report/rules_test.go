package report

import (
	"strings"
	"testing"
	"time"
)

// The money rules: checked events are counted per rule, and the rules a
// run expected but no checked event reached are listed at the end.
func TestTextReportCountsRulesAndListsTheUnreached(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := NewRecorder(t0)
	r.ExpectRules("QTY-1", "CAN-1", "REN-4", "QTY-1")
	r.RuleChecked("QTY-1")
	r.RuleChecked("QTY-1")
	r.RuleChecked("GEN-3")
	s := r.Summary("rules", t0.Add(time.Second))
	if s.RulesChecked["QTY-1"] != 2 || s.RulesChecked["GEN-3"] != 1 {
		t.Fatalf("rules checked %v", s.RulesChecked)
	}
	if got := strings.Join(s.RulesUnreached, ","); got != "CAN-1,REN-4" {
		t.Fatalf("unreached %q, want CAN-1,REN-4", got)
	}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"checked events by money rule", "QTY-1", "money rules no checked billing event reached: CAN-1, REN-4"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}
