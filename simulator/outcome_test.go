package simulator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

// newTestRunner brings up embedded NATS, a private redis-server and an
// in-process processor, and a runner against them.
func newTestRunner(t *testing.T) *Runner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{Processor: stack.InProcess, Dir: t.TempDir(), Partitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r, err := NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, "P-SIM", DefaultMix, 1, report.NewRecorder(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Ledger.Stop)
	return r
}

var outcomeStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// playTwoSteps creates customer c in the first step and sends what second
// returns in the second, under a deadline far below the old 5-minute wait.
func playTwoSteps(t *testing.T, r *Runner, c *model.Customer, outcomeTimeout time.Duration, second func(time.Time) Action) (Action, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var sent Action
	step := 0
	began := time.Now()
	err := r.steps(ctx, LoadConfig{StepSim: time.Hour, Start: outcomeStart, End: outcomeStart.Add(2 * time.Hour), OutcomeTimeout: outcomeTimeout},
		[]*model.Customer{c}, func(now time.Time) ([]Action, error) {
			step++
			if step == 1 {
				a, err := r.Gen.Next(c, now)
				return []Action{a}, err
			}
			sent = second(now)
			return []Action{sent}, nil
		})
	if err != nil {
		t.Fatalf("the run did not reach its end: %v", err)
	}
	return sent, time.Since(began)
}

// A customer-portal command the processor rejects against the model's
// prediction is answered on the portal's subjects only: the run reports it
// (a mismatch naming the command, the rejection counted by its code) and
// goes on, rather than waiting for an answer it never gets.
func TestRun_AnUnexpectedRejectionOfACustomerCommandIsReportedNotWaitedFor(t *testing.T) {
	r := newTestRunner(t)
	c := r.Gen.NewCustomer("portal-C1")
	accept, took := playTwoSteps(t, r, c, 30*time.Second, func(time.Time) Action {
		// Nobody asked the customer for a relationship: rejected
		// no_relationship_request, where the model (Expected) says accepted.
		return Action{Customer: c, Partner: messages.CustomerActor, Role: messages.RoleCustomerAdmin, Kind: "transfer",
			Command: r.Gen.command(c, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: r.Gen.Target})}
	})
	s := r.Rec.Summary("test", time.Now())
	if s.Rejections["no_relationship_request"] != 1 {
		t.Errorf("rejections %v: want one no_relationship_request", s.Rejections)
	}
	if s.Mismatches != 1 || !strings.Contains(s.MismatchTexts[0], accept.Command.ID) || !strings.Contains(s.MismatchTexts[0], "rejected no_relationship_request") {
		t.Errorf("want one mismatch naming %s and its rejection, got %d: %v", accept.Command.ID, s.Mismatches, s.MismatchTexts)
	}
	if s.Lost != 0 || took >= 30*time.Second {
		t.Errorf("the rejection was waited for: %d lost, the run took %s", s.Lost, took)
	}
}

// A command that never gets an event is given up on at the run's
// deadline: counted lost in the report, named, and the run goes on to its
// end.
func TestRun_ACommandWithoutAnyEventIsCountedLostAtTheDeadline(t *testing.T) {
	r := newTestRunner(t)
	c := r.Gen.NewCustomer("lost-C1")
	elsewhere := r.Gen.NewCustomer("lost-C2")
	const deadline = 2 * time.Second
	sent, took := playTwoSteps(t, r, c, deadline, func(time.Time) Action {
		// Created by a partner whose events the ledger does not follow:
		// the processor answers, nobody here hears it.
		return Action{Customer: elsewhere, Partner: "P-ELSEWHERE", Kind: "create",
			Command: r.Gen.command(elsewhere, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
				CompanyName: "Elsewhere", Segment: "commercial", Country: "US", Currency: "USD"})}
	})
	s := r.Rec.Summary("test", time.Now())
	if s.Lost != 1 || s.Mismatches != 1 || !strings.Contains(s.MismatchTexts[0], sent.Command.ID) || !strings.Contains(s.MismatchTexts[0], "lost") {
		t.Fatalf("want command %s counted lost and named, got %d lost, %d mismatches: %v", sent.Command.ID, s.Lost, s.Mismatches, s.MismatchTexts)
	}
	if took < deadline {
		t.Fatalf("the run took %s, less than the %s deadline it had to wait", took, deadline)
	}
}
