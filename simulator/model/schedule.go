package model

// Scheduled changes (SCH-1..SCH-4) and what the renewal then charges
// (REN-2).
//
//   - schedule.set stores a change of offer (an upgrade), quantity, term
//     or billing frequency for the next renewal, only for an active
//     subscription with auto-renew on (SCH-2); fields named replace what
//     was stored, others keep it. A scheduled upgrade (subscription.upgrade
//     with when=renewal, UPG-7) stores the offer the same way.
//   - A mid-term cancel, turning auto-renew off (also by a suspension,
//     SUS-4), a quantity change, an upgrade now or a trial converted into
//     the subscription delete the stored changes (SCH-3).
//   - The renewal applies them before it prices the new term: the new
//     term's first billing period is charged in full at the catalog's
//     current price of the scheduled plan (offer, term, frequency) for
//     the scheduled quantity (REN-2). The catalog is fixed during a run,
//     so a plan scheduled is still sold at renewal (SCH-1's drop cannot
//     happen).
//   - SCH-4 (a scheduled upgrade whose quantity changes too is not
//     reassigned automatically) moves no money; the renewal bill counts
//     it.

// Schedule is what a subscription's next renewal changes; empty fields
// keep the subscription's own.
type Schedule struct {
	Offer      string
	Qty        int
	Term, Freq string
}

// Rejection codes of scheduled changes the model predicts.
const (
	RejectScheduleNotAllowed = "schedule_not_allowed"
	RejectNoScheduledChanges = "no_scheduled_changes"
)

// Rule IDs of scheduled changes.
const (
	RuleSchedule         = "SCH-1" // a scheduled change applied at renewal
	RuleScheduleAllowed  = "SCH-2" // stored because active with auto-renew on
	RuleScheduleDeleted  = "SCH-3" // deleted mid-term, the renewal charges the plan as it was
	RuleScheduleReassign = "SCH-4" // an upgrade whose quantity changes too
)

// Merged is the schedule s would store if ch were set on top of what it
// has (SCH-1: fields named replace, others keep).
func (s *Sub) Merged(ch Schedule) Schedule {
	var m Schedule
	if s.Scheduled != nil {
		m = *s.Scheduled
	}
	if ch.Offer != "" {
		m.Offer = ch.Offer
	}
	if ch.Qty != 0 {
		m.Qty = ch.Qty
	}
	if ch.Term != "" {
		m.Term = ch.Term
	}
	if ch.Freq != "" {
		m.Freq = ch.Freq
	}
	return m
}

// Plan is the offer, term, billing frequency and quantity the renewal
// would start with schedule sc.
func (s *Sub) Plan(sc Schedule) (offer, term, freq string, qty int) {
	offer, term, freq, qty = s.Offer, s.Term, s.Freq, s.Qty
	if sc.Offer != "" {
		offer = sc.Offer
	}
	if sc.Term != "" {
		term = sc.Term
	}
	if sc.Freq != "" {
		freq = sc.Freq
	}
	if sc.Qty != 0 {
		qty = sc.Qty
	}
	return offer, term, freq, qty
}

// SetSchedule is schedule.set (and a scheduled upgrade, UPG-7): SCH-2's
// preconditions, then ch merged into what is stored. The generator only
// sends changes the catalog can apply (an offer on the upgrade paths, a
// plan sold in the currency, a quantity within bounds); no money moves.
func (m *Model) SetSchedule(s *Sub, ch Schedule) Outcome {
	if s.Trial || s.Status != Active || !s.AutoRenew {
		return Outcome{Rejected: RejectScheduleNotAllowed}
	}
	sc := s.Merged(ch)
	s.Scheduled = &sc
	return Outcome{}
}

// DeleteSchedule is schedule.delete: no money, nothing to delete is
// rejected.
func (m *Model) DeleteSchedule(s *Sub) Outcome {
	if s.Scheduled == nil {
		return Outcome{Rejected: RejectNoScheduledChanges}
	}
	s.Scheduled = nil
	return Outcome{}
}

// dropSchedule is SCH-3: the command that calls it deletes the stored
// changes; the next renewal charges the plan as it is.
func (s *Sub) dropSchedule() {
	if s.Scheduled != nil {
		s.Scheduled = nil
		s.scheduleDropped = true
	}
}

// applySchedule applies the stored changes as the renewal starts (REN-2,
// SCH-1) and returns the rules the renewal's bill shows besides REN-2.
func (m *Model) applySchedule(s *Sub) []string {
	dropped := s.scheduleDropped
	s.scheduleDropped = false
	sc := s.Scheduled
	if sc == nil {
		if dropped {
			return []string{RuleScheduleDeleted}
		}
		return nil
	}
	s.Scheduled = nil
	also := []string{RuleSchedule, RuleScheduleAllowed}
	offer, term, freq, qty := s.Plan(*sc)
	if offer != s.Offer && qty != s.Qty {
		also = append(also, RuleScheduleReassign)
	}
	s.Offer, s.Term, s.Freq, s.Qty = offer, term, freq, qty
	s.WindowHours = m.windowHours(offer)
	return also
}
