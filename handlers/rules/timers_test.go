package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRule_REN_2_RenewalStartsTheDayAfterTheTermEnd(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	// Partner Center's example: a term ending 2023-03-01 renews from 2023-03-02T00:00:00Z.
	bought := time.Date(2022, 3, 2, 9, 0, 0, 0, time.UTC)
	id := w.buy(bought, offerBasic, "P1Y", "annual", 10)
	if got := formatDate(w.state.Subscriptions[id].TermEnd); got != "2023-03-01" {
		t.Fatalf("term end %s", got)
	}
	renewal := time.Date(2023, 3, 2, 0, 0, 0, 0, time.UTC)
	if outs := w.advance(renewal.Add(-time.Nanosecond)); len(withoutNotices(eventsOf(outs))) != 0 {
		t.Fatalf("something fired before the renewal: %v", eventsOf(outs))
	}
	evs := withoutNotices(eventsOf(w.advance(renewal)))
	if len(evs) != 2 || evs[0].Type != messages.EvtSubscriptionRenewed || evs[1].Type != messages.EvtBillingCharge {
		t.Fatalf("renewal events %v", evs)
	}
	ren := evs[0].Data.(*messages.SubscriptionRenewedEvent)
	charge := evs[1].Data.(*messages.BillingEvent)
	if ren.TermStart != "2023-03-02" || ren.TermEnd != "2024-03-01" || ren.Renewals != 1 ||
		!ren.CancellableUntil.Equal(renewal.Add(168*time.Hour)) {
		t.Fatalf("renewed %+v", ren)
	}
	if charge.AmountMinor != 72000 || charge.Reason != messages.BillingReasonRenewal || charge.Rule != "REN-2" || charge.PeriodStart != "2023-03-02" {
		t.Fatalf("renewal charge %+v", charge)
	}
	// The new term has its own 168-hour window (CAN-1).
	out := w.do(partnerA, renewal.Add(100*time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
	wantAccepted(t, out)
	credit := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
	// 100 hours = 5 started days of 366 (2023-03-02..2024-03-01 spans a leap day).
	if credit.Proration.PeriodDays != 366 || credit.Proration.UsedDays != 5 || credit.AmountMinor != prorate(72000, 361, 366) {
		t.Fatalf("credit in the renewal window %+v %+v", credit, credit.Proration)
	}
	if len(w.state.Timers) != 0 {
		t.Fatalf("timers left after cancellation: %v", w.state.Timers)
	}
}

func TestRule_REN_3_AutoRenewOffExpiresAtTermEnd(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 2)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, false)))
	evs := withoutNotices(eventsOf(w.advance(t0.AddDate(0, 2, 0))))
	if len(evs) != 1 || evs[0].Type != messages.EvtSubscriptionExpired {
		t.Fatalf("events %v", evs)
	}
	if e := evs[0].Data.(*messages.SubscriptionExpiredEvent); e.Reason != messages.ExpiredAutoRenewOff || e.DataDeleted || e.TermEnd != "2026-04-09" {
		t.Fatalf("expired %+v", e)
	}
	if s := w.state.Subscriptions[id]; s.Status != StatusExpired || len(w.state.Timers) != 0 {
		t.Fatalf("status %s, timers %v", s.Status, w.state.Timers)
	}
	wantRejected(t, w.do(partnerA, t0.AddDate(0, 2, 0), messages.CmdSubscriptionReactivate, reactivateOf(id)), CodeSubscriptionExpired, "SUS-3")
}

func TestRule_SUS_3_SuspendedAtTermEndExpiresAndDataIsDeleted(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "monthly", 2)
	wantAccepted(t, w.do(partnerA, t0.Add(48*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment")))
	evs := withoutNotices(eventsOf(w.advance(t0.AddDate(1, 1, 0))))
	// Billing continued while suspended: 11 more monthly charges, then expiry.
	charges := 0
	for _, e := range evs {
		if e.Type == messages.EvtBillingCharge {
			charges++
		}
	}
	last := evs[len(evs)-1]
	if charges != 11 || last.Type != messages.EvtSubscriptionExpired {
		t.Fatalf("%d charges, last %s", charges, last.Type)
	}
	if e := last.Data.(*messages.SubscriptionExpiredEvent); e.Reason != messages.ExpiredSuspendedAtTermEnd || !e.DataDeleted {
		t.Fatalf("expired %+v", e)
	}
}

func TestRule_GEN_4_MonthlyBillingOfAnAnnualTermChargesEveryPeriod(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	// Bought on Jan 31: periods start on the 31st or the month's last day,
	// never drifting (Feb 28, Mar 31, Apr 30, ...).
	bought := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	w.buy(bought, offerBasic, "P1Y", "monthly", 3)
	evs := withoutNotices(eventsOf(w.advance(time.Date(2027, 1, 30, 23, 0, 0, 0, time.UTC))))
	var starts []string
	for _, e := range evs {
		c := e.Data.(*messages.BillingEvent)
		if c.AmountMinor != 3*630 || c.Reason != messages.BillingReasonPeriod {
			t.Fatalf("period charge %+v", c)
		}
		starts = append(starts, c.PeriodStart+".."+c.PeriodEnd)
	}
	want := []string{"2026-02-28..2026-03-30", "2026-03-31..2026-04-29", "2026-04-30..2026-05-30", "2026-05-31..2026-06-29",
		"2026-06-30..2026-07-30", "2026-07-31..2026-08-30", "2026-08-31..2026-09-29", "2026-09-30..2026-10-30",
		"2026-10-31..2026-11-29", "2026-11-30..2026-12-30", "2026-12-31..2027-01-30"}
	if len(starts) != len(want) {
		t.Fatalf("periods %v", starts)
	}
	for i := range want {
		if starts[i] != want[i] {
			t.Fatalf("period %d is %s, want %s", i+1, starts[i], want[i])
		}
	}
}

func TestRule_REN_4_PendingRenewalIsReadOnlyOrConflicts(t *testing.T) {
	w := newWorld(t)
	w.cat.Policy.RenewalProcessingMinutes = 30
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 2)
	start := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	if evs := withoutNotices(eventsOf(w.advance(start))); len(evs) != 0 {
		t.Fatalf("the renewal completed at once: %v", evs)
	}
	during := start.Add(10 * time.Minute)
	for typ, data := range map[messages.CommandType]any{
		messages.CmdSubscriptionSuspend:    suspendOf(id, "fraud"),
		messages.CmdSubscriptionReactivate: reactivateOf(id),
		messages.CmdAutoRenewSet:           autoRenewOf(id, false),
	} {
		wantRejected(t, w.do(partnerA, during, typ, data), CodeRenewalPending, "REN-4")
	}
	wantRejected(t, w.do(partnerA, during, messages.CmdSubscriptionCancel, cancelOf(id)), CodeConflict, "REN-4")
	evs := withoutNotices(eventsOf(w.advance(start.Add(30 * time.Minute))))
	if len(evs) != 2 || evs[0].Type != messages.EvtSubscriptionRenewed {
		t.Fatalf("completion %v", evs)
	}
	// The window opens when the renewal completes.
	if ren := evs[0].Data.(*messages.SubscriptionRenewedEvent); !ren.CancellableUntil.Equal(start.Add(30*time.Minute + 168*time.Hour)) {
		t.Fatalf("window end %v", ren.CancellableUntil)
	}
	wantAccepted(t, w.do(partnerA, start.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, "fraud")))
}

func TestTimers_StaleOrForgedTimersChangeNothing(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 2)
	var term *Timer
	for _, tm := range w.state.Timers {
		term = tm
	}
	fire := &messages.TimerFiredData{TimerID: term.ID, Kind: term.Kind, SubscriptionID: id, DueAt: term.DueAt}
	// A partner cannot fire a timer (G7), and the system sends nothing else.
	early := term.DueAt.Add(-time.Second)
	wantRejected(t, w.do(partnerA, early, messages.CmdTimerFired, fire), CodeForbidden, "PTN-1")
	wantRejected(t, w.do(messages.SystemPartner, early, messages.CmdSubscriptionCancel, cancelOf(id)), CodeForbidden, "PTN-1")
	// A timer with another due time, or one the state no longer has, is a no-op.
	wrong := *fire
	wrong.DueAt = wrong.DueAt.Add(time.Hour)
	if out := w.do(messages.SystemPartner, term.DueAt, messages.CmdTimerFired, &wrong); out.Rejected != nil || len(out.Events)+len(out.Changed) != 0 {
		t.Fatalf("wrong due time acted: %+v", out)
	}
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id)))
	if out := w.do(messages.SystemPartner, term.DueAt, messages.CmdTimerFired, fire); out.Rejected != nil || len(out.Events) != 0 {
		t.Fatalf("timer of a cancelled subscription acted: %+v", out)
	}
}
