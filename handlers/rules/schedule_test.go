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
	evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))))
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
	evs := withoutNotices(eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))))
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
	evs := withoutNotices(eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))))
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

// withoutPlan removes a plan from an offer of the world's catalog: it is no
// longer sold.
func withoutPlan(t *testing.T, w *world, offerID, term, freq string) {
	t.Helper()
	o, ok := w.cat.Offer(offerID)
	if !ok {
		t.Fatalf("no offer %s", offerID)
	}
	var plans []catalog.Plan
	for _, p := range o.Plans {
		if p.Term != term || p.BillingFrequency != freq {
			plans = append(plans, p)
		}
	}
	if len(plans) == len(o.Plans) {
		t.Fatalf("%s sells no %s %s plan", offerID, term, freq)
	}
	o.Plans = plans
}

// A switch to monthly billing (with 8 licenses) is scheduled; by the
// renewal the catalog no longer sells the monthly plan and the annual
// price went up. The renewal never charges the annual subscription's old
// price for a monthly period, nor the scheduled quantity on a plan that
// was not asked for: the whole change is dropped, the event says why, and
// the subscription renews on its annual plan at the annual plan's current
// price.
func TestRule_SCH_1_ScheduledPlanNoLongerSoldIsDroppedAndRenewsOnTheCurrentPlan(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(id, "", 8, "", "monthly")))
	withoutPlan(t, w, offerBasic, "P1Y", "monthly")
	o, _ := w.cat.Offer(offerBasic)
	annual, _ := o.Plan("P1Y", "annual")
	annual.Prices["USD"] = 7500

	evs := withoutNotices(eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))))
	if len(evs) != 2 || evs[0].Type != messages.EvtSubscriptionRenewed || evs[1].Type != messages.EvtBillingCharge {
		t.Fatalf("renewal events %+v", evs)
	}
	ren := evs[0].Data.(*messages.SubscriptionRenewedEvent)
	if ren.BillingFrequency != "annual" || ren.Term != "P1Y" || ren.Quantity != 5 || ren.OfferID != offerBasic || ren.AppliedChanges != nil || ren.TermEnd != "2028-03-09" {
		t.Fatalf("renewed %+v", ren)
	}
	dropped := ren.DroppedChanges
	if dropped == nil || dropped.Scheduled == nil || *dropped.Scheduled != (messages.ScheduledChangeView{Quantity: 8, BillingFrequency: "monthly"}) ||
		dropped.Code != CodePlanNotAvailable || dropped.Rule != "GEN-4" || dropped.Description == "" {
		t.Fatalf("dropped changes %+v", dropped)
	}
	charge := evs[1].Data.(*messages.BillingEvent)
	if charge.AmountMinor != 5*7500 || charge.UnitPriceMinor != 7500 || charge.Quantity != 5 || charge.PeriodStart != "2027-03-10" || charge.PeriodEnd != "2028-03-09" {
		t.Fatalf("renewal charge %+v", charge)
	}
	if s := w.state.Subscriptions[id]; s.Scheduled != nil || s.BillingFrequency != "annual" || s.UnitPrice != 7500 {
		t.Fatalf("after the renewal %+v", s)
	}
}

// A scheduled upgrade whose target no longer sells the subscription's
// plan is dropped the same way (its quantity too: the licenses were to be
// reassigned with the upgrade, SCH-4); a scheduled quantity alone names
// no plan and applies. When even the current plan is no longer sold, both
// subscriptions renew on it at the unit price they have, a price of their
// own plan and billing frequency.
func TestRule_SCH_1_CurrentPlanNoLongerSoldRenewsAtTheSubscriptionsPrice(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	up := w.buy(t0, offerBasic, "P1M", "monthly", 5)
	more := w.buy(t0, offerBasic, "P1M", "monthly", 2)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(up, offerStd, 7, "", "")))
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, scheduleOf(more, "", 3, "", "")))
	withoutPlan(t, w, offerStd, "P1M", "monthly")
	withoutPlan(t, w, offerBasic, "P1M", "monthly")

	evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))))
	renewed := map[string]*messages.SubscriptionRenewedEvent{}
	charged := map[string]int64{}
	for _, e := range evs {
		switch d := e.Data.(type) {
		case *messages.SubscriptionRenewedEvent:
			renewed[d.SubscriptionID] = d
		case *messages.BillingEvent:
			charged[d.SubscriptionID] += d.AmountMinor
		}
	}
	if ren := renewed[up]; ren == nil || ren.OfferID != offerBasic || ren.Quantity != 5 || ren.BillingFrequency != "monthly" || ren.Warning != "" ||
		ren.AppliedChanges != nil || ren.DroppedChanges == nil || ren.DroppedChanges.Code != CodePlanNotAvailable ||
		*ren.DroppedChanges.Scheduled != (messages.ScheduledChangeView{OfferID: offerStd, Quantity: 7}) {
		t.Fatalf("renewed %+v", ren)
	}
	if ren := renewed[more]; ren == nil || ren.Quantity != 3 || ren.DroppedChanges != nil || ren.AppliedChanges == nil {
		t.Fatalf("renewed %+v", ren)
	}
	if len(evs) != 4 || charged[up] != 5*720 || charged[more] != 3*720 {
		t.Fatalf("events %d, charges %v", len(evs), charged)
	}
}

// SCH-3 with SUS-4: suspending a new-commerce subscription turns its
// auto-renew off, and turning auto-renew off deletes the scheduled
// changes; reactivating and turning auto-renew back on does not bring
// them back. Business Basic P1M monthly, 10 × USD 7.20 bought at t0,
// quantity 12 scheduled, then suspended, reactivated and auto-renew
// turned on: the renewal charges the 10 licenses it has, 10 × 720 = 7200,
// not the 12 once scheduled (8640).
func TestRule_SCH_3_SuspensionDeletesScheduledChanges(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 10)
	wantAccepted(t, w.do(partnerA, t0.Add(48*time.Hour), messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: id, Quantity: intp(12)}))
	out := w.do(partnerA, t0.Add(72*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, messages.ReasonNonPayment))
	wantAccepted(t, out)
	ch := findEvent[*messages.ScheduleChangedEvent](t, out, messages.EvtScheduleChanged)
	if ch.Reason != string(messages.CmdSubscriptionSuspend) || w.state.Subscriptions[id].Scheduled != nil {
		t.Errorf("schedule.changed %+v, scheduled %+v: want deleted by the suspension", ch, w.state.Subscriptions[id].Scheduled)
	}
	wantAccepted(t, w.do(partnerA, t0.Add(96*time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(id)))
	wantAccepted(t, w.do(partnerA, t0.Add(120*time.Hour), messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: id, Enabled: boolp(true)}))
	if got := chargesOf(withoutNotices(eventsOf(w.advance(time.Date(2026, 4, 10, 1, 0, 0, 0, time.UTC)))))[id]; got != 7200 {
		t.Errorf("renewal charge %d, want 7200 = 10 × 720", got)
	}
}
