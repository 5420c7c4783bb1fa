package simulator

import (
	"github.com/cspreseller/csp-processor/simulator/model"
)

// deferral checks that a command was deferred (REN-4) exactly when the
// model parked it, and keeps a parked one until the model settles it. It
// reports false on a mismatch.
func (r *Runner) deferral(a Action, res *CommandResult) bool {
	if res.Deferred != a.Expected.Deferred {
		r.mismatch(a.Customer, "command %s (%s %s) %s, the model expected it %s", a.Command.ID, a.Kind, a.Command.Type,
			deferred(res.Deferred), deferred(a.Expected.Deferred))
		return false
	}
	if p := a.Expected.Parked; p != nil {
		if r.parked == nil {
			r.parked = map[*model.Parked]Action{}
		}
		r.parked[p] = a
		r.Deferred++
	}
	return true
}

func deferred(d bool) string {
	if d {
		return "deferred"
	}
	return "answered at once"
}

// reconcileSettled compares what parked commands did when their renewal
// completed — their events came during the clock move after the step that
// sent them — with what the model decided for them then: the outcome and
// every bill, as for any command. Their bills also count for REN-4 (the
// model's bills carry it in Also).
func (r *Runner) reconcileSettled(settled []*model.Parked) {
	ids := make([]string, 0, len(settled))
	actions := make([]Action, 0, len(settled))
	for _, p := range settled {
		a, ok := r.parked[p]
		if !ok { // its deferral was not reconciled: the customer had diverged
			continue
		}
		delete(r.parked, p)
		ids = append(ids, a.Command.ID)
		a.Expected, a.Expect = p.Outcome, nil
		actions = append(actions, a)
	}
	results := r.Ledger.takeSettled(ids)
	for _, a := range actions {
		if r.diverged[a.Customer.ID] {
			continue
		}
		res := results[a.Command.ID]
		if res == nil {
			r.mismatch(a.Customer, "parked command %s (%s) has no result after its renewal", a.Command.ID, a.Kind)
			continue
		}
		if res.Rejected != a.Expected.Rejected {
			r.mismatch(a.Customer, "parked command %s (%s %s) %s when its renewal completed, the model expected %s",
				a.Command.ID, a.Kind, a.Command.Type, outcome(res.Rejected), outcome(a.Expected.Rejected))
			continue
		}
		r.Settled++
		r.compareCommandBills(a, res.Bills)
	}
}

// expected names the model's prediction of a command's first answer.
func expected(o model.Outcome) string {
	if o.Deferred {
		return "deferred (REN-4)"
	}
	return outcome(o.Rejected)
}
