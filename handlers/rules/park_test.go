package rules

import (
	"math/rand/v2"
	"strings"
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

	evs := withoutNotices(eventsOf(w.advance(start.Add(31 * time.Minute))))
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
	evs := withoutNotices(eventsOf(w.advance(start.Add(29 * time.Minute))))
	if len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected || evs[0].CauseID != cancelID {
		t.Fatalf("events %v", evs)
	}
	if r := evs[0].Data.(*messages.CommandRejectedEvent); r.Code != CodeConflict || r.Rule != "REN-4" {
		t.Fatalf("rejection %+v", r)
	}
	// Retries backed off 1, 2, 4, 8 minutes after the park: rejected at the
	// first retry at or past 10 minutes (1+1+2+4+8 = 16 minutes in).
	evs = withoutNotices(eventsOf(w.advance(start.Add(31 * time.Minute))))
	if len(evs) != 2 || evs[0].Type != messages.EvtSubscriptionRenewed || w.state.Subscriptions[id].Status != StatusActive {
		t.Fatalf("after the renewal %v", evs)
	}
}

func TestRule_REN_4_WithoutRetryPolicyConflictsAtOnce(t *testing.T) {
	w, id, start := renewingWorld(t, 0)
	wantRejected(t, w.do(partnerA, start.Add(time.Minute), messages.CmdSubscriptionCancel, cancelOf(id)), CodeConflict, "REN-4")
}

// bothSetAndDeleted is every field an outcome both changes and deletes:
// the commit script refuses such a commit (state.Commit.check), so the
// command would be retried forever and stall its partition.
func bothSetAndDeleted(out Outcome) []string {
	deleted := map[string]bool{}
	for _, f := range out.Deleted {
		deleted[f] = true
	}
	var both []string
	for _, f := range out.Changed {
		if deleted[f] {
			both = append(both, f)
		}
	}
	return both
}

// A quantity change 10 minutes into the renewal is parked; its first retry
// (60 s later, the renewal still pending) keeps it parked and stores the
// parked list once, changed and not deleted; the renewal then applies it.
func TestRule_REN_4_RetryWhileRenewalStillPendingKeepsTheCommandParked(t *testing.T) {
	w, id, start := renewingWorld(t, 120)
	out := w.do(partnerA, start.Add(10*time.Minute), messages.CmdQuantityChange, qtyOf(id, 6))
	qtyID := "cmd-" + itoa(w.n)
	if len(out.Events) != 1 || out.Events[0].Type != messages.EvtCommandDeferred {
		t.Fatalf("quantity change during the renewal: %v", eventTypes(out))
	}
	outs := w.advance(start.Add(11 * time.Minute))
	if len(outs) != 1 || len(outs[0].Events) != 0 {
		t.Fatalf("first retry: %d outcomes %+v", len(outs), outs)
	}
	if both := bothSetAndDeleted(outs[0]); len(both) > 0 {
		t.Fatalf("the retry both sets and deletes %v (changed %v, deleted %v)", both, outs[0].Changed, outs[0].Deleted)
	}
	if len(w.state.Parked) != 1 || w.state.Parked[0].CommandID != qtyID {
		t.Fatalf("parked after the retry: %+v", w.state.Parked)
	}
	var retries []*Timer
	for _, tm := range w.state.Timers {
		if tm.Kind == TimerRetryParked {
			retries = append(retries, tm)
		}
	}
	if len(retries) != 1 || !retries[0].DueAt.Equal(start.Add(13*time.Minute)) || retries[0].Attempt != 1 {
		t.Fatalf("next retry %+v", retries)
	}

	outs = w.advance(start.Add(31 * time.Minute))
	for _, o := range outs {
		if both := bothSetAndDeleted(o); len(both) > 0 {
			t.Fatalf("an outcome both sets and deletes %v", both)
		}
	}
	evs := eventsOf(outs)
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Type)+"<"+e.CauseID+">")
	}
	want := []string{"subscription.renewed<>", "billing.charge<>", "subscription.quantity.changed<" + qtyID + ">", "billing.charge<" + qtyID + ">"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events %v, want %v", got, want)
	}
	// The renewal charges the 4 licenses for the new month; the 2 added
	// at the instant it completed (00:30) are not charged for the first
	// day, which has started (GEN-2, QTY-1): round(1440 × 29 / 30) = 1392.
	if c := evs[1].Data.(*messages.BillingEvent); c.AmountMinor != 4*720 {
		t.Fatalf("renewal charge %d", c.AmountMinor)
	}
	if c := evs[3].Data.(*messages.BillingEvent); c.AmountMinor != 1392 || c.Quantity != 2 || c.Rule != "QTY-1" {
		t.Fatalf("increase charge %+v", c)
	}
	if s := w.state.Subscriptions[id]; s.Quantity != 6 || len(w.state.Parked) != 0 {
		t.Fatalf("after the renewal: quantity %d, %d parked", s.Quantity, len(w.state.Parked))
	}
	for _, tm := range w.state.Timers {
		if tm.Kind == TimerRetryParked {
			t.Fatalf("retry timer left behind: %+v", tm)
		}
	}
}

// For many random command sequences around renewals (fixed seed), no
// outcome both changes and deletes a field (world.committable checks every
// decision and every timer): commands parked during a pending renewal,
// their retries, the renewal applying them, and every other rule that
// runs in between.
func TestRule_REN_4_NoOutcomeBothChangesAndDeletesAField(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2026))
	plans := [][2]string{{"P1M", "monthly"}, {"P1Y", "annual"}, {"P1Y", "monthly"}}
	for run := range 200 {
		w, _, _ := renewingWorld(t, []int{0, 3, 10, 120}[run%4])
		var subs []string
		for i := range 1 + rng.IntN(3) {
			p := plans[rng.IntN(len(plans))]
			subs = append(subs, w.buy(t0.Add(time.Duration(i)*time.Minute), offerBasic, p[0], p[1], 1+rng.IntN(8)))
		}
		// Renewals of the monthly terms start at 00:00 on the 10th of each
		// month and stay pending for 30 minutes: most commands land there.
		now := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
		for range 40 {
			switch rng.IntN(4) {
			case 0:
				now = now.Add(time.Duration(rng.IntN(40)) * time.Minute)
			case 1:
				now = now.Add(time.Duration(rng.IntN(72)) * time.Hour)
			case 2: // the next monthly renewal, a few minutes into it
				now = time.Date(now.Year(), now.Month()+1, 10, 0, rng.IntN(35), 0, 0, time.UTC)
			}
			w.advance(now)
			id := subs[rng.IntN(len(subs))]
			switch rng.IntN(10) {
			case 0, 1, 2:
				w.do(partnerA, now, messages.CmdQuantityChange, qtyOf(id, 1+rng.IntN(10)))
			case 3:
				w.do(partnerA, now, messages.CmdSubscriptionCancel, cancelOf(id))
			case 4:
				w.do(partnerA, now, messages.CmdSubscriptionSuspend, suspendOf(id, "fraud"))
			case 5:
				w.do(partnerA, now, messages.CmdSubscriptionReactivate, reactivateOf(id))
			case 6:
				w.do(partnerA, now, messages.CmdAutoRenewSet, autoRenewOf(id, rng.IntN(3) > 0))
			case 7:
				w.do(partnerA, now, messages.CmdScheduleSet, scheduleOf(id, "", 1+rng.IntN(10), "", ""))
			case 8:
				w.do(partnerA, now, messages.CmdScheduleDelete, &messages.ScheduleDeleteData{SubscriptionID: id})
			case 9:
				p := plans[rng.IntN(len(plans))]
				subs = append(subs, w.buy(now, offerBasic, p[0], p[1], 1+rng.IntN(5)))
			}
		}
		w.advance(now.AddDate(0, 2, 0))
	}
}
