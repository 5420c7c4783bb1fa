package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// coterminousPair buys 10 annual Business Basic licenses at t0 (USD
// 72.00 each, 2026-03-10..2027-03-09) and, a day later, 10 Exchange
// Online Archiving licenses attached to them (USD 36.00 each).
func coterminousPair(t *testing.T, w *world) (base, addon string) {
	t.Helper()
	base = w.buy(t0, taBasic, "P1Y", "annual", 10)
	_, res := taLineResult(w, t0.Add(24*time.Hour), taLine("A1", taArchive, 10, "P1Y", "annual"))
	if res.Status != messages.LineFulfilled {
		t.Fatalf("add-on rejected %+v", res.Rejection)
	}
	return base, res.SubscriptionID
}

// billsOf are the billing events of the subscription in the events.
func subBills(evs []EventDraft, sub string) []*messages.BillingEvent {
	var out []*messages.BillingEvent
	for _, e := range evs {
		if b, ok := e.Data.(*messages.BillingEvent); ok && b.SubscriptionID == sub {
			out = append(out, b)
		}
	}
	return out
}

func TestRule_ORD_9_CoterminousAddonIsCancelledWithItsBase(t *testing.T) {
	w := taWorld(t)
	base, addon := coterminousPair(t, w)
	at := t0.Add(48 * time.Hour) // 2026-03-12T14:00Z, in the base's window
	out := w.do(partnerA, at, messages.CmdSubscriptionCancel, cancelOf(base))
	wantAccepted(t, out)
	want := []messages.EventType{messages.EvtBillingCredit, messages.EvtSubscriptionCancelled, messages.EvtBillingCredit, messages.EvtSubscriptionCancelled}
	if got := eventTypes(out); !equalTypes(got, want) {
		t.Fatalf("events %v", got)
	}
	// Base: 72000 × (365 - 2 used days) / 365 = 71605.48 → 71605.
	if b := subBills(out.Events, base); len(b) != 1 || b[0].AmountMinor != 71605 {
		t.Fatalf("base credit %+v", b)
	}
	// Add-on: charged round_half_up(36000 × 364 / 365) = 35901 for
	// 2026-03-11..2027-03-09; cancelled a day after its purchase, 1 day
	// before it existed and 1 started day of its own are used:
	// round_half_up(36000 × 363 / 365) = 35802.74 → 35803.
	a := subBills(out.Events, addon)
	if len(a) != 1 || a[0].AmountMinor != 35803 || a[0].Reason != messages.BillingReasonCancellation ||
		*a[0].Proration != (messages.Proration{BaseMinor: 36000, UsedDays: 2, UnusedDays: 363, PeriodDays: 365}) {
		t.Fatalf("add-on credit %+v", a)
	}
	c := out.Events[3].Data.(*messages.SubscriptionCancelledEvent)
	if c.SubscriptionID != addon || c.BaseSubscriptionID != base || c.CreditMinor != 35803 {
		t.Fatalf("add-on cancelled %+v", c)
	}
	if s := w.state.Subscriptions[addon]; s.Status != StatusCancelled {
		t.Fatalf("add-on %s", s.Status)
	}
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == addon {
			t.Fatalf("the cancelled add-on kept timer %s", tm.ID)
		}
	}
}

func equalTypes(a, b []messages.EventType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRule_ORD_9_CoterminousAddonRenewsWithItsBase(t *testing.T) {
	for _, minutes := range []int{0, 60} {
		t.Run("ORD-9 renewal processing "+itoa(minutes)+" minutes", func(t *testing.T) {
			w := taWorld(t)
			w.cat.Policy.RenewalProcessingMinutes = minutes
			base, addon := coterminousPair(t, w)
			end := time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)
			if minutes > 0 {
				// The add-on's own term-end timer fires first (its ID sorts
				// before the base's or not: either way the base decides).
				outs := w.advance(end)
				if a := w.state.Subscriptions[addon]; a.RenewalPendingSince == nil || a.Renewals != 0 {
					t.Fatalf("add-on not pending with its base: %+v", a)
				}
				_ = outs
			}
			evs := eventsOf(w.advance(end.Add(time.Duration(minutes) * time.Minute)))
			a, b := w.state.Subscriptions[addon], w.state.Subscriptions[base]
			if a.Renewals != 1 || b.Renewals != 1 || !a.TermEnd.Equal(b.TermEnd) || formatDate(a.TermEnd) != "2028-03-09" || a.RenewalPendingSince != nil {
				t.Fatalf("add-on %+v base %+v", a, b)
			}
			// The add-on's next term: 10 × USD 36.00, a full year.
			ab := subBills(evs, addon)
			if len(ab) != 1 || ab[0].AmountMinor != 36000 || ab[0].Reason != messages.BillingReasonRenewal ||
				ab[0].PeriodStart != "2027-03-10" || ab[0].PeriodEnd != "2028-03-09" {
				t.Fatalf("add-on renewal charge %+v", ab)
			}
			if bb := subBills(evs, base); len(bb) != 1 || bb[0].AmountMinor != 72000 {
				t.Fatalf("base renewal charge %+v", bb)
			}
			renewed := 0
			for _, e := range evs {
				if r, ok := e.Data.(*messages.SubscriptionRenewedEvent); ok && r.SubscriptionID == addon {
					renewed++
				}
			}
			if renewed != 1 {
				t.Fatalf("add-on renewed %d times", renewed)
			}
		})
	}
}

func TestRule_ORD_9_CoterminousAddonTakesItsBasesScheduledTermChange(t *testing.T) {
	w := taWorld(t)
	base, addon := coterminousPair(t, w)
	wantAccepted(t, w.do(partnerA, t0.Add(30*24*time.Hour), messages.CmdScheduleSet, scheduleOf(base, "", 0, "P1Y", "monthly")))
	evs := eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)))
	a := w.state.Subscriptions[addon]
	if a.Term != "P1Y" || a.BillingFrequency != "monthly" || formatDate(a.PeriodEnd) != "2027-04-09" {
		t.Fatalf("add-on %+v", a)
	}
	// First month of the new term: 10 × USD 3.15 for the add-on, 10 ×
	// USD 6.30 for the base.
	if ab := subBills(evs, addon); len(ab) != 1 || ab[0].AmountMinor != 3150 {
		t.Fatalf("add-on charge %+v", ab)
	}
	if bb := subBills(evs, base); len(bb) != 1 || bb[0].AmountMinor != 6300 {
		t.Fatalf("base charge %+v", bb)
	}
}

func TestRule_ORD_9_CoterminousAddonExpiresWithItsBase(t *testing.T) {
	w := taWorld(t)
	base, addon := coterminousPair(t, w)
	wantAccepted(t, w.do(partnerA, t0.Add(30*24*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(base, false)))
	evs := eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)))
	reasons := map[string]string{}
	for _, e := range evs {
		if x, ok := e.Data.(*messages.SubscriptionExpiredEvent); ok {
			reasons[x.SubscriptionID] = x.Reason
		}
	}
	if reasons[base] != messages.ExpiredAutoRenewOff || reasons[addon] != messages.ExpiredWithBase {
		t.Fatalf("expiries %v", reasons)
	}
	if len(subBills(evs, addon)) != 0 {
		t.Fatal("an expired add-on was billed")
	}

	// The add-on's own auto-renew off: it lapses, the base renews.
	w = taWorld(t)
	base, addon = coterminousPair(t, w)
	wantAccepted(t, w.do(partnerA, t0.Add(30*24*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(addon, false)))
	w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))
	if a, b := w.state.Subscriptions[addon], w.state.Subscriptions[base]; a.Status != StatusExpired || b.Renewals != 1 {
		t.Fatalf("add-on %s, base renewals %d", a.Status, b.Renewals)
	}
}
