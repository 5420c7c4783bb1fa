package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

func scheduleOf(id string, offer string, qty int, term, freq string) *messages.ScheduleSetData {
	c := &messages.ScheduleSetData{SubscriptionID: id, OfferID: offer, Term: term, BillingFrequency: freq}
	if qty != 0 {
		c.Quantity = &qty
	}
	return c
}

func TestRule_SCH_1_ScheduledChangesApplyAtRenewal(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 5)
	out := w.do(partnerA, t0.Add(200*time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 8, "P1Y", "annual"))
	wantAccepted(t, out)
	ev := findEvent[*messages.ScheduleChangedEvent](t, out, messages.EvtScheduleChanged)
	if ev.Scheduled == nil || ev.Scheduled.Quantity != 8 || ev.Scheduled.Term != "P1Y" || ev.Reason != "set" {
		t.Fatalf("scheduled %+v", ev)
	}
	// A second set replaces only what it names.
	wantAccepted(t, w.do(partnerA, t0.Add(201*time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 9, "", "")))
	if sc := w.state.Subscriptions[id].Scheduled; sc.Quantity != 9 || sc.Term != "P1Y" || sc.BillingFrequency != "annual" {
		t.Fatalf("merged %+v", sc)
	}
	evs := eventsOf(w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)))
	ren := evs[0].Data.(*messages.SubscriptionRenewedEvent)
	charge := evs[1].Data.(*messages.BillingEvent)
	if ren.Quantity != 9 || ren.Term != "P1Y" || ren.BillingFrequency != "annual" || ren.TermEnd != "2027-04-09" || ren.AppliedChanges == nil {
		t.Fatalf("renewed %+v", ren)
	}
	if charge.AmountMinor != 9*7200 || charge.PeriodEnd != "2027-04-09" {
		t.Fatalf("renewal charge %+v", charge)
	}
	if w.state.Subscriptions[id].Scheduled != nil {
		t.Fatal("scheduled changes kept after they were applied")
	}
}

func TestRule_SCH_1_ScheduledUpgradeValidatedAndApplied(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	// Not an upgrade path (UPG-1): the faculty offer.
	wantRejected(t, w.do(partnerA, t0, messages.CmdScheduleSet, scheduleOf(id, offerFaculty, 0, "", "")), "upgrade_path_not_supported", "UPG-1")
	// Unsupported by policy (UPG-2).
	w.cat.Policy.UnsupportedUpgrades = append(w.cat.Policy.UnsupportedUpgrades, catalog.UpgradePair{From: offerBasic, To: offerStd})
	wantRejected(t, w.do(partnerA, t0, messages.CmdScheduleSet, scheduleOf(id, offerStd, 0, "", "")), "upgrade_not_supported", "UPG-2")
	w.cat.Policy.UnsupportedUpgrades = nil
	// A plan the target does not sell (GEN-4) and a quantity out of range (ORD-6).
	wantRejected(t, w.do(partnerA, t0, messages.CmdScheduleSet, scheduleOf(id, offerStd, 0, "P3Y", "triennial")), CodePlanNotAvailable, "GEN-4")
	wantRejected(t, w.do(partnerA, t0, messages.CmdScheduleSet, scheduleOf(id, offerStd, 301, "", "")), CodeQuantityOutOfRange, "ORD-6")

	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(id, offerStd, 0, "", "")))
	evs := eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)))
	ren := evs[0].Data.(*messages.SubscriptionRenewedEvent)
	if ren.OfferID != offerStd || ren.Warning != "" || evs[1].Data.(*messages.BillingEvent).AmountMinor != 5*15000 {
		t.Fatalf("renewal %+v %+v", ren, evs[1].Data)
	}
	if s := w.state.Subscriptions[id]; s.OfferName != "Microsoft 365 Business Standard" || s.UnitPrice != 15000 {
		t.Fatalf("after the scheduled upgrade %+v", s)
	}
}

func TestRule_SCH_4_UpgradeWithAnotherQuantityWarnsToReassign(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(id, offerStd, 7, "", "")))
	evs := eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)))
	if ren := evs[0].Data.(*messages.SubscriptionRenewedEvent); ren.Warning == "" || ren.Quantity != 7 {
		t.Fatalf("renewed %+v", ren)
	}
}

func TestRule_SCH_2_OnlyActiveWithAutoRenewOn(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, false)))
	wantRejected(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 6, "", "")), CodeScheduleNotAllowed, "SCH-2")
	wantRejected(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: id}), CodeScheduleNotAllowed, "SCH-2")
	wantAccepted(t, w.do(partnerA, t0.Add(3*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, true)))
	wantRejected(t, w.do(partnerA, t0.Add(3*time.Hour), messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: id}), CodeInvalidField, "GEN-6")
	wantRejected(t, w.do(partnerA, t0.Add(3*time.Hour), messages.CmdScheduleDelete, &messages.ScheduleDeleteData{SubscriptionID: id}), CodeNoScheduledChanges, "SCH-1")
	wantAccepted(t, w.do(partnerA, t0.Add(4*time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 6, "", "")))
	out := w.do(partnerA, t0.Add(5*time.Hour), messages.CmdScheduleDelete, &messages.ScheduleDeleteData{SubscriptionID: id})
	if ev := findEvent[*messages.ScheduleChangedEvent](t, out, messages.EvtScheduleChanged); ev.Scheduled != nil || ev.Reason != "deleted" {
		t.Fatalf("deleted %+v", ev)
	}
}

func TestRule_SCH_3_CancelAndAutoRenewOffDeleteScheduledChanges(t *testing.T) {
	for _, tc := range []struct {
		typ  messages.CommandType
		data func(id string) any
	}{
		{messages.CmdAutoRenewSet, func(id string) any { return autoRenewOf(id, false) }},
		{messages.CmdSubscriptionCancel, func(id string) any { return cancelOf(id) }},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
			wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 6, "", "")))
			out := w.do(partnerA, t0.Add(2*time.Hour), tc.typ, tc.data(id))
			wantAccepted(t, out)
			ev := findEvent[*messages.ScheduleChangedEvent](t, out, messages.EvtScheduleChanged)
			if ev.Reason != string(tc.typ) || w.state.Subscriptions[id].Scheduled != nil {
				t.Fatalf("scheduled changes survived %s: %+v", tc.typ, ev)
			}
		})
	}
}

func TestRule_REN_4_ScheduledChangesAreReadOnlyWhileRenewing(t *testing.T) {
	w := newWorld(t)
	w.cat.Policy.RenewalProcessingMinutes = 30
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 2)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 3, "", "")))
	start := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	w.advance(start)
	wantRejected(t, w.do(partnerA, start.Add(time.Minute), messages.CmdScheduleSet, scheduleOf(id, "", 4, "", "")), CodeRenewalPending, "REN-4")
	wantRejected(t, w.do(partnerA, start.Add(time.Minute), messages.CmdScheduleDelete, &messages.ScheduleDeleteData{SubscriptionID: id}), CodeRenewalPending, "REN-4")
}
