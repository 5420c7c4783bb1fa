package model

import (
	"fmt"
	"time"
)

// REN-4: commands that land inside a renewal's processing window. A
// renewal is pending from 00:00 UTC the day after the term's end date
// until the policy's processing time has passed (REN-2, Sub.RenewingUntil).
// While it is pending:
//
//   - a quantity change, a cancellation and an upgrade conflict with it:
//     the command is parked (its first event is command.deferred, no money
//     yet) and decided again, at the instant the renewal completes, against
//     the renewed subscription — after the renewal's own REN-2 charge, with
//     the new term's window open and every licence reducible. Its bills
//     then come with the renewal, in the step after the one that sent it;
//   - auto-renew, suspend, reactivate and scheduled changes are read-only:
//     rejected renewal_pending, nothing changes (auto-renew stays on, so
//     the renewal charges as usual, REN-1);
//   - a command for a subscription that already has parked commands is
//     parked behind them, whatever it is, and decided in arrival order.
//
// The processor retries parked commands with a doubling timer and rejects
// with conflict those still parked conflict_retry_minutes after they were
// parked; with no retry time at all, a conflicting command is rejected
// with conflict at once.

// Rejection codes of REN-4.
const (
	RejectRenewalPending = "renewal_pending"
	RejectConflict       = "conflict"
	// RejectQuantityUnchanged: a parked quantity change that asks for the
	// count the renewal left (a scheduled quantity change applied by it).
	RejectQuantityUnchanged = "quantity_unchanged"
)

// RuleParked is the rule a parked command's bills show besides their own
// (a bill's Also, rules.go).
const RuleParked = "REN-4"

// Parked is a command kept until a pending renewal completes. The runner
// holds it from the command's deferral to its settlement: once Settled,
// Outcome is what the command did when it was decided again (or its
// conflict rejection).
type Parked struct {
	Sub      *Sub
	ParkedAt time.Time
	Settled  bool
	Outcome  Outcome
	// At is the instant it was settled.
	At    time.Time
	apply func(at time.Time) Outcome
}

// Renewing tells whether s's renewal is pending. The model's calendar has
// run up to the instant of the command being predicted (AdvanceTo), so a
// renewal still recorded is one that completes after it.
func (s *Sub) Renewing() bool { return !s.RenewingUntil.IsZero() }

// HasParked tells whether commands for s wait for its renewal.
func (s *Sub) HasParked() bool { return len(s.parked) > 0 }

// conflicting is REN-4 for a command that conflicts with a pending
// renewal (quantity, cancel, upgrade): ok is false when the command is
// decided now as usual; otherwise out is its outcome now — parked
// (Deferred), or conflict when the policy keeps no parked commands — and
// apply runs when the renewal completes.
func (m *Model) conflicting(s *Sub, now time.Time, apply func(time.Time) Outcome) (out Outcome, ok bool) {
	if !s.Renewing() && !s.HasParked() {
		return Outcome{}, false
	}
	if m.retryBound() == 0 && !s.HasParked() {
		return Outcome{Rejected: RejectConflict}, true
	}
	return m.park(s, now, apply), true
}

// readOnly is REN-4 for a setting (auto-renew, suspend, reactivate,
// scheduled changes): rejected renewal_pending while the renewal is
// pending, or parked behind commands already waiting for it. ok is false
// when the command is decided now as usual.
func (m *Model) readOnly(s *Sub, now time.Time, apply func(time.Time) Outcome) (out Outcome, ok bool) {
	switch {
	case s.HasParked():
		return m.park(s, now, apply), true
	case s.Renewing():
		return Outcome{Rejected: RejectRenewalPending}, true
	}
	return Outcome{}, false
}

// RenewalSetting predicts a setting the model does not otherwise decide
// (a scheduled change, a scheduled upgrade) sent while s renews: rejected
// renewal_pending. ok is false when s is not renewing; a subscription with
// parked commands is refused (the command would be parked behind them and
// decided by a rule the model does not have).
func (m *Model) RenewalSetting(s *Sub) (Outcome, bool) {
	if !s.Renewing() || s.HasParked() {
		return Outcome{}, false
	}
	return Outcome{Rejected: RejectRenewalPending}, true
}

func (m *Model) retryBound() time.Duration {
	return time.Duration(m.cat.Policy.ConflictRetryMinutes) * time.Minute
}

func (m *Model) park(s *Sub, now time.Time, apply func(time.Time) Outcome) Outcome {
	p := &Parked{Sub: s, ParkedAt: now, apply: apply}
	s.parked = append(s.parked, p)
	return Outcome{Deferred: true, Parked: p}
}

// conflictAt is when the processor gives up on a command parked at
// parkedAt, or the zero time when it is still parked when the renewal
// completes at done. Its retry timer fires the initial interval after the
// first command of the subscription was parked (first), then after each
// interval doubled, capped at the bound; a retry at or past parkedAt + bound
// rejects it. A retry due at the completion instant itself comes after it
// (the processor orders timers due at one instant by ID, and the renewal's
// comes first), so it finds nothing left to reject.
//
// Decision (of the model): the retry schedule is the subscription's own.
// The processor keeps one retry timer per customer; the two agree while
// one subscription of a customer at a time has parked commands, which the
// generator ensures (one command per customer per step, a step longer
// than the processing time).
func (m *Model) conflictAt(first, parkedAt, done time.Time) time.Time {
	bound := m.retryBound()
	delay := time.Duration(m.cat.Policy.ConflictRetryInitialSeconds) * time.Second
	if delay <= 0 {
		delay = time.Second
	}
	for at := first.Add(delay); at.Before(done); {
		if !at.Before(parkedAt.Add(bound)) {
			return at
		}
		delay = min(2*delay, bound)
		at = at.Add(delay)
	}
	return time.Time{}
}

// drainParked settles s's parked commands once its renewal completed at
// done (the renewal's own bill already made): those the processor gave up
// on before are rejected with conflict, the others are decided again now,
// in arrival order, and their bills show REN-4 besides their own rule.
// The settled commands are recorded on the customer for the runner
// (Settled).
func (m *Model) drainParked(c *Customer, s *Sub, done time.Time) {
	if len(s.parked) == 0 {
		return
	}
	first := s.parked[0].ParkedAt
	parked := s.parked
	s.parked = nil
	for _, p := range parked {
		p.Settled = true
		if at := m.conflictAt(first, p.ParkedAt, done); !at.IsZero() {
			p.Outcome, p.At = Outcome{Rejected: RejectConflict}, at
		} else {
			p.Outcome, p.At = p.apply(done), done
			for i := range p.Outcome.Bills {
				b := &p.Outcome.Bills[i]
				b.Also = append(b.Also, RuleParked)
				b.Cause = fmt.Sprintf("parked at %s, applied when the renewal completed: %s", p.ParkedAt.Format(time.RFC3339), b.Cause)
			}
		}
		c.settled = append(c.settled, p)
	}
}

// Settled hands over, and forgets, the customer's parked commands settled
// since the last call (by AdvanceTo).
func (m *Model) Settled(c *Customer) []*Parked {
	out := c.settled
	c.settled = nil
	return out
}

// lastParkedAt is the instant of the last command parked for s: a setting
// (suspend, reactivate, auto-renew) carries no instant into the model, and
// when one is parked behind others it arrived in the same renewal, after
// them; the instant only matters for a conflict rejection, which needs a
// processing time longer than the retry time.
func (s *Sub) lastParkedAt() time.Time {
	if len(s.parked) == 0 {
		return time.Time{}
	}
	return s.parked[len(s.parked)-1].ParkedAt
}

// changeParkedQuantity decides a parked quantity change when the renewal
// completes: as any quantity change then, except that asking for the
// count the subscription already has is rejected (the processor's
// quantity_unchanged; a scheduled change applied by the renewal can make
// it so).
func (m *Model) changeParkedQuantity(s *Sub, at time.Time, q int) Outcome {
	if q == s.Qty {
		return Outcome{Rejected: RejectQuantityUnchanged}
	}
	return m.ChangeQuantity(s, at, q)
}

// upgradeParked decides a parked upgrade when the renewal completes (the
// target's price was checked when it was parked and the catalog does not
// change during a run).
func (m *Model) upgradeParked(s *Sub, at time.Time, target string) Outcome {
	out, _ := m.UpgradeAll(s, at, target)
	return out
}
