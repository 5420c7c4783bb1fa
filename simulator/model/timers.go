package model

import (
	"fmt"
	"math/big"
	"time"
)

// AdvanceTo applies everything the calendar does to the customer's
// subscriptions up to and including t, in time order per subscription:
// billing periods inside a term (GEN-4: a period starts at 00:00 UTC the day
// after the previous one's end and is charged in full, also while
// suspended, SUS-3), term ends (REN-2: the renewal starts at 00:00 UTC the
// day after the end date and completes after the policy's processing time;
// REN-3: suspended or auto-renew off expires; TRI-1: a trial converts or
// expires). It returns the bills due.
func (m *Model) AdvanceTo(c *Customer, t time.Time) []Bill {
	var bills []Bill
	for i := 0; i < len(c.Subs); i++ { // conversions append subscriptions
		s := c.Subs[i]
		for s.Live() {
			at, what := s.nextDue()
			if at.After(t) {
				break
			}
			bills = append(bills, m.fire(c, s, at, what)...)
			c.Fired++
		}
	}
	return bills
}

type due int

const (
	duePeriod due = iota
	dueTermEnd
	dueRenewalComplete
)

func (s *Sub) nextDue() (time.Time, due) {
	at, what := s.calendarDue()
	return s.typedDue(at, what) // types.go: perpetual software, legacy data deletion
}

func (s *Sub) calendarDue() (time.Time, due) {
	if !s.RenewingUntil.IsZero() {
		return s.RenewingUntil, dueRenewalComplete
	}
	next := s.PeriodEnd.AddDate(0, 0, 1)
	if next.Before(s.termEndsAt()) {
		return next, duePeriod
	}
	return s.termEndsAt(), dueTermEnd
}

func (m *Model) fire(c *Customer, s *Sub, at time.Time, what due) []Bill {
	if (what == dueTermEnd || what == dueRenewalComplete) && !s.Is(TypeLegacy) {
		if fs := s.followers(); len(fs) > 0 {
			return m.fireWithFollowers(c, s, fs, at, what) // ORD-9 (addon_follow.go)
		}
	}
	return m.fireOwn(c, s, at, what)
}

// fireOwn is what the calendar does to s alone.
func (m *Model) fireOwn(c *Customer, s *Sub, at time.Time, what due) []Bill {
	if bills, done := m.fireTyped(s, at, what); done { // types.go: legacy while suspended
		return bills
	}
	switch what {
	case duePeriod:
		s.PeriodStart = s.PeriodEnd.AddDate(0, 0, 1)
		s.PeriodEnd = s.periodEndFrom(s.PeriodStart)
		var charge *big.Rat
		s.book, charge = s.book.nextPeriod(s.PeriodStart, s.PeriodEnd, s.Unit)
		b := bill(Charge, ReasonPeriod, RulePeriod, s, roundHalfUp(charge),
			fmt.Sprintf("billing period %s..%s", s.PeriodStart.Format(time.DateOnly), s.PeriodEnd.Format(time.DateOnly)))
		if s.Status == Suspended {
			b.Also = append(b.Also, RuleSuspendedPay)
		}
		return []Bill{s.Res.payFromPrepaid(b)}
	case dueTermEnd:
		switch {
		case s.Trial && s.AutoRenew:
			return m.convertTrial(c, s, at)
		case s.Trial, s.Status == Suspended, !s.AutoRenew:
			s.Status = Expired
			return nil
		}
		s.RenewingUntil = at.Add(time.Duration(m.cat.Policy.RenewalProcessingMinutes) * time.Minute)
		if s.RenewingUntil.Equal(at) {
			return m.renew(s, at)
		}
		return nil
	case dueRenewalComplete:
		bills := m.renew(s, at)
		m.drainParked(c, s, at) // REN-4: what waited for the renewal is decided now (renewal.go)
		return bills
	}
	return nil
}

// periodEndFrom is the end date of the billing period starting on start:
// start + one billing period - 1 day, never past the term's end.
func (s *Sub) periodEndFrom(start time.Time) time.Time {
	end := plusMonths(s.TermStart, s.periodIndexOf(start)+periodMonths(s.Freq, s.Term)).AddDate(0, 0, -1)
	if end.After(s.TermEnd) {
		return s.TermEnd
	}
	return end
}

// periodIndexOf is how many months after the term's start a period starts
// (periods are counted from the term start so that a clamped month end,
// Jan 31 → Feb 28, does not shift the later ones).
func (s *Sub) periodIndexOf(start time.Time) int {
	for k := 0; k <= 36; k += periodMonths(s.Freq, s.Term) {
		if plusMonths(s.TermStart, k).Equal(start) {
			return k
		}
	}
	return 0
}

// renew completes a renewal (REN-2): a new term from the day after the old
// end date, the current catalog price, every license in one new lot whose
// window opens now and which pays all the first period's days.
func (m *Model) renew(s *Sub, now time.Time) []Bill {
	also := m.applySchedule(s) // SCH-1: the scheduled plan, priced below
	if unit, ok := m.Price(s.Offer, s.Term, s.Freq, s.Currency); ok {
		s.Unit = unit
	}
	window := time.Duration(s.WindowHours) * time.Hour
	s.TermStart = s.termEndsAt()
	s.TermEnd = plusMonths(s.TermStart, months(s.Term)).AddDate(0, 0, -1)
	s.PeriodStart = s.TermStart
	s.PeriodEnd = s.periodEndFrom(s.TermStart)
	s.CancelUntil = now.Add(window)
	s.book = openBook(s.PeriodStart, s.PeriodEnd, now)
	charge := s.book.withPeriod(s.Qty, s.Unit, now, now.Add(window))
	s.RenewingUntil = time.Time{}
	b := bill(Charge, ReasonRenewal, RuleRenewal, s, roundHalfUp(charge),
		fmt.Sprintf("renewal of %d × %s %s/%s, term %s..%s", s.Qty, s.Offer, s.Term, s.Freq, s.TermStart.Format(time.DateOnly), s.TermEnd.Format(time.DateOnly)))
	b.Also = also
	return []Bill{b}
}

// convertTrial is TRI-1 at the trial's end with auto-renew on: a new paid
// subscription of the equivalent offer, its term starting now, charged
// for its first period in full; the trial ends.
func (m *Model) convertTrial(c *Customer, trial *Sub, now time.Time) []Bill {
	if trial.Conversion != nil {
		return m.convertScheduled(c, trial, now) // TRI-6 (trials.go)
	}
	trial.Status = Expired
	o, ok := m.cat.Offer(trial.Offer)
	if !ok || o.Trial == nil {
		return nil
	}
	spec := o.Trial
	unit, ok := m.Price(spec.PaidOfferID, spec.ConvertTerm, spec.ConvertBillingFrequency, c.Currency)
	if !ok {
		return nil
	}
	paid, charge := m.newSub(c, now, trial.OrderID, trial.LineID, spec.PaidOfferID, spec.ConvertTerm, spec.ConvertBillingFrequency, trial.Qty, unit)
	c.hold(paid)
	b := bill(Charge, ReasonConversion, RuleConversion, paid, roundHalfUp(charge),
		fmt.Sprintf("trial %s converted to %d × %s %s/%s", trial, paid.Qty, spec.PaidOfferID, spec.ConvertTerm, spec.ConvertBillingFrequency))
	b.Also = []string{RuleTrialFree} // ORD-10: at its end the trial becomes paid
	return []Bill{b}
}
