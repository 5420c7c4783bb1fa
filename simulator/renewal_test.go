package simulator_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cspreseller/csp-processor/simulator"
)

// Commands at 00:17 inside a renewal's processing window (REN-4, story
// 05): parked, their amounts booked when the renewal completes during the
// next clock move and checked then against the model — the increase's
// 1392, the cancel's 2784, the upgrade's 2784 credit and 10208 charge,
// each also counted for REN-4 — and auto-renew refused renewal_pending.
func TestRule_REN_4_ParkedCommandsAreCheckedWhenTheRenewalCompletes(t *testing.T) {
	sc, err := simulator.LoadScenario("scenarios/05-commands-inside-a-renewal.json")
	if err != nil {
		t.Fatal(err)
	}
	r := startRun(t, 51)
	var bills []simulator.Entry
	r.Ledger.Corrupt = func(e *simulator.Entry) { bills = append(bills, *e) } // receive holds the ledger's lock
	s := runScenario(t, r, sc, "ren4")
	if s.Mismatches != 0 {
		t.Fatalf("%d mismatches:\n%s", s.Mismatches, strings.Join(s.MismatchTexts, "\n"))
	}
	var parked []string
	for _, e := range bills {
		if e.CommandType != "timer.fired" && e.Bill.Reason != "purchase" {
			parked = append(parked, e.Kind+" "+e.Bill.Reason+" "+itoa(e.Bill.AmountMinor))
		}
	}
	// Each subscription's renewal completes by its own timer: the order
	// between subscriptions is the timers', not the commands'.
	slices.Sort(parked)
	want := []string{"charge quantity_increase 1392", "charge upgrade 10208", "credit cancellation 2784", "credit upgrade 2784"}
	if !slices.Equal(parked, want) {
		t.Fatalf("parked commands' bills %v, want %v", parked, want)
	}
	if r.CheckedBy["rule REN-4"] != 4 || s.Rejections["renewal_pending"] != 1 {
		t.Fatalf("REN-4 checked %d times, rejections %v", r.CheckedBy["rule REN-4"], s.Rejections)
	}
}

// A parked command's amount that disagrees with the model fails the run
// naming that command, although it arrived a step after the command.
func TestRule_REN_4_OneWrongParkedCreditIsAMismatchNamingItsCommand(t *testing.T) {
	sc, err := simulator.LoadScenario("scenarios/05-commands-inside-a-renewal.json")
	if err != nil {
		t.Fatal(err)
	}
	r := startRun(t, 52)
	var corrupted string
	r.Ledger.Corrupt = func(e *simulator.Entry) {
		if e.Bill.Reason == "cancellation" {
			corrupted = e.CommandID
			e.Bill.AmountMinor++
		}
	}
	s := runScenario(t, r, sc, "ren4w")
	if corrupted == "" || s.Mismatches != 1 || !strings.Contains(s.MismatchTexts[0], "command "+corrupted+" ") ||
		!strings.Contains(s.MismatchTexts[0], "2785") {
		t.Fatalf("want one mismatch naming command %q and 2785, got %d: %v", corrupted, s.Mismatches, s.MismatchTexts)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
