package simulator_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// credits records every credit the ledger books, untouched.
type credits struct {
	mu  sync.Mutex
	got []simulator.Entry
}

func (c *credits) watch(r *simulator.Runner) {
	r.Ledger.Corrupt = func(e *simulator.Entry) {
		if e.Kind == "credit" {
			c.mu.Lock()
			c.got = append(c.got, *e)
			c.mu.Unlock()
		}
	}
}

func (c *credits) list() []simulator.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]simulator.Entry(nil), c.got...)
}

func runScenario(t *testing.T, r *simulator.Runner, sc *simulator.Scenario, runID string) report.Summary {
	t.Helper()
	var progress bytes.Buffer
	if err := r.RunScenario(context.Background(), sc, runID, &progress); err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("progress:\n%s", progress.String())
	return r.Rec.Summary(sc.Name, time.Now())
}

// Every shipped story runs against a real processor with every outcome and
// every amount as the model predicts and as the story expects.
func TestScenarios_EveryShippedStoryAgreesWithTheModel(t *testing.T) {
	files, err := filepath.Glob("scenarios/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want at least 3 stories in simulator/scenarios, found %v", files)
	}
	for i, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			sc, err := simulator.LoadScenario(f)
			if err != nil {
				t.Fatal(err)
			}
			r := startRun(t, uint64(100+i))
			var cr credits
			cr.watch(r)
			s := runScenario(t, r, sc, "sc")
			if s.Mismatches != 0 {
				t.Fatalf("%d mismatches:\n%s", s.Mismatches, strings.Join(s.MismatchTexts, "\n"))
			}
			if r.Checked == 0 {
				t.Fatal("no billing event was checked")
			}
			if filepath.Base(f) == "01-cancel-window.json" {
				// The README's worked example (CAN-1): exactly one credit,
				// 70619 cents, and the late cancel rejected.
				got := cr.list()
				if len(got) != 1 || got[0].Bill.AmountMinor != 70619 || got[0].Bill.Currency != "USD" || got[0].Bill.Reason != "cancellation" {
					t.Fatalf("want one cancellation credit of 70619 USD, got %+v", got)
				}
				if s.Rejections["cancellation_window_closed"] != 1 {
					t.Fatalf("want one cancellation_window_closed rejection, got %v", s.Rejections)
				}
			}
			t.Logf("%d commands, %d billing events checked, rejections %v, kinds %v", s.Sent, r.Checked, s.Rejections, r.Kinds)
		})
	}
}

// A story whose "expect" is wrong fails with a mismatch naming the step,
// although the processor and the model agree.
func TestScenario_WrongExpectIsAMismatchNamingTheStep(t *testing.T) {
	sc := writeAndLoad(t, `{
  "name": "wrong expect",
  "start": "2026-03-01T09:00:00Z",
  "customers": [{"id": "alice", "country": "US", "currency": "USD"}],
  "steps": [
    {"at": "0h", "customer": "alice", "do": "buy", "offer": "CFQ7TTC0LH18:0001", "term": "P1Y", "billing": "annual", "quantity": 10, "as": "s1"},
    {"at": "169h", "customer": "alice", "do": "cancel", "sub": "s1"}
  ]
}`)
	r := startRun(t, 3)
	s := runScenario(t, r, sc, "wrong")
	if s.Mismatches != 1 || !strings.Contains(s.MismatchTexts[0], "steps[1] 169h alice cancel s1") ||
		!strings.Contains(s.MismatchTexts[0], "the scenario expected accepted, got rejected cancellation_window_closed") {
		t.Fatalf("want one mismatch naming steps[1] and the wrong expectation, got %d: %v", s.Mismatches, s.MismatchTexts)
	}
	if r.Kinds["cancel"] != 1 || r.Kinds["buy"] != 1 || r.Kinds["create"] != 1 {
		t.Fatalf("kinds are counted by command kind, got %v", r.Kinds)
	}
}

// Malformed stories are refused by LoadScenario with the step and field.
func TestLoadScenario_RejectsMalformedFilesNamingTheStep(t *testing.T) {
	const head = `{"name": "bad", "start": "2026-03-01T09:00:00Z", "customers": [{"id": "alice", "country": "US", "currency": "USD"}], "steps": [
    {"at": "0h", "customer": "alice", "do": "buy", "offer": "CFQ7TTC0LH18:0001", "term": "P1Y", "billing": "annual", "quantity": 10, "as": "s1"},
`
	for _, tc := range []struct{ name, body, want string }{
		{"unknown step field", `{"at": "30h", "customer": "alice", "do": "cancel", "sub": "s1", "colour": "red"}]}`, `steps[1]: json: unknown field "colour"`},
		{"bad offset", `{"at": "3x", "customer": "alice", "do": "cancel", "sub": "s1"}]}`, `steps[1].at: bad offset "3x"`},
		{"bad day count", `{"at": "1.5d", "customer": "alice", "do": "cancel", "sub": "s1"}]}`, `steps[1].at: bad offset "1.5d"`},
		{"unknown sub", `{"at": "30h", "customer": "alice", "do": "cancel", "sub": "s9"}]}`, `steps[1].sub: unknown subscription "s9"`},
		{"sub bought at the same instant", `{"at": "0h", "customer": "alice", "do": "cancel", "sub": "s1"}]}`, `steps[1].sub: "s1" is bought at 0h`},
		{"unknown customer", `{"at": "30h", "customer": "bob", "do": "cancel", "sub": "s1"}]}`, `steps[1].customer: "bob"`},
		{"missing field", `{"at": "30h", "customer": "alice", "do": "quantity", "sub": "s1"}]}`, `steps[1].quantity: required for quantity`},
		{"field of another kind", `{"at": "30h", "customer": "alice", "do": "cancel", "sub": "s1", "enabled": true}]}`, `steps[1].enabled: not used by cancel`},
		{"unknown kind", `{"at": "30h", "customer": "alice", "do": "refund", "sub": "s1"}]}`, `steps[1].do: "refund" is not one of`},
		{"duplicate as", `{"at": "1h", "customer": "alice", "do": "trial", "offer": "CFQ7TTC0LCHC:0007", "as": "s1"}]}`, `steps[1].as: "s1" already names`},
		{"unknown top-level field", `{"at": "30h", "customer": "alice", "do": "cancel", "sub": "s1"}], "colour": "red"}`, `json: unknown field "colour"`},
		{"until before the last step", `{"at": "30h", "customer": "alice", "do": "cancel", "sub": "s1"}], "until": "1d"}`, `until: 1d is before the last step`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.json")
			if err := os.WriteFile(path, []byte(head+tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := simulator.LoadScenario(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	// The same head with a valid step loads: the cases fail for their
	// defect, not for the head.
	path := filepath.Join(t.TempDir(), "good.json")
	if err := os.WriteFile(path, []byte(head+`{"at": "1d6h", "customer": "alice", "do": "cancel", "sub": "s1"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := simulator.LoadScenario(path); err != nil {
		t.Fatal(err)
	}
}

func writeAndLoad(t *testing.T, body string) *simulator.Scenario {
	t.Helper()
	path := filepath.Join(t.TempDir(), "story.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := simulator.LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// A step the model does not predict (a cancel of a cancelled subscription)
// stops the run with an error naming the step instead of guessing; and a
// second run on the same processor is refused, since its clock never goes
// back to the story's start.
func TestScenario_UnpredictableStepAndPastStartAreErrors(t *testing.T) {
	sc := writeAndLoad(t, `{
  "name": "cancel twice",
  "start": "2026-03-01T09:00:00Z",
  "customers": [{"id": "alice", "country": "US", "currency": "USD"}],
  "steps": [
    {"at": "0h", "customer": "alice", "do": "buy", "offer": "CFQ7TTC0LH18:0001", "term": "P1Y", "billing": "annual", "quantity": 10, "as": "s1"},
    {"at": "1h", "customer": "alice", "do": "cancel", "sub": "s1"},
    {"at": "2h", "customer": "alice", "do": "cancel", "sub": "s1"}
  ]
}`)
	r := startRun(t, 4)
	err := r.RunScenario(context.Background(), sc, "twice", nil)
	if err == nil || !strings.Contains(err.Error(), "steps[2] 2h alice cancel s1") || !strings.Contains(err.Error(), "does not predict") {
		t.Fatalf("want an error naming steps[2], got %v", err)
	}
	if s := r.Rec.Summary("t", time.Now()); s.Mismatches != 0 {
		t.Fatalf("the steps before it agree, got %v", s.MismatchTexts)
	}
	err = r.RunScenario(context.Background(), sc, "again", nil)
	if err == nil || !strings.Contains(err.Error(), "never goes back") {
		t.Fatalf("want the past start refused, got %v", err)
	}
}
