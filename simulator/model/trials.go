package model

import (
	"fmt"
	"time"
)

// Trial conversions (TRI-1..TRI-6, ORD-10). A trial bills nothing
// (ORD-10); it becomes paid by a conversion:
//
//   - now (TRI-5), into a new subscription: the trial's paid offer or a
//     higher one on its upgrade paths (TRI-2), at least the trial's 25
//     licences, any plan the offer sells; the term starts on the
//     conversion date and its first billing period is charged in full at
//     the catalog's price, the licences coming with the period, as a
//     purchase's (ORD-14);
//   - now into an existing subscription of that offer ending on or after
//     the trial's end (TRI-4): the trial's 25 licences are bought into
//     its current billing period as licences added by an increase are
//     (QTY-1: the days not started when they are bought), at its own
//     price, reducible for its window; its scheduled changes are deleted
//     (SCH-3);
//   - scheduled for the trial's end (TRI-6, auto-renew on): any quantity,
//     into a new subscription or an existing one, applied at 00:00 UTC the
//     day after the trial's end date. If the existing target can no
//     longer take the licences then, they go into a new subscription of
//     the same offer and plan; without a scheduled conversion the default
//     one applies (TRI-1, timers.go); with auto-renew off the trial
//     expires.
//
// The trial ends (expired) when converted.

// Conversion is a trial's conversion stored for its end (TRI-6).
type Conversion struct {
	Offer      string
	Qty        int
	Term, Freq string
	// Target is the existing subscription the licences go into; nil: a
	// new subscription.
	Target *Sub
}

// Rule IDs of trial conversions.
const (
	RuleConvertNow       = "TRI-5"
	RuleConvertScheduled = "TRI-6"
	RuleConvertTarget    = "TRI-2" // the paid SKU, a higher one, or an existing subscription
	RuleConvertInto      = "TRI-4" // into an existing subscription ending on or after the trial
)

// ConvertNow is TRI-5 into a new subscription: the trial's licences (q ≥
// the trial's) become a paid subscription of offer on plan term/freq,
// charged for its first period in full. The new subscription's ID is
// learned from the command's subscription.created.
func (m *Model) ConvertNow(c *Customer, trial *Sub, now time.Time, offer, term, freq string, q int) (*Sub, Outcome, error) {
	unit, ok := m.Price(offer, term, freq, c.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", offer, term, freq, c.Currency)
	}
	paid, charge := m.newSub(c, now, trial.OrderID, trial.LineID, offer, term, freq, q, unit)
	paid.Partner = trial.Partner
	c.hold(paid)
	trial.Status, trial.AutoRenew, trial.Conversion = Expired, false, nil
	b := bill(Charge, ReasonConversion, RuleConvertNow, paid, roundHalfUp(charge),
		fmt.Sprintf("trial %s converted now to %d × %s %s/%s", trial, q, offer, term, freq))
	b.Also = []string{RuleConvertTarget}
	return paid, Outcome{Bills: []Bill{b}}, nil
}

// RejectConversionQuantity is TRI-5's rejection of an immediate conversion
// into a new subscription with fewer licences than the trial's.
const RejectConversionQuantity = "conversion_quantity_not_allowed"

// ConvertTooFew is an immediate conversion of fewer licences than the
// trial's (TRI-5: only a scheduled one may, TRI-6): rejected, nothing
// changes.
func (m *Model) ConvertTooFew() Outcome { return Outcome{Rejected: RejectConversionQuantity} }

// ConvertInto is TRI-5 into an existing subscription: the trial's licences
// are bought into target's current billing period at now.
func (m *Model) ConvertInto(trial, target *Sub, now time.Time) Outcome {
	b := m.buyInto(target, trial.Qty, now, RuleConvertNow,
		fmt.Sprintf("trial %s converted now into %s, %d licences", trial, target, trial.Qty))
	b.Also = append(b.Also, RuleConvertTarget, RuleConvertInto)
	trial.Status, trial.AutoRenew, trial.Conversion = Expired, false, nil
	return Outcome{Bills: []Bill{b}}
}

// buyInto adds n licences bought at now to s's current billing period (the
// days not started at now, at s's unit price, reducible for its window,
// QTY-1's proration) and deletes its scheduled changes (SCH-3).
func (m *Model) buyInto(s *Sub, n int, now time.Time, rule, cause string) Bill {
	window := time.Duration(s.WindowHours) * time.Hour
	charge := s.book.buy(n, s.Unit, now, now.Add(window))
	s.Qty += n
	s.dropSchedule()
	return prorated(bill(Charge, ReasonConversion, rule, s, roundHalfUp(charge), cause))
}

// ScheduleConversion is TRI-6: the conversion is stored on the trial
// (replacing an earlier one) and applied at its end; no money now. Into an
// existing target the plan is the target's (it keeps its own).
func (m *Model) ScheduleConversion(trial *Sub, cv Conversion) Outcome {
	if !trial.AutoRenew {
		return Outcome{Rejected: "conversion_needs_autorenew"}
	}
	if cv.Target != nil {
		cv.Term, cv.Freq = cv.Target.Term, cv.Target.Freq
	}
	trial.Conversion = &cv
	return Outcome{}
}

// CanTake tells whether target can take q licences converted from trial
// at its end or now (TRI-4, ORD-6): the trial partner's active paid
// subscription of the offer, on the plan the conversion named, ending on
// or after the trial's end date, with room for them.
func (m *Model) CanTake(trial, target *Sub, offer, term, freq string, q int) bool {
	o, ok := m.cat.Offer(offer)
	return ok && target.Status == Active && !target.Trial && target.ID != "" && target.Partner == trial.Partner &&
		target.Offer == offer && target.Term == term && target.Freq == freq &&
		!target.TermEnd.Before(trial.TermEnd) && q >= 1 && target.Qty+q <= o.MaxQuantity
}

// convertScheduled applies a trial's stored conversion at its end (TRI-6).
func (m *Model) convertScheduled(c *Customer, trial *Sub, now time.Time) []Bill {
	cv := trial.Conversion
	trial.Status, trial.AutoRenew, trial.Conversion = Expired, false, nil
	also := []string{RuleConvertTarget, RuleTrialFree}
	if t := cv.Target; t != nil && m.CanTake(trial, t, cv.Offer, cv.Term, cv.Freq, cv.Qty) {
		// Timers due at the same instant apply in the order of their
		// IDs, billing periods and renewal completions before term ends:
		// a target's billing period starting now starts before the
		// licences are bought into it.
		bills := m.advanceBefore(c, t, now)
		b := m.buyInto(t, cv.Qty, now, RuleConvertScheduled,
			fmt.Sprintf("trial %s converted at its end into %s, %d licences", trial, t, cv.Qty))
		b.Also = append(b.Also, also...)
		b.Also = append(b.Also, RuleConvertInto)
		return append(bills, b)
	}
	unit, ok := m.Price(cv.Offer, cv.Term, cv.Freq, c.Currency)
	if !ok {
		return nil
	}
	paid, charge := m.newSub(c, now, trial.OrderID, trial.LineID, cv.Offer, cv.Term, cv.Freq, cv.Qty, unit)
	paid.Partner = trial.Partner
	c.hold(paid)
	b := bill(Charge, ReasonConversion, RuleConvertScheduled, paid, roundHalfUp(charge),
		fmt.Sprintf("trial %s converted at its end to %d × %s %s/%s", trial, cv.Qty, cv.Offer, cv.Term, cv.Freq))
	b.Also = also
	return []Bill{b}
}

// advanceBefore fires s's calendar due before t, and at t what the
// processor applies before a term end of another subscription at t (a
// billing period, a renewal's completion).
func (m *Model) advanceBefore(c *Customer, s *Sub, t time.Time) []Bill {
	var bills []Bill
	for s.Live() {
		at, what := s.nextDue()
		if at.After(t) || at.Equal(t) && what == dueTermEnd {
			break
		}
		bills = append(bills, m.fire(c, s, at, what)...)
	}
	return bills
}
