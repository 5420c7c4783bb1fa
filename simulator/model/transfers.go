package model

import (
	"fmt"
	"time"
)

// The lifecycle of relationship requests and transfers (TRF-1, TRF-3)
// as the model expects it, written from the contract (messages/README.md)
// rather than from the processor's code. None of these steps moves money:
// the model's part is to say which answer each command gets, so that a
// step in the wrong state (a withdrawn, rejected, declined or expired
// request answered late) is refused and books nothing.

// Lifecycle states, as the events name them.
const (
	StatePending   = "pending"
	StateAccepted  = "accepted"
	StateDeclined  = "declined"
	StateRequested = "requested"
	StateRejected  = "rejected"
	StateWithdrawn = "withdrawn"
	StateExpired   = "expired"
	StateCompleted = "completed"
)

// Rejection codes of the lifecycle.
const (
	RejectNoRelationship        = "no_relationship"
	RejectNoRelationshipRequest = "no_relationship_request"
	RejectTransferNotOpen       = "transfer_not_open"
)

// Ask is one partner's relationship request.
type Ask struct {
	State string
	// Deadline is the end of the customer's time to answer; zero: none.
	Deadline time.Time
}

// TransferReq is one transfer between partners.
type TransferReq struct {
	ID, Target, Source string
	State              string
	Deadline           time.Time
}

// open reports whether an answer at now finds the request still waiting:
// the deadline is the first instant it is no longer answerable.
func open(state, waiting string, deadline, now time.Time) bool {
	return state == waiting && (deadline.IsZero() || deadline.After(now))
}

// deadline is now plus the policy's days of 24 hours; zero when the
// policy sets none.
func deadline(now time.Time, days int) time.Time {
	if days <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(days*24) * time.Hour)
}

// age moves a request past its deadline to expired, as the processor's
// expiry timer does (or the overdue timer fired before a command, G7).
func age(state *string, waiting string, dl, now time.Time) {
	if *state == waiting && !dl.IsZero() && !dl.After(now) {
		*state = StateExpired
	}
}

// AskRelationship: partner asks the customer for a relationship.
func (m *Model) AskRelationship(c *Customer, partner string, now time.Time) Outcome {
	if c.Asks == nil {
		c.Asks = map[string]*Ask{}
	}
	c.Asks[partner] = &Ask{State: StatePending, Deadline: deadline(now, m.cat.Policy.RelationshipRequestExpiryDays)}
	return Outcome{}
}

// AskDeadline is when partner's request stops being answerable (zero:
// never, or no request).
func (c *Customer) AskDeadline(partner string) time.Time {
	if a := c.Asks[partner]; a != nil {
		return a.Deadline
	}
	return time.Time{}
}

// AnswerRelationship: the customer accepts or declines partner's request.
// A request past its deadline has expired: there is nothing to answer.
func (m *Model) AnswerRelationship(c *Customer, partner string, accept bool, now time.Time) Outcome {
	a := c.Asks[partner]
	if a == nil {
		return Outcome{Rejected: RejectNoRelationshipRequest}
	}
	age(&a.State, StatePending, a.Deadline, now)
	if !open(a.State, StatePending, a.Deadline, now) {
		return Outcome{Rejected: RejectNoRelationshipRequest}
	}
	a.State = StateDeclined
	if accept {
		a.State = StateAccepted
	}
	return Outcome{Free: RuleTransfer}
}

// RequestTransfer: the target asks the customer's partner for a transfer.
// Only a partner whose relationship was accepted may (PTN-1).
func (m *Model) RequestTransfer(c *Customer, id, target string, now time.Time) Outcome {
	if a := c.Asks[target]; a == nil || a.State != StateAccepted {
		return Outcome{Rejected: RejectNoRelationship}
	}
	if c.Requests == nil {
		c.Requests = map[string]*TransferReq{}
	}
	c.Requests[id] = &TransferReq{ID: id, Target: target, Source: c.Partner, State: StateRequested,
		Deadline: deadline(now, m.cat.Policy.TransferRequestExpiryDays)}
	return Outcome{}
}

// TransferDeadline is when a transfer stops being answerable (zero:
// never, or no transfer).
func (c *Customer) TransferDeadline(id string) time.Time {
	if r := c.Requests[id]; r != nil {
		return r.Deadline
	}
	return time.Time{}
}

// TransferOpen reports whether the transfer still waits for an answer at
// now; an answer then is decided (withdraw, reject, submit), any other is
// transfer_not_open.
func (m *Model) TransferOpen(c *Customer, id string, now time.Time) bool {
	r := c.Requests[id]
	if r == nil {
		return false
	}
	age(&r.State, StateRequested, r.Deadline, now)
	return open(r.State, StateRequested, r.Deadline, now)
}

// CloseTransfer answers a transfer without moving anything: the target
// withdraws it or the source rejects it. No money either way (TRF-3).
func (m *Model) CloseTransfer(c *Customer, id, state string, now time.Time) Outcome {
	if !m.TransferOpen(c, id, now) {
		return Outcome{Rejected: RejectTransferNotOpen}
	}
	c.Requests[id].State = state
	return Outcome{Free: RuleTransfer}
}

// SubmitClosed is a submission of a transfer that no longer waits: it is
// refused, creates no subscription and bills nothing.
func (m *Model) SubmitClosed(c *Customer, id string, now time.Time) (Outcome, error) {
	if m.TransferOpen(c, id, now) {
		return Outcome{}, fmt.Errorf("model: transfer %s of customer %s is still open at %s", id, c.ID, now.Format(time.RFC3339))
	}
	return Outcome{Rejected: RejectTransferNotOpen}, nil
}

// Completed records a transfer submitted and completed (Transfer).
func (c *Customer) Completed(id string) {
	if r := c.Requests[id]; r != nil {
		r.State = StateCompleted
	}
}
