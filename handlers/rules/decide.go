package rules

import (
	"fmt"
	"strings"
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
	// Now is the command's effective time (guarantee G4, README).
	Now     time.Time
	State   CustomerState
	Catalog *catalog.Catalog
	// Partners is the partner registry (PTN-2..PTN-4, partners.go). nil
	// means no registry: every partner acts as a direct-bill partner (it
	// may sell and manage, and may name no reseller).
	Partners *partners.Registry
	// TestClock is what the handler found of the test clock a
	// customer.created names (TCK-1, TCK-2); nil when it names none.
	TestClock *TestClockFact
	// Archive runs the archive sweep (archive.go) at the end of the
	// decision. The processor always sets it; rule tests that look at
	// closed entities in the state, or count what is left of it, leave it
	// off and see the rules without retention.
	Archive bool
	// TimerSkew is how far ahead of the broker's clock the scheduler's
	// may run (0: DefaultTimerSkew); see ignoredTimerFired.
	TimerSkew time.Duration
}

// DefaultTimerSkew is the clock difference tolerated between the host
// whose scheduler fires timers and the broker that stamps the timer.fired
// command: NTP keeps hosts within milliseconds; two seconds is ample and
// far below any window a timer drives.
const DefaultTimerSkew = 2 * time.Second

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
	// ID and At, when set, are the event's ID and occurrence time. Decide
	// sets them on the events of a timer it fired inline (see Decide): the
	// ID is EventID(customer, timer ID, n) and At the timer's due time,
	// exactly what the timer's own timer.fired command would have given,
	// so a consumer deduplicating by event ID sees one effect whichever
	// path fired the timer. Empty: the handler numbers the event by its
	// position and dates it at the command's effective time.
	ID string
	At time.Time
}

// Outcome is a decision: the new state, which entities changed or were
// deleted, the timers it set, and the events to emit. A rejected command
// changes nothing itself and emits one command.rejected event, after the
// changes and events of the overdue timers Decide fired before it.
type Outcome struct {
	State    CustomerState
	Changed  []string
	Deleted  []string
	Events   []EventDraft
	Rejected *messages.Rejection
	// TimersSet are the timers this decision created; the handler indexes
	// them for the scheduler before it commits (G7).
	TimersSet []*Timer
	// Archived are the closed entities past their horizon that this
	// decision moves from the state to the archive (archive.go); they are
	// in neither Changed nor Deleted.
	Archived []Archived
	// Absent are the entity fields the command names (Referenced) that the
	// state held neither live nor as tombstones: the commit refuses when
	// one of them is tombstoned after all (a decision made on state cached
	// without tombstones), and the command is decided again on a load.
	Absent []string
	// Ignored is a command that must leave no trace: no state, no event,
	// and no inbox record, so that it cannot take the inbox slot of the
	// timer.fired command it names (see ignoredTimerFired).
	Ignored bool
	// ActivityAppended are the software activity log entries the decision
	// adds, oldest first (SW-2): the log lives outside the state, and the
	// handler appends them to it with the commit, which keeps the newest
	// ActivityLogMax. ActivityTrimmedThrough, when set, is the instant up
	// to which a log moved from the state had dropped entries (see
	// activity_log.go).
	ActivityAppended       []ActivityEntry
	ActivityLogMax         int
	ActivityTrimmedThrough *time.Time
}

// Decide applies the rules for one command at in.Now.
//
// Overdue timers first (G7). The customer's stored timers due at or before
// in.Now fire before the command is decided, so that no outcome depends on
// when the scheduler got round to a timer (lag, a stopped processor, a
// backlog). Decisions:
//   - they fire one at a time in due order, ties by timer ID, each decided
//     as its own timer.fired command would be (partner SystemPartner, role
//     system, command ID = timer ID) at its own due time (Now = DueAt), on
//     the state the previous one left; a timer set by one of them that is
//     itself due by in.Now fires too, in its place;
//   - their events keep the IDs and content the timer's own timer.fired
//     would give them (EventDraft.ID, At, CauseID, CauseType): a later
//     timer.fired for a timer applied here finds it gone and is a no-op;
//   - a timer.fired command for timer X fires every timer due by in.Now,
//     X in its place, at X's due time, whatever the broker time;
//   - a rejected command keeps the timers' changes and events and adds
//     its command.rejected; the inbox records the command as rejected;
//   - a timer whose own decision is rejected (not expected: timers are
//     the system's) emits its command.rejected like the scheduler path
//     would, and is not retried within the same decision.
//
// A timer.fired that is not due yet, or that names a timer the state holds
// with another due time, is Ignored (see ignoredTimerFired).
func Decide(in Input) Outcome {
	out := decideDue(in)
	if !out.Ignored {
		moveLegacyActivity(&out, in.Catalog)
	}
	return out
}

// decideDue is Decide before the activity log moves: the overdue timers,
// then the command.
func decideDue(in Input) Outcome {
	in.Now = in.Now.UTC()
	if ignoredTimerFired(in) {
		return Outcome{State: in.State, Ignored: true}
	}
	// A timer due within the tolerated skew fires at its time. Only the
	// system's own timer.fired may move the clock: ignoredTimerFired has
	// checked that its timer is held with that due time. Anyone else's
	// is refused (PTN-1), and its due_at is the sender's word: taken as
	// the time, it would fire every timer up to it (renewals, charges)
	// before the refusal, at a time the sender chose (G4).
	if f, ok := in.Command.Data.(*messages.TimerFiredData); ok && in.PartnerID == messages.SystemPartner && f.DueAt.After(in.Now) {
		in.Now = f.DueAt.UTC()
	}
	var acc Outcome
	acc.State = in.State
	tried := map[string]bool{}
	for {
		t := nextOverdue(acc.State.Timers, in.Now, tried)
		if t == nil {
			break
		}
		tried[t.ID] = true
		out := decide(Input{
			Command: messages.Command{ID: t.ID, Type: messages.CmdTimerFired, SchemaVersion: in.Command.SchemaVersion, CustomerID: in.Command.CustomerID,
				Data: &messages.TimerFiredData{TimerID: t.ID, Kind: t.Kind, SubscriptionID: t.SubscriptionID, DueAt: t.DueAt}},
			PartnerID: messages.SystemPartner, Role: messages.RoleSystem, Now: t.DueAt, State: acc.State, Catalog: in.Catalog, Partners: in.Partners,
		}, t.ID, 0)
		for i, e := range out.Events {
			e.ID, e.At = messages.EventID(in.Command.CustomerID, t.ID, i), t.DueAt.UTC()
			if e.CauseID == "" && t.ID != in.Command.ID {
				e.CauseID, e.CauseType = t.ID, messages.CmdTimerFired
			}
			acc.Events = append(acc.Events, e)
		}
		acc.State = out.State
		acc.Changed = append(acc.Changed, out.Changed...)
		acc.Deleted = append(acc.Deleted, out.Deleted...)
		acc.TimersSet = append(acc.TimersSet, out.TimersSet...)
		acc.appendActivity(out)
	}
	if len(tried) == 0 {
		return finish(in, decide(in, in.Command.ID, 0))
	}
	in.State = acc.State
	out := decide(in, in.Command.ID, 0)
	for i, e := range out.Events {
		if e.ID == "" {
			e.ID = messages.EventID(in.Command.CustomerID, in.Command.ID, i)
		}
		acc.Events = append(acc.Events, e)
	}
	acc.State = out.State
	acc.Changed = append(acc.Changed, out.Changed...)
	acc.Deleted = append(acc.Deleted, out.Deleted...)
	acc.TimersSet = append(acc.TimersSet, out.TimersSet...)
	acc.appendActivity(out)
	acc.Rejected = out.Rejected
	acc.Changed, acc.Deleted = settleFields(acc.State, acc.Changed, acc.Deleted)
	acc.TimersSet = liveTimers(acc.State, acc.TimersSet)
	return finish(in, acc)
}

// finish completes a decision: the archive sweep (archive.go) and the
// referenced fields found absent.
func finish(in Input, out Outcome) Outcome {
	if in.Archive && in.Catalog != nil {
		sweepArchive(&out, in.Now, in.Catalog.Policy)
	}
	for _, f := range Referenced(in.Command) {
		if !in.State.holds(f) && in.State.Tombstones[f] == nil {
			out.Absent = append(out.Absent, f)
		}
	}
	return out
}

// ignoredTimerFired reports a timer.fired command that must change nothing
// and not be recorded in the inbox (Outcome.Ignored):
//   - its timer is not due at the command's effective time (GEN-4, G7: a
//     timer fires only when due), by more than the tolerated clock skew
//     (Input.TimerSkew; one due within it fires at its due time). Recording it would put the timer's ID,
//     which is the command ID of its real firing, in the inbox, and the
//     real firing would then be dropped as a duplicate. Nothing is emitted
//     either: an event numbered under the timer's ID would collide with
//     the real firing's. The timer stays in the state, so it still fires
//     at its time (its index entry, or inline before the customer's next
//     command, see Decide);
//   - the state holds a timer with that ID but another due time: the
//     command comes from a stale index entry of an earlier timer that
//     had the same ID, and must not take the live timer's inbox slot.
//
// A timer.fired the state does not hold at all (it fired, or its
// subscription ended) is an ordinary no-op and is recorded.
func ignoredTimerFired(in Input) bool {
	f, ok := in.Command.Data.(*messages.TimerFiredData)
	if !ok || in.PartnerID != messages.SystemPartner {
		return false
	}
	t, ok := in.State.Timers[f.TimerID]
	if ok && !t.DueAt.Equal(f.DueAt) {
		return true
	}
	if !ok && f.Kind == TimerArchive {
		// An archive timer no longer held was applied already (inline or
		// by the sweep): it has nothing to do and leaves no trace.
		return true
	}
	skew := in.TimerSkew
	if skew <= 0 {
		skew = DefaultTimerSkew
	}
	// A firing early by less than the skew is the scheduler's clock a
	// little ahead of the broker's: ignoring it would leave the timer
	// unindexed (the scheduler took its entry) until the customer's next
	// command, so it fires, at its due time (Decide). A forged firing of a
	// timer due later, or of one the state does not hold, changes nothing.
	if f.DueAt.After(in.Now) && (!ok || f.DueAt.Sub(in.Now) > skew) {
		return true
	}
	return false
}

// nextOverdue is the earliest timer due at or before now (ties by ID) not
// yet tried.
func nextOverdue(timers map[string]*Timer, now time.Time, tried map[string]bool) *Timer {
	var next *Timer
	for _, t := range timers {
		if t.DueAt.After(now) || tried[t.ID] {
			continue
		}
		if next == nil || t.DueAt.Before(next.DueAt) || t.DueAt.Equal(next.DueAt) && t.ID < next.ID {
			next = t
		}
	}
	return next
}

// settleFields lists each touched entity once, as changed when the final
// state holds it and as deleted when it does not: a timer set by one
// overdue timer and fired by the next must not be written (as null) and
// deleted in the same commit.
func settleFields(st CustomerState, changed, deleted []string) ([]string, []string) {
	seen := map[string]bool{}
	var ch, del []string
	for _, k := range append(append([]string(nil), changed...), deleted...) {
		if seen[k] {
			continue
		}
		seen[k] = true
		if st.holds(k) {
			ch = append(ch, k)
		} else {
			del = append(del, k)
		}
	}
	return ch, del
}

// liveTimers keeps the set timers the final state still holds, so that
// timers fired inline leave no index entry behind.
func liveTimers(st CustomerState, set []*Timer) []*Timer {
	var out []*Timer
	for _, t := range set {
		if cur, ok := st.Timers[t.ID]; ok && cur == t {
			out = append(out, t)
		}
	}
	return out
}

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
	r, ok := commandRules[in.Command.Type]
	if !ok {
		// The codec only produces known types; anything else is a
		// programming error, answered as a rejection rather than a panic.
		d.reject(reject(CodeInvalidCommand, "GEN-6", fmt.Sprintf("command type %q has no rules", in.Command.Type), nil))
		return d.outcome()
	}
	r.apply(&d, in.Command.Data)
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
	activity   []ActivityEntry // SW-2's log entries added (activity_log.go)
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
	if _, taken := d.state.Subscriptions[id]; !taken && d.state.Tombstones[SubscriptionField(id)] == nil {
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
	out := Outcome{State: d.state, Changed: d.changed, Deleted: d.deleted, Events: d.events, TimersSet: d.timersSet}
	out.appendActivity(Outcome{ActivityAppended: d.activity, ActivityLogMax: activityLogMax(d.in.Catalog)})
	return out
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

// holds reports whether the state has the entity a field names.
func (st CustomerState) holds(field string) bool {
	switch {
	case field == fieldCustomer:
		return st.Customer != nil
	case strings.HasPrefix(field, fieldSubPrefix):
		return st.Subscriptions[strings.TrimPrefix(field, fieldSubPrefix)] != nil
	case strings.HasPrefix(field, fieldOrderPrefix):
		return st.Orders[strings.TrimPrefix(field, fieldOrderPrefix)] != nil
	case strings.HasPrefix(field, fieldTimerPrefix):
		return st.Timers[strings.TrimPrefix(field, fieldTimerPrefix)] != nil
	case strings.HasPrefix(field, fieldTransferPrefix):
		return st.Transfers[strings.TrimPrefix(field, fieldTransferPrefix)] != nil
	case field == fieldParked:
		return len(st.Parked) > 0
	case field == fieldActivity:
		return len(st.LegacyActivity) > 0
	}
	return true // refunds: a ledger that is only ever written
}
