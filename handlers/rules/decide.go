package rules

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/messages"
)

// Input is everything a decision may depend on. Decisions are pure: the
// same Input always gives the same Outcome, which is what lets a command
// redelivered after a crash be decided again with identical events.
type Input struct {
	Command messages.Command
	// PartnerID is the acting partner and Role the acting user's role,
	// taken from the subject the broker accepted the command on (never
	// from the body).
	PartnerID string
	Role      messages.Role
	// Now is the command's effective time (ARCHITECTURE G4).
	Now     time.Time
	State   CustomerState
	Catalog *catalog.Catalog
	// Partners is the partner registry (PTN-2..PTN-4, partners.go). nil
	// means no registry: every partner acts as a direct-bill partner (it
	// may sell and manage, and may name no reseller).
	Partners *partners.Registry
}

// EventDraft is an event before it gets its ID and envelope.
type EventDraft struct {
	Type messages.EventType
	// PartnerID receives the event (its subject's partner token).
	PartnerID string
	Data      any
	// CauseID and CauseType name the command the event answers when it is
	// not the command being decided: a command parked during a pending
	// renewal and applied later (REN-4). Empty otherwise.
	CauseID   string
	CauseType messages.CommandType
}

// Outcome is a decision: the new state, which entities changed or were
// deleted, the timers it set, and the events to emit. A rejected command
// has no changes and one command.rejected event.
type Outcome struct {
	State    CustomerState
	Changed  []string
	Deleted  []string
	Events   []EventDraft
	Rejected *messages.Rejection
	// TimersSet are the timers this decision created; the handler indexes
	// them for the scheduler before it commits (G7).
	TimersSet []*Timer
}

// Decide applies the rules for one command.
func Decide(in Input) Outcome { return decide(in, in.Command.ID, 0) }

// decide decides one command whose events take their IDs from eventCmdID,
// counting from eventBase: the command itself, or a timer command that
// applies parked commands (REN-4) and numbers all their events in one
// sequence.
func decide(in Input, eventCmdID string, eventBase int) Outcome {
	in.Now = in.Now.UTC()
	var d decision
	d.in = in
	d.eventCmdID, d.eventBase = eventCmdID, eventBase
	d.state = in.State.clone()
	if !d.systemBoundary() || !d.roleAllowed() || !d.partnerMayTransact() || d.softwareRefuses() || d.reservationRefuses() || d.parkedBefore() {
		return d.outcome()
	}
	switch data := in.Command.Data.(type) {
	case *messages.CustomerCreatedData:
		d.customerCreated(data)
	case *messages.OrderPlacedData:
		d.orderPlaced(data)
	case *messages.SuspendData:
		d.suspend(data)
	case *messages.ReactivateData:
		d.reactivate(data)
	case *messages.CancelData:
		d.cancel(data)
	case *messages.AutoRenewSetData:
		d.autoRenewSet(data)
	case *messages.QuantityChangeData:
		d.quantityChange(data)
	case *messages.UpgradeData:
		d.upgrade(data)
	case *messages.ScheduleSetData:
		d.scheduleSet(data)
	case *messages.ScheduleDeleteData:
		d.scheduleDelete(data)
	case *messages.TrialConvertData:
		d.trialConvert(data)
	case *messages.TimerFiredData:
		d.timerFired(data)
	default:
		if r, ok := extraRules[in.Command.Type]; ok {
			r.apply(&d, in.Command.Data)
			break
		}
		// The codec only produces known types; anything else is a
		// programming error, answered as a rejection rather than a panic.
		d.reject(reject(CodeInvalidCommand, "GEN-6", fmt.Sprintf("command type %q has no rules", in.Command.Type), nil))
	}
	return d.outcome()
}

// decision accumulates one command's effects.
type decision struct {
	in         Input
	eventCmdID string
	eventBase  int
	state      CustomerState
	changed    []string
	deleted    []string
	timersSet  []*Timer
	events     []EventDraft
	rejected   *messages.Rejection
	// timerPartner is the partner of record of the subscription a timer
	// acts on (see recipient).
	timerPartner string
}

func (d *decision) emit(t messages.EventType, data any) {
	d.events = append(d.events, EventDraft{Type: t, PartnerID: d.recipient(), Data: data})
}

// recipient is the partner whose subjects carry the events: the acting
// partner, or for a timer (acting as SystemPartner) the partner of record
// of the timer's subscription, so renewals, expiries and conversions reach
// the partner that owns the subscription.
func (d *decision) recipient() string {
	if d.in.PartnerID != messages.SystemPartner {
		return d.in.PartnerID
	}
	if d.timerPartner != "" {
		return d.timerPartner
	}
	if d.state.Customer != nil {
		return d.state.Customer.PartnerID
	}
	return d.in.PartnerID
}

// nextEventID is the ID the next emitted event will get, for events that
// refer to each other (a cancellation names its credit).
func (d *decision) nextEventID() string {
	return messages.EventID(d.in.Command.CustomerID, d.eventCmdID, d.eventBase+len(d.events))
}

func (d *decision) putSubscription(s *Subscription) {
	d.state.Subscriptions[s.ID] = s
	d.changed = append(d.changed, SubscriptionField(s.ID))
}

// derivedIDTaken guards the entities a command creates under IDs derived
// from it (messages.DerivedID with the command ID and position n): the
// same command always derives the same IDs, which makes a redelivery
// create the same subscriptions, but it also means that a command ID
// applied again after the processor forgot it (past the store's applied
// retention) or reused by the sender would silently overwrite a live
// subscription, with events under the first application's IDs that
// consumers drop as duplicates. Decision: when subscription n of this
// command already exists, the whole command is rejected with
// command_id_reused under the caller's rule (not one line: the command's
// other effects would be applied a second time too), and the caller
// stops.
func (d *decision) derivedIDTaken(n int, rule string) bool {
	id := messages.DerivedID("sub", d.in.Command.CustomerID, d.in.Command.ID, n)
	if _, taken := d.state.Subscriptions[id]; !taken {
		return false
	}
	d.reject(reject(CodeCommandIDReused, rule,
		fmt.Sprintf("command %s was already applied: subscription %s derived from it exists, and a command ID is applied once", d.in.Command.ID, id),
		map[string]string{"command_id": d.in.Command.ID, "subscription_id": id}))
	return true
}

func (d *decision) reject(r *messages.Rejection) {
	d.rejected = r
}

func (d *decision) outcome() Outcome {
	if d.rejected != nil {
		return Outcome{
			State:    d.in.State,
			Events:   []EventDraft{{Type: messages.EvtCommandRejected, PartnerID: d.in.PartnerID, Data: &messages.CommandRejectedEvent{Rejection: *d.rejected}}},
			Rejected: d.rejected,
		}
	}
	return Outcome{State: d.state, Changed: d.changed, Deleted: d.deleted, Events: d.events, TimersSet: d.timersSet}
}

// setTimer stores a timer with the state (G7).
func (d *decision) setTimer(t *Timer) {
	d.state.Timers[t.ID] = t
	d.changed = append(d.changed, TimerField(t.ID))
	d.timersSet = append(d.timersSet, t)
}

// deleteTimer removes a timer that fired or no longer applies.
func (d *decision) deleteTimer(id string) {
	if _, ok := d.state.Timers[id]; !ok {
		return
	}
	delete(d.state.Timers, id)
	d.deleted = append(d.deleted, TimerField(id))
}

// extraRules are the rules of command types that other files of this
// package register with registerRule (one file per product area).
var extraRules = map[messages.CommandType]extraRule{}

type extraRule struct {
	roles []messages.Role
	apply func(d *decision, data any)
}

// registerRule adds the rules of a command type and the roles that may
// send it (ROL-1); call it from an init function.
func registerRule(t messages.CommandType, roles []messages.Role, apply func(d *decision, data any)) {
	if _, dup := extraRules[t]; dup {
		panic("rules: command type registered twice: " + string(t))
	}
	extraRules[t] = extraRule{roles: roles, apply: apply}
}
