package rules

import (
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/cspreseller/csp-processor/messages"
)

// REN-4 Decision: a command that conflicts with a pending renewal is not
// lost and not rejected at once. It is parked with the customer's state and
// applied, in arrival order, as soon as the renewal completes; a retry
// timer backs off exponentially (cenkalti/backoff, no jitter so a decision
// made twice sets the same timers) and, past the policy's bound, rejects
// what is still parked with conflict. While a subscription has parked
// commands, every later command for it is parked behind them, so commands
// for one subscription keep their order.

// TimerRetryParked retries parked commands.
const TimerRetryParked = "retry_parked"

// ParkedCommand is a command kept until a pending renewal completes.
type ParkedCommand struct {
	CommandID      string               `json:"command_id"`
	Type           messages.CommandType `json:"type"`
	PartnerID      string               `json:"partner_id"`
	Role           messages.Role        `json:"role,omitempty"`
	SubscriptionID string               `json:"subscription_id"`
	// Body is the command as the codec encodes it.
	Body     []byte    `json:"body"`
	ParkedAt time.Time `json:"parked_at"`
}

// parkedBefore parks a command for a subscription that already has parked
// commands, behind them. It reports whether it did.
func (d *decision) parkedBefore() bool {
	sub := targetSubscription(d.in.Command.Type, d.in.Command.Data)
	if sub == "" || !d.hasParked(sub) {
		return false
	}
	s, ok := d.subscriptionOfPartner(sub)
	if ok {
		d.park(s)
	}
	return true
}

func (d *decision) hasParked(subscriptionID string) bool {
	for _, p := range d.state.Parked {
		if p.SubscriptionID == subscriptionID {
			return true
		}
	}
	return false
}

// retryBound is how long a parked command may wait (0: never park).
func (d *decision) retryBound() time.Duration {
	return time.Duration(d.in.Catalog.Policy.ConflictRetryMinutes) * time.Minute
}

// park keeps the command being decided and announces it with
// command.deferred.
func (d *decision) park(s *Subscription) {
	body, err := messages.EncodeCommand(d.in.Command)
	if err != nil { // a decoded command always encodes; answer rather than panic
		d.reject(reject(CodeConflict, "REN-4", err.Error(), nil))
		return
	}
	first := len(d.state.Parked) == 0
	d.state.Parked = append(d.state.Parked, ParkedCommand{CommandID: d.in.Command.ID, Type: d.in.Command.Type,
		PartnerID: d.in.PartnerID, Role: d.in.Role, SubscriptionID: s.ID, Body: body, ParkedAt: d.in.Now})
	d.parkedStored()
	if first {
		d.scheduleRetry(s.ID, 0)
	}
	d.emit(messages.EvtCommandDeferred, &messages.CommandDeferredEvent{
		Code: CodeConflict, Rule: "REN-4", RetryUntil: d.in.Now.Add(d.retryBound()),
		Description: fmt.Sprintf("subscription %s is renewing; the command is kept and applied when the renewal completes", s.ID),
	})
}

// scheduleRetry sets the retry timer for the attempt-th retry: the initial
// interval doubled attempt times, capped at the bound.
func (d *decision) scheduleRetry(subscriptionID string, attempt int) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Duration(d.in.Catalog.Policy.ConflictRetryInitialSeconds) * time.Second
	b.RandomizationFactor = 0
	b.Multiplier = 2
	b.MaxInterval = d.retryBound()
	b.MaxElapsedTime = 0
	b.Reset()
	delay := b.NextBackOff()
	for range attempt {
		delay = b.NextBackOff()
	}
	due := d.in.Now.Add(delay)
	d.setTimer(&Timer{ID: fmt.Sprintf("T.%s.%d.%d", TimerRetryParked, attempt, due.UnixNano()), Kind: TimerRetryParked,
		SubscriptionID: subscriptionID, PartnerID: messages.SystemPartner, DueAt: due, Attempt: attempt})
}

// retryParked runs when the retry timer fires: parked commands whose
// subscription no longer renews are applied in order; those still waiting
// past the bound are rejected with conflict; the rest wait for the next
// retry.
func (d *decision) retryParked(attempt int) {
	var keep []ParkedCommand
	for _, p := range d.takeParked(func(ParkedCommand) bool { return true }) {
		s := d.state.Subscriptions[p.SubscriptionID]
		switch {
		case s == nil || s.RenewalPendingSince == nil:
			d.applyParked(p)
		case !d.in.Now.Before(p.ParkedAt.Add(d.retryBound())):
			d.rejectParked(p, s)
		default:
			keep = append(keep, p)
		}
	}
	if len(keep) > 0 {
		d.state.Parked = append(keep, d.state.Parked...)
		d.parkedStored()
		d.scheduleRetry(keep[0].SubscriptionID, attempt+1)
	}
}

// parkedStored records how the parked list is stored after a change: set
// when commands remain, deleted when none do, never both. takeParked
// removes commands (and, when none remain, marks the field deleted) before
// some of them are put back (a retry while the renewal is still pending);
// a commit that both sets and deletes a field is refused
// (state.Commit.check), the command would be retried forever and its
// partition would stall.
func (d *decision) parkedStored() {
	d.changed = withoutField(d.changed, fieldParked)
	d.deleted = withoutField(d.deleted, fieldParked)
	if len(d.state.Parked) > 0 {
		d.changed = append(d.changed, fieldParked)
	} else {
		d.deleted = append(d.deleted, fieldParked)
	}
}

func withoutField(fields []string, f string) []string {
	out := fields[:0:0]
	for _, g := range fields {
		if g != f {
			out = append(out, g)
		}
	}
	return out
}

// drainParked applies a subscription's parked commands once its renewal
// completed (REN-4).
func (d *decision) drainParked(subscriptionID string) {
	for _, p := range d.takeParked(func(p ParkedCommand) bool { return p.SubscriptionID == subscriptionID }) {
		d.applyParked(p)
	}
	if len(d.state.Parked) == 0 {
		for id, t := range d.state.Timers {
			if t.Kind == TimerRetryParked {
				d.deleteTimer(id)
			}
		}
	}
}

// takeParked removes and returns the parked commands that match, keeping
// the order of the rest.
func (d *decision) takeParked(match func(ParkedCommand) bool) []ParkedCommand {
	var taken, rest []ParkedCommand
	for _, p := range d.state.Parked {
		if match(p) {
			taken = append(taken, p)
		} else {
			rest = append(rest, p)
		}
	}
	if len(taken) == 0 {
		return nil
	}
	d.state.Parked = rest
	d.parkedStored()
	return taken
}

// applyParked decides a parked command now, against the current state,
// and merges its outcome; its events name it as their cause.
func (d *decision) applyParked(p ParkedCommand) {
	cmd, err := messages.DecodeCommand(messages.Route{CustomerID: d.in.Command.CustomerID, Type: p.Type}, p.Body)
	if err != nil {
		d.emitCaused(p, messages.EvtCommandRejected, &messages.CommandRejectedEvent{Rejection: *reject(CodeInvalidCommand, "GEN-6", err.Error(), nil)})
		return
	}
	out := decide(Input{Command: cmd, PartnerID: p.PartnerID, Role: p.Role, Now: d.in.Now, State: d.state, Catalog: d.in.Catalog},
		d.eventCmdID, d.eventBase+len(d.events))
	for _, e := range out.Events {
		e.CauseID, e.CauseType = p.CommandID, p.Type
		d.events = append(d.events, e)
	}
	if out.Rejected == nil {
		d.state = out.State
		d.mergeFields(out.Changed, out.Deleted)
		d.timersSet = append(d.timersSet, out.TimersSet...)
		d.activity = append(d.activity, out.ActivityAppended...)
	}
}

// mergeFields adds a parked command's changed and deleted fields to this
// decision's: the later word on a field wins, so that no field is both set
// and deleted, which the commit script refuses (state.Commit.check). A
// parked cancel applied when the renewal completes deletes the term timers
// the renewal has just set: they are then only deleted (removing a field
// never stored is harmless); a field deleted here and set by the parked
// command is only set.
func (d *decision) mergeFields(changed, deleted []string) {
	for _, f := range changed {
		d.deleted = withoutField(d.deleted, f)
	}
	for _, f := range deleted {
		d.changed = withoutField(d.changed, f)
	}
	d.changed = append(d.changed, changed...)
	d.deleted = append(d.deleted, deleted...)
}

func (d *decision) rejectParked(p ParkedCommand, s *Subscription) {
	d.emitCaused(p, messages.EvtCommandRejected, &messages.CommandRejectedEvent{Rejection: *reject(CodeConflict, "REN-4",
		fmt.Sprintf("subscription %s was still renewing after %v; retry the command", s.ID, d.retryBound()),
		map[string]string{"subscription_id": s.ID, "parked_at": p.ParkedAt.Format(time.RFC3339Nano)})})
}

func (d *decision) emitCaused(p ParkedCommand, t messages.EventType, data any) {
	d.events = append(d.events, EventDraft{Type: t, PartnerID: p.PartnerID, Data: data, CauseID: p.CommandID, CauseType: p.Type})
}
