package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// renewingWorld has a monthly subscription whose renewal starts at
// 2026-04-10T00:00Z and completes 30 minutes later, with conflicting
// commands kept for up to bound.
func renewingWorld(t *testing.T, bound int) (*world, string, time.Time) {
	w := newWorld(t)
	w.cat.Policy.RenewalProcessingMinutes = 30
	w.cat.Policy.ConflictRetryMinutes = bound
	w.cat.Policy.ConflictRetryInitialSeconds = 60
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 4)
	start := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	w.advance(start)
	return w, id, start
}

func TestRule_REN_4_ConflictingCommandsWaitForTheRenewalInOrder(t *testing.T) {
	w, id, start := renewingWorld(t, 120)
	out := w.do(partnerA, start.Add(10*time.Minute), messages.CmdSubscriptionCancel, cancelOf(id))
	cancelID := "cmd-" + itoa(w.n)
	if out.Rejected != nil || len(out.Events) != 1 || out.Events[0].Type != messages.EvtCommandDeferred {
		t.Fatalf("cancel during the renewal: %v %+v", eventTypes(out), out.Rejected)
	}
	if d := out.Events[0].Data.(*messages.CommandDeferredEvent); !d.RetryUntil.Equal(start.Add(130*time.Minute)) || d.Rule != "REN-4" {
		t.Fatalf("deferred %+v", d)
	}
	// A later command for the same subscription waits behind it, even one
	// that would otherwise be answered at once.
	out = w.do(partnerA, start.Add(11*time.Minute), messages.CmdAutoRenewSet, autoRenewOf(id, false))
	autoID := "cmd-" + itoa(w.n)
	if len(out.Events) != 1 || out.Events[0].Type != messages.EvtCommandDeferred || len(w.state.Parked) != 2 {
		t.Fatalf("second command: %v, %d parked", eventTypes(out), len(w.state.Parked))
	}

	evs := eventsOf(w.advance(start.Add(31 * time.Minute)))
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Type)+"<"+e.CauseID+">")
	}
	want := []string{"subscription.renewed<>", "billing.charge<>", "billing.credit<" + cancelID + ">",
		"subscription.cancelled<" + cancelID + ">", "command.rejected<" + autoID + ">"}
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	// The cancel applied inside the renewal's new window: 1 of 30 days used.
	if c := evs[2].Data.(*messages.BillingEvent); c.AmountMinor != prorate(4*720, 29, 30) {
		t.Fatalf("credit %d", c.AmountMinor)
	}
	if r := evs[4].Data.(*messages.CommandRejectedEvent); r.Code != CodeSubscriptionCancelled {
		t.Fatalf("auto-renew after the cancel: %+v", r)
	}
	if len(w.state.Parked) != 0 || len(w.state.Timers) != 0 {
		t.Fatalf("left behind: %d parked, timers %v", len(w.state.Parked), w.state.Timers)
	}
}

func TestRule_REN_4_ParkedCommandsAreRejectedAfterTheBound(t *testing.T) {
	w, id, start := renewingWorld(t, 10)
	w.do(partnerA, start.Add(time.Minute), messages.CmdSubscriptionCancel, cancelOf(id))
	cancelID := "cmd-" + itoa(w.n)
	evs := eventsOf(w.advance(start.Add(29 * time.Minute)))
	if len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected || evs[0].CauseID != cancelID {
		t.Fatalf("events %v", evs)
	}
	if r := evs[0].Data.(*messages.CommandRejectedEvent); r.Code != CodeConflict || r.Rule != "REN-4" {
		t.Fatalf("rejection %+v", r)
	}
	// Retries backed off 1, 2, 4, 8 minutes after the park: rejected at the
	// first retry at or past 10 minutes (1+1+2+4+8 = 16 minutes in).
	evs = eventsOf(w.advance(start.Add(31 * time.Minute)))
	if len(evs) != 2 || evs[0].Type != messages.EvtSubscriptionRenewed || w.state.Subscriptions[id].Status != StatusActive {
		t.Fatalf("after the renewal %v", evs)
	}
}

func TestRule_REN_4_WithoutRetryPolicyConflictsAtOnce(t *testing.T) {
	w, id, start := renewingWorld(t, 0)
	wantRejected(t, w.do(partnerA, start.Add(time.Minute), messages.CmdSubscriptionCancel, cancelOf(id)), CodeConflict, "REN-4")
}
