package rules

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// wireEvent is an event as the handler would publish it: its ID, cause,
// time, recipient and content (see handlers.buildCommit).
type wireEvent struct {
	ID, CommandID string
	CommandType   messages.CommandType
	PartnerID     string
	Type          messages.EventType
	At            time.Time
	Data          any
}

// wire gives an outcome's events their IDs and envelopes the way the
// handler does for command cmd decided at now.
func wire(cmd messages.Command, now time.Time, out Outcome) []wireEvent {
	var evs []wireEvent
	for i, d := range out.Events {
		ev := wireEvent{ID: messages.EventID(cmd.CustomerID, cmd.ID, i), CommandID: cmd.ID, CommandType: cmd.Type,
			PartnerID: d.PartnerID, Type: d.Type, At: now, Data: d.Data}
		if d.ID != "" {
			ev.ID = d.ID
		}
		if !d.At.IsZero() {
			ev.At = d.At
		}
		if d.CauseID != "" {
			ev.CommandID, ev.CommandType = d.CauseID, d.CauseType
		}
		evs = append(evs, ev)
	}
	return evs
}

// driver decides commands for one customer like the processor: it keeps
// the state and every event by ID, and fails on two events with one ID
// and different content.
type driver struct {
	t      testing.TB
	w      *world
	events map[string]wireEvent
	order  []string
}

func newDriver(t testing.TB) *driver {
	d := &driver{t: t, w: newWorld(t), events: map[string]wireEvent{}}
	return d
}

func (dr *driver) decide(partner string, cmd messages.Command, now time.Time) Outcome {
	dr.t.Helper()
	cmd.CustomerID, cmd.SchemaVersion = customer1, 1
	out := Decide(Input{Command: cmd, PartnerID: partner, Now: now, State: dr.w.state, Catalog: dr.w.cat})
	if out.Ignored {
		return out
	}
	dr.w.state = out.State
	for _, ev := range wire(cmd, now.UTC(), out) {
		if prev, ok := dr.events[ev.ID]; ok {
			if !reflect.DeepEqual(prev, ev) {
				dr.t.Fatalf("event %s emitted twice with different content:\n%+v\n%+v", ev.ID, prev, ev)
			}
			continue
		}
		dr.events[ev.ID] = ev
		dr.order = append(dr.order, ev.ID)
	}
	return out
}

// fire sends timer.fired for a stored timer at now (the scheduler's
// firing, possibly late).
func (dr *driver) fire(t *Timer, now time.Time) Outcome {
	return dr.decide(messages.SystemPartner, messages.Command{ID: t.ID, Type: messages.CmdTimerFired,
		Data: &messages.TimerFiredData{TimerID: t.ID, Kind: t.Kind, SubscriptionID: t.SubscriptionID, DueAt: t.DueAt}}, now)
}

// onTime fires every timer due up to to, each at its due time, earliest
// first, as its own command.
func (dr *driver) onTime(to time.Time) {
	for {
		t := nextOverdue(dr.w.state.Timers, to, nil)
		if t == nil {
			return
		}
		dr.fire(t, t.DueAt)
	}
}

func (dr *driver) wireEvents() []wireEvent {
	out := make([]wireEvent, len(dr.order))
	for i, id := range dr.order {
		out[i] = dr.events[id]
	}
	return out
}

// A P1M subscription's term ended at 00:00; its renewal timer has not been
// fired (the scheduler lags) when a cancel arrives at 02:00. The renewal
// fires first, at its own time, and the cancel is decided in the renewed
// term's window: the same events and state as when the timer fired on time.
func TestRule_CAN_1_OverdueRenewalTimerFiresBeforeTheCommand(t *testing.T) {
	run := func(timersOnTime bool) (*driver, Outcome) {
		dr := newDriver(t)
		dr.w.createCustomer("commercial", "USD")
		id := dr.w.buy(t0, offerBasic, "P1M", "monthly", 3)
		cancelAt := time.Date(2026, 4, 10, 2, 0, 0, 0, time.UTC) // term end 2026-04-09, renewal 04-10T00:00
		if timersOnTime {
			dr.onTime(cancelAt)
		}
		return dr, dr.decide(partnerA, messages.Command{ID: "cancel-1", Type: messages.CmdSubscriptionCancel, Data: cancelOf(id)}, cancelAt)
	}
	onTime, onTimeOut := run(true)
	lagged, laggedOut := run(false)
	wantAccepted(t, onTimeOut)
	wantAccepted(t, laggedOut)
	if got := typesWithoutNotices(laggedOut); !reflect.DeepEqual(got, []messages.EventType{messages.EvtSubscriptionRenewed, messages.EvtBillingCharge,
		messages.EvtBillingCredit, messages.EvtSubscriptionCancelled}) {
		t.Fatalf("lagged outcome events %v", got)
	}
	if a, b := onTime.wireEvents(), lagged.wireEvents(); !reflect.DeepEqual(a, b) {
		t.Fatalf("events differ:\non time %+v\nlagged  %+v", a, b)
	}
	if !reflect.DeepEqual(onTime.w.state, lagged.w.state) {
		t.Fatalf("state differs:\non time %+v\nlagged  %+v", onTime.w.state, lagged.w.state)
	}
	credit := findEvent[*messages.BillingEvent](t, laggedOut, messages.EvtBillingCredit)
	if credit.AmountMinor != prorate(3*720, 29, 30) {
		t.Fatalf("credit %d", credit.AmountMinor)
	}
}

// Random lives of one customer: the same commands at the same times, with
// timers fired either on time by their own timer.fired commands, or late
// (random lag, sometimes never) so that most fire inline before a later
// command. Every event (ID and content) and the final state must be the
// same.
func TestRule_REN_2_TimersGiveTheSameEventsWhateverTheSchedulerLag(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for c := range 150 {
		type step struct {
			at  time.Time
			cmd messages.Command
		}
		// The plan: purchases, then random commands over about 14 months.
		subs := []string{}
		a, b := newDriver(t), newDriver(t)
		for _, dr := range []*driver{a, b} {
			dr.w.createCustomer("commercial", "USD")
		}
		plans := [][2]string{{"P1M", "monthly"}, {"P1Y", "monthly"}, {"P1Y", "annual"}}
		for i := range 1 + rng.Intn(3) {
			p := plans[rng.Intn(len(plans))]
			at := t0.Add(time.Duration(i) * time.Hour)
			ida := a.w.buy(at, offerBasic, p[0], p[1], 1+rng.Intn(5))
			b.w.buy(at, offerBasic, p[0], p[1], a.w.state.Subscriptions[ida].Quantity)
			subs = append(subs, ida)
		}
		if !reflect.DeepEqual(a.w.state, b.w.state) {
			t.Fatalf("case %d: purchases differ", c)
		}
		var steps []step
		at := t0.Add(3 * time.Hour)
		for i := range 12 + rng.Intn(12) {
			at = at.Add(time.Duration(rng.Intn(40*24*60)) * time.Minute)
			sub := subs[rng.Intn(len(subs))]
			var typ messages.CommandType
			var data any
			switch rng.Intn(6) {
			case 0:
				typ, data = messages.CmdSubscriptionCancel, cancelOf(sub)
			case 1:
				typ, data = messages.CmdSubscriptionSuspend, suspendOf(sub, "non_payment")
			case 2:
				typ, data = messages.CmdSubscriptionReactivate, reactivateOf(sub)
			case 3:
				typ, data = messages.CmdAutoRenewSet, autoRenewOf(sub, rng.Intn(2) == 0)
			default:
				typ, data = messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: intp(1 + rng.Intn(8))}
			}
			steps = append(steps, step{at: at, cmd: messages.Command{ID: fmt.Sprintf("c%d", i), Type: typ, Data: data}})
		}
		end := at.Add(time.Duration(rng.Intn(60*24)) * time.Hour)

		for _, s := range steps {
			a.onTime(s.at)
			a.decide(partnerA, s.cmd, s.at)
			// b's scheduler: some due timers fire late, at a random time
			// between their due time and the command; the rest wait.
			for _, tm := range sortedTimers(b.w.state.Timers) {
				if !tm.DueAt.After(s.at) && rng.Intn(3) == 0 {
					lag := time.Duration(rng.Int63n(int64(s.at.Sub(tm.DueAt)) + 1))
					if _, live := b.w.state.Timers[tm.ID]; live || rng.Intn(2) == 0 {
						b.fire(tm, tm.DueAt.Add(lag)) // also a late no-op for a timer already applied
					}
				}
			}
			b.decide(partnerA, s.cmd, s.at)
		}
		a.onTime(end)
		for _, tm := range sortedTimers(b.w.state.Timers) {
			if !tm.DueAt.After(end) {
				b.fire(tm, end)
			}
		}
		if ea, eb := a.wireEvents(), b.wireEvents(); !sameEvents(ea, eb) {
			t.Fatalf("case %d: events differ:\non time %s\nlagged  %s", c, describe(ea), describe(eb))
		}
		if !reflect.DeepEqual(a.w.state, b.w.state) {
			t.Fatalf("case %d: final state differs", c)
		}
	}
}

func sortedTimers(m map[string]*Timer) []*Timer {
	out := make([]*Timer, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].DueAt.Before(out[j].DueAt) || out[i].DueAt.Equal(out[j].DueAt) && out[i].ID < out[j].ID
	})
	return out
}

// sameEvents compares two event sets by ID and content.
func sameEvents(a, b []wireEvent) bool {
	if len(a) != len(b) {
		return false
	}
	byID := map[string]wireEvent{}
	for _, e := range a {
		byID[e.ID] = e
	}
	for _, e := range b {
		if o, ok := byID[e.ID]; !ok || !reflect.DeepEqual(o, e) {
			return false
		}
	}
	return true
}

func describe(evs []wireEvent) string {
	s := ""
	for _, e := range evs {
		s += fmt.Sprintf("\n  %s %s %s %s", e.ID[:8], e.CommandID, e.Type, e.At.Format(time.RFC3339))
	}
	return s
}

// A timer.fired for a timer not due at the command's effective time (a
// forged or early one) changes nothing, emits nothing and is not recorded
// (Ignored), so the timer still fires at its time, once.
func TestRule_GEN_4_TimerNotDueDoesNothing(t *testing.T) {
	dr, period := monthlySubscriptionWithPeriodTimer(t)
	before := dr.w.state
	out := dr.fire(period, t0.Add(time.Hour))
	if !out.Ignored || len(out.Events) != 0 || len(out.Changed) != 0 || len(out.Deleted) != 0 || !reflect.DeepEqual(dr.w.state, before) {
		t.Fatalf("a timer not due changed something: ignored %v, events %v, changed %v", out.Ignored, eventTypes(out), out.Changed)
	}
	out = dr.fire(period, period.DueAt)
	if out.Ignored {
		t.Fatal("the due firing was ignored")
	}
	if ch := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); ch.AmountMinor != 2*630 || ch.PeriodStart != "2026-04-10" {
		t.Fatalf("period charge %+v", ch)
	}
}

// GEN-4, G7: a firing that reaches the broker a little before the timer is
// due (the scheduler's clock ahead of the broker's by less than
// DefaultTimerSkew) fires the timer at its due time instead of being
// ignored: the scheduler has taken the timer's index entry, so ignoring it
// would leave the timer waiting for the customer's next command. Beyond
// the tolerance it is ignored.
func TestRule_GEN_4_TimerDueWithinTheClockSkewFiresAtItsDueTime(t *testing.T) {
	for _, tc := range []struct {
		name  string
		early time.Duration
		fires bool
	}{
		{"1 s early", time.Second, true},
		{"at the tolerance", DefaultTimerSkew, true},
		{"past the tolerance", DefaultTimerSkew + time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dr, period := monthlySubscriptionWithPeriodTimer(t)
			out := dr.fire(period, period.DueAt.Add(-tc.early))
			if out.Ignored == tc.fires {
				t.Fatalf("ignored %v, want %v", out.Ignored, !tc.fires)
			}
			if !tc.fires {
				return
			}
			ch := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
			if ch.AmountMinor != 2*630 || ch.PeriodStart != "2026-04-10" {
				t.Fatalf("period charge %+v", ch)
			}
			if _, left := dr.w.state.Timers[period.ID]; left {
				t.Fatal("the timer is still stored after firing")
			}
		})
	}
}

// monthlySubscriptionWithPeriodTimer buys 2 licenses of an annual term billed
// monthly (USD 6.30 a month) at t0 and returns its next billing period's timer.
func monthlySubscriptionWithPeriodTimer(t *testing.T) (*driver, *Timer) {
	t.Helper()
	dr := newDriver(t)
	dr.w.createCustomer("commercial", "USD")
	id := dr.w.buy(t0, offerBasic, "P1Y", "monthly", 2)
	var period *Timer
	for _, tm := range dr.w.state.Timers {
		if tm.Kind == TimerBillingPeriod && tm.SubscriptionID == id {
			period = tm
		}
	}
	if period == nil {
		t.Fatal("no billing period timer")
	}
	return dr, period
}
