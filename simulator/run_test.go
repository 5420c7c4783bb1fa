package simulator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/model"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

// startRun brings up embedded NATS, a private redis-server and an
// in-process processor in simulation mode, and a runner against them.
func startRun(t *testing.T, seed uint64) *simulator.Runner {
	t.Helper()
	r, _ := startRunOnStack(t, seed)
	return r
}

// startRunOnStack is startRun that also returns the stack.
func startRunOnStack(t *testing.T, seed uint64) (*simulator.Runner, *stack.Stack) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	st, err := stack.Start(ctx, stack.Options{Processor: stack.InProcess, Dir: t.TempDir(), Partitions: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r, err := simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, "P-SIM", simulator.DefaultMix, seed, report.NewRecorder(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Ledger.Stop)
	return r, st
}

var simStart = time.Date(2026, 1, 30, 1, 17, 0, 0, time.UTC) // month ends and odd hours on purpose

// Every kind of command in the mix, over four simulated months of 80
// customers (purchases, increases, decreases in and out of their window,
// suspensions, cancellations in and out of the window, upgrades, trials
// converting, renewals, monthly billing periods): every outcome and every
// amount agrees with the billing system's own model.
func TestLoad_FourMonthsOfCustomersAgreeWithTheIndependentModel(t *testing.T) {
	r := startRun(t, 1)
	err := r.Run(context.Background(), simulator.LoadConfig{Customers: 80, CommandsPerStep: 30, StepSim: 7 * time.Hour,
		Start: simStart, End: simStart.AddDate(0, 4, 0), RunID: "t1", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Rec.Summary("test", time.Now())
	if s.Mismatches != 0 {
		t.Fatalf("%d ledger mismatches:\n%s", s.Mismatches, strings.Join(s.MismatchTexts, "\n"))
	}
	for _, k := range []string{"create", "buy", "trial", "increase", "decrease", "decrease_closed", "suspend", "reactivate",
		"autorenew_on", "autorenew_off", "cancel", "cancel_closed", "upgrade", "transfer",
		"schedule_set", "schedule_delete", "schedule_refused", "upgrade_renewal", "trial_convert", "trial_convert_into", "trial_schedule",
		"upgrade_partial", "upgrade_into",
		"reservation_buy", "reservation_cancel", "reservation_cancel_early", "reservation_exchange", "reservation_cap",
		"reservation_forbidden", "reservation_unavailable",
		"addon_buy", "addon_limit", "addon_change", "legacy_buy", "legacy_change", "marketplace_buy", "marketplace_unavailable",
		"marketplace_change", "software_buy", "software_cancel", "addon_base",
		"relationship_declined", "relationship_expired", "transfer_withdrawn", "transfer_rejected", "transfer_expired"} {
		if r.Kinds[k] == 0 {
			t.Errorf("no %s command was sent: %v", k, r.Kinds)
		}
	}
	for _, code := range []string{"cancellation_window_closed", "quantity_not_reducible", "schedule_not_allowed",
		"refund_cap_exceeded", "forbidden", "reservation_unavailable_in_market", "autorenew_locked", "offer_not_transactable",
		"offer_exclusive_to_other_partners", "addon_above_maximum", "base_needed_by_addon",
		"no_relationship", "no_relationship_request", "transfer_not_open"} { // TRF-3: late, declined, withdrawn, rejected, expired
		if s.Rejections[code] == 0 {
			t.Errorf("no %s rejection: %v", code, s.Rejections)
		}
	}
	for _, id := range []string{"CAN-5", "CAN-6"} { // reservations: cancellations and exchanges
		if r.CheckedBy["rule "+id] == 0 {
			t.Errorf("no %s billing event was checked: %v", id, r.CheckedBy)
		}
	}
	if r.Checked < 500 || s.Credits == 0 || s.Charges == 0 {
		t.Fatalf("only %d billing events checked (%d charges, %d credits)", r.Checked, s.Charges, s.Credits)
	}
	// TRF-3: transfers completed with the target's charge, and the moved
	// subscriptions went on billing the target (billing periods, renewals,
	// its own commands), each amount checked.
	if n := r.CheckedBy["reason "+model.ReasonTransfer]; n == 0 {
		t.Errorf("no transfer charge was checked: %v", r.CheckedBy)
	}
	if n, moved := r.CheckedBy["partner "+simulator.TransferTarget("P-SIM")], r.CheckedBy["reason "+model.ReasonTransfer]; n <= moved {
		t.Errorf("the target partner got %d checked bills for %d transfers: none after its transfer charges", n, moved)
	}
	// Every money rule the mix exercises was reached by a checked event
	// (model.MoneyRules says how each is attributed).
	for _, id := range []string{"ORD-10", "ORD-14", "QTY-1", "QTY-2", "CAN-1", "GEN-2", "GEN-3", "GEN-4", "REN-2", "UPG-3", "TRF-3", "TRI-1", "SUS-3",
		"UPG-4", "UPG-5", "SCH-1", "SCH-2", "SCH-3", "TRI-2", "TRI-5", "TRI-6",
		"ORD-9", "CAN-3", "CAN-4", "SUS-2"} {
		if r.CheckedBy["rule "+id] == 0 {
			t.Errorf("no checked event reached %s: %v", id, r.CheckedBy)
		}
	}
	t.Logf("%d commands, %d billing events checked (%v), kinds %v, rejections %v", s.Sent, r.Checked, r.CheckedBy, r.Kinds, s.Rejections)
}

// A billing system that booked one credit one cent higher than the
// processor sent must fail the run, naming the command.
func TestLedger_OneWrongCreditFailsTheRunNamingItsCommand(t *testing.T) {
	r := startRun(t, 2)
	var corrupted string
	r.Ledger.Corrupt = func(e *simulator.Entry) {
		if corrupted == "" && e.Kind == "credit" {
			corrupted = e.CommandID
			e.Bill.AmountMinor++
		}
	}
	err := r.Run(context.Background(), simulator.LoadConfig{Customers: 40, CommandsPerStep: 20, StepSim: 7 * time.Hour,
		Start: simStart, End: simStart.AddDate(0, 0, 20), RunID: "t2", Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Rec.Summary("test", time.Now())
	if corrupted == "" {
		t.Fatal("no credit was booked")
	}
	if s.Mismatches != 1 || !strings.Contains(s.MismatchTexts[0], corrupted) {
		t.Fatalf("want exactly one mismatch naming command %s, got %d: %v", corrupted, s.Mismatches, s.MismatchTexts)
	}
}
