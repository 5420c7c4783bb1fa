package simulator

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// reconcile compares what the step's commands and the calendar produced
// with the model: every command's outcome (accepted or its rejection
// code) and every billing event, missing, extra or of a different amount.
// A customer whose books disagree once is reported and left alone after
// (its later predictions would follow from a state the processor does not
// have).
func (r *Runner) reconcile(actions []Action, timerBills []model.Bill) {
	ids := make([]string, len(actions))
	for i, a := range actions {
		ids[i] = a.Command.ID
	}
	results, timerEntries, created := r.Ledger.take(ids)
	for _, a := range actions {
		c := a.Customer
		res := results[a.Command.ID]
		if res == nil {
			r.mismatch(c, "command %s (%s) has no result", a.Command.ID, a.Kind)
			continue
		}
		if res.Lost {
			r.Rec.Lost(fmt.Sprintf("customer %s: command %s (%s %s) got no event in time: lost", c.ID, a.Command.ID, a.Kind, a.Command.Type))
			r.diverged[c.ID] = true
			continue
		}
		if res.Rejected != "" && len(res.TransferredSubs) > 0 {
			r.mismatch(c, "command %s (%s %s) was refused with %s yet created subscriptions %v for the target", a.Command.ID, a.Kind,
				a.Command.Type, res.Rejected, res.TransferredSubs)
			continue
		}
		if res.Rejected != a.Expected.Rejected {
			r.mismatch(c, "command %s (%s %s) %s, the model expected %s", a.Command.ID, a.Kind, a.Command.Type,
				outcome(res.Rejected), outcome(a.Expected.Rejected))
			continue
		}
		if !r.deferral(a, res) {
			continue
		}
		if a.Expect != nil && *a.Expect != res.Rejected {
			r.mismatch(c, "command %s (%s): the scenario expected %s, got %s", a.Command.ID, a.Kind, outcome(*a.Expect), outcome(res.Rejected))
		}
		if a.Sub != nil && a.Sub.ID == "" && res.Rejected == "" {
			if a.Command.Type == messages.CmdTransferSubmit && len(res.TransferredSubs) == 1 {
				a.Sub.ID = res.TransferredSubs[0]
			} else {
				a.Sub.ID = res.OrderSubs[a.Sub.LineID]
			}
		}
		learnCreated(a, res)
		if !r.reservationResult(a, res) {
			continue
		}
		r.compareCommandBills(a, res.Bills)
	}

	type key struct{ sub, kind, reason, period string }
	actual := map[key][]Entry{}
	for _, e := range timerEntries {
		k := key{e.Bill.SubscriptionID, e.Kind, e.Bill.Reason, e.Bill.PeriodStart}
		actual[k] = append(actual[k], e)
	}
	for _, b := range timerBills {
		if b.Sub.ID == "" {
			b.Sub.ID = created[subKey(b.Sub.OrderID, b.Sub.LineID, b.Sub.Offer)]
		}
		k := key{b.Sub.ID, string(b.Kind), b.Reason, b.PeriodStart.Format(time.DateOnly)}
		got := actual[k]
		cust := b.Sub.Customer
		if len(got) == 0 {
			r.mismatchID(cust, "missing %s %s %d %s on subscription %s for the period from %s (%s)",
				b.Kind, b.Reason, b.Amount, b.Currency, b.Sub, k.period, b.Cause)
			continue
		}
		e := got[0]
		actual[k] = got[1:]
		r.checked(b)
		if e.Bill.AmountMinor != b.Amount || e.Bill.Currency != b.Currency || e.Bill.Rule != b.Rule {
			r.mismatchID(cust, "wrong %s %s on subscription %s (event %s, command %s): %d %s by %s, the model says %d %s by %s (%s)",
				b.Kind, b.Reason, b.Sub, e.EventID, e.CommandID, e.Bill.AmountMinor, e.Bill.Currency, rule(e.Bill.Rule),
				b.Amount, b.Currency, rule(b.Rule), b.Cause)
		}
	}
	for _, rest := range actual {
		for _, e := range rest {
			if r.diverged[e.CustomerID] {
				continue
			}
			r.mismatchID(e.CustomerID, "unexpected %s %s %d %s on subscription %s (event %s, timer command %s): the model expected none",
				e.Kind, e.Bill.Reason, e.Bill.AmountMinor, e.Bill.Currency, e.Bill.SubscriptionID, e.EventID, e.CommandID)
		}
	}
}

func (r *Runner) compareCommandBills(a Action, got []Entry) {
	want := a.Expected.Bills
	if len(want) == 0 && len(got) == 0 && a.Expected.Free != "" {
		r.ruleChecked(a.Expected.Free) // the command's rule says it bills nothing, and it did not
	}
	for i := 0; i < max(len(want), len(got)); i++ {
		switch {
		case i >= len(got):
			b := want[i]
			r.mismatch(a.Customer, "command %s (%s) is missing %s %s %d %s on %s (%s)", a.Command.ID, a.Kind, b.Kind, b.Reason, b.Amount, b.Currency, b.Sub, b.Cause)
		case i >= len(want):
			e := got[i]
			r.mismatch(a.Customer, "command %s (%s) produced an unexpected %s %s %d %s on %s (event %s)", a.Command.ID, a.Kind, e.Kind, e.Bill.Reason, e.Bill.AmountMinor, e.Bill.Currency, e.Bill.SubscriptionID, e.EventID)
		default:
			b, e := want[i], got[i]
			r.checked(b)
			if e.Kind != string(b.Kind) || e.Bill.Reason != b.Reason || e.Bill.AmountMinor != b.Amount || e.Bill.Currency != b.Currency ||
				e.Bill.Rule != b.Rule || (b.Sub.ID != "" && e.Bill.SubscriptionID != b.Sub.ID) {
				r.mismatch(a.Customer, "command %s (%s %s): %s %s %d %s by %s on %s (event %s), the model says %s %s %d %s by %s on %s (%s)",
					a.Command.ID, a.Kind, a.Command.Type, e.Kind, e.Bill.Reason, e.Bill.AmountMinor, e.Bill.Currency, rule(e.Bill.Rule),
					e.Bill.SubscriptionID, e.EventID, b.Kind, b.Reason, b.Amount, b.Currency, rule(b.Rule), b.Sub, b.Cause)
			}
		}
	}
}

// checked counts a billing event compared with the model's bill b.
func (r *Runner) checked(b model.Bill) {
	r.Checked++
	if r.CheckedBy == nil {
		r.CheckedBy = map[string]int64{}
	}
	r.CheckedBy["reason "+b.Reason]++
	r.CheckedBy["partner "+b.Sub.Partner]++
	r.ruleChecked(b.Rule)
	for _, id := range b.Also {
		r.ruleChecked(id)
	}
}

// ruleChecked counts a checked event (or a checked absence of one, see
// model.Outcome.Free) as reaching the money rule id (model.MoneyRules says
// how each is attributed).
func (r *Runner) ruleChecked(id string) {
	if id == "" {
		return
	}
	if r.CheckedBy == nil {
		r.CheckedBy = map[string]int64{}
	}
	r.CheckedBy["rule "+id]++
	r.Rec.RuleChecked(id)
}

func rule(id string) string {
	if id == "" {
		return "no rule"
	}
	return "rule " + id
}

func outcome(code string) string {
	if code == "" {
		return "accepted"
	}
	return "rejected " + code
}

func (r *Runner) mismatch(c *model.Customer, format string, args ...any) {
	r.mismatchID(c.ID, format, args...)
}

func (r *Runner) mismatchID(customer, format string, args ...any) {
	r.Rec.Mismatch(fmt.Sprintf("customer %s: ", customer) + fmt.Sprintf(format, args...))
	r.diverged[customer] = true
}
