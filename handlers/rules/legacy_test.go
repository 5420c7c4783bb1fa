package rules

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// offerLegacyE3 is a legacy license offer (GEN-5). Prices per license per
// billing period: P1M monthly 2300, P1Y monthly 2000, P1Y annual 24000.
const offerLegacyE3 = "LEGACYO365E3:0001"

// legacyCatalog is the test catalog plus a legacy offer and SUS-2's
// retention policy: 90 days, at most 120.
func legacyCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(testCatalog), &doc); err != nil {
		t.Fatal(err)
	}
	policy := doc["policy"].(map[string]any)
	policy["legacy_data_retention_days"], policy["legacy_data_retention_max_days"] = 90, 120
	doc["offers"] = append(doc["offers"].([]any), map[string]any{
		"id": offerLegacyE3, "name": "Office 365 E3 (legacy)", "publisher": "microsoft",
		"commerce_type": "legacy", "billing_type": "license", "one_per_customer": false,
		"segments": []string{"commercial"}, "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
		"plans": []map[string]any{
			{"term": "P1M", "billing_frequency": "monthly", "prices": map[string]int64{"USD": 2300, "JPY": 3450}},
			{"term": "P1Y", "billing_frequency": "monthly", "prices": map[string]int64{"USD": 2000, "JPY": 3000}},
			{"term": "P1Y", "billing_frequency": "annual", "prices": map[string]int64{"USD": 24000, "JPY": 36000}},
		},
	})
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := catalog.Parse(b)
	if err != nil {
		t.Fatalf("legacy test catalog: %v", err)
	}
	return c
}

// legacyWorld is a world with the legacy catalog and a commercial USD
// customer opened on 2026-03-10 (t0 - 1h) whose first billing is on
// firstBilling (YYYY-MM-DD, "" for unknown).
func legacyWorld(t *testing.T, firstBilling string) *world {
	t.Helper()
	w := newWorld(t)
	w.cat = legacyCatalog(t)
	w.createCustomer("commercial", "USD")
	if firstBilling != "" {
		// customer.created's first_billing_date, checked as the command
		// is (firstBillingDate) and stored on the customer.
		d := w.decisionAt(w.state.Customer.CreatedAt)
		fb, ok := d.firstBillingDate(&messages.CustomerCreatedData{FirstBillingDate: firstBilling})
		if !ok {
			t.Fatalf("first_billing_date %s rejected: %+v", firstBilling, d.rejected)
		}
		c := *w.state.Customer
		c.FirstBillingDate = fb
		w.state.Customer = &c
	}
	return w
}

// decisionAt is a decision of partner A at now over the world's state,
// for the helpers that decide part of a command.
func (w *world) decisionAt(now time.Time) *decision {
	return &decision{in: Input{Command: messages.Command{ID: "probe", CustomerID: customer1}, PartnerID: partnerA, Now: now,
		State: w.state, Catalog: w.cat}, eventCmdID: "probe", state: w.state.clone()}
}

func chargesOfSub(evs []EventDraft, sub string) []*messages.BillingEvent {
	var out []*messages.BillingEvent
	for _, e := range evs {
		if b, ok := e.Data.(*messages.BillingEvent); ok && e.Type == messages.EvtBillingCharge && b.SubscriptionID == sub {
			out = append(out, b)
		}
	}
	return out
}

// suspendedAt is when the SUS-2 cases suspend: 48 hours after purchase.
var suspendedAt = t0.Add(48 * time.Hour) // 2026-03-12T14:00:00Z

func TestRule_SUS_2_DataDeletionDate(t *testing.T) {
	for _, tc := range []struct {
		name         string
		firstBilling string
		days         int
	}{
		{"SUS-2 first billing unknown: 90 days", "", 90},
		{"SUS-2 first billing on the opening day: 90 days", "2026-03-10", 90},
		{"SUS-2 first billing 20 days after opening: 110 days", "2026-03-30", 110},
		{"SUS-2 first billing 30 days after opening: 120 days", "2026-04-09", 120},
		{"SUS-2 first billing 50 days after opening: capped at 120 days", "2026-04-29", 120},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := legacyWorld(t, tc.firstBilling)
			id := w.buy(t0, offerLegacyE3, "P1Y", "monthly", 2)
			out := w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment"))
			wantAccepted(t, out)
			ev := findEvent[*messages.SubscriptionSuspendedEvent](t, out, messages.EvtSubscriptionSuspended)
			want := suspendedAt.Add(time.Duration(tc.days) * 24 * time.Hour)
			if !ev.DataDeletionAt.Equal(want) || !ev.ExpiresAt.Equal(want) || ev.BillingContinues || ev.AutoRenewTurnedOff {
				t.Fatalf("suspended %+v, want data deletion at %v", ev, want)
			}
			// SUS-4 is new commerce: a legacy subscription keeps auto-renew (REN-1).
			if s := w.state.Subscriptions[id]; s.Status != StatusSuspended || !s.AutoRenew {
				t.Fatalf("status %s, auto-renew %v", s.Status, s.AutoRenew)
			}
			if due := timerDue(t, w, id, TimerDataDeletion); !due.Equal(want) {
				t.Fatalf("data deletion timer due %v, want %v", due, want)
			}
		})
	}
}

// SUS-3 and SUS-4 stay as they were for new commerce: no deletion date,
// billing continues, auto-renew off.
func TestRule_SUS_2_NewCommerceSuspensionHasNoDeletionDate(t *testing.T) {
	w := legacyWorld(t, "2026-03-30")
	id := w.buy(t0, offerBasic, "P1Y", "monthly", 2)
	out := w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment"))
	ev := findEvent[*messages.SubscriptionSuspendedEvent](t, out, messages.EvtSubscriptionSuspended)
	if !ev.DataDeletionAt.IsZero() || !ev.BillingContinues || !ev.AutoRenewTurnedOff || !ev.ExpiresAt.Equal(date("2027-03-10")) {
		t.Fatalf("new-commerce suspension %+v", ev)
	}
	if w.state.Subscriptions[id].AutoRenew {
		t.Fatal("SUS-4: suspending a new-commerce subscription must turn auto-renew off")
	}
	for _, tm := range w.state.Timers {
		if tm.Kind == TimerDataDeletion {
			t.Fatalf("new-commerce suspension set %s", tm.ID)
		}
	}
}

func TestRule_SUS_2_DataDeletionFiresExactlyOnce(t *testing.T) {
	w := legacyWorld(t, "")
	id := w.buy(t0, offerLegacyE3, "P1Y", "monthly", 2)
	wantAccepted(t, w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "fraud")))
	deletion := suspendedAt.Add(90 * 24 * time.Hour) // 2026-06-10T14:00:00Z
	fire := *w.state.Timers[timerID(TimerDataDeletion, id, deletion)]

	// Three billing periods start before the deletion: none is charged.
	if evs := withoutNotices(eventsOf(w.advance(deletion.Add(-time.Nanosecond)))); len(evs) != 0 {
		t.Fatalf("events before the deletion date: %v", evs)
	}
	evs := withoutNotices(eventsOf(w.advance(deletion)))
	if len(evs) != 1 || evs[0].Type != messages.EvtSubscriptionExpired {
		t.Fatalf("at the deletion date: %v", evs)
	}
	if e := evs[0].Data.(*messages.SubscriptionExpiredEvent); e.Reason != messages.ExpiredLegacyDataDeleted || !e.DataDeleted || e.TermEnd != "2027-03-09" {
		t.Fatalf("expired %+v", e)
	}
	if s := w.state.Subscriptions[id]; s.Status != StatusExpired || !s.ExpiredAt.Equal(deletion) {
		t.Fatalf("status %s expired at %v", s.Status, s.ExpiredAt)
	}
	if len(w.state.Timers) != 0 {
		t.Fatalf("timers left: %v", w.state.Timers)
	}
	// Exactly once: nothing more fires, and the fired timer delivered again
	// (a redelivery) changes nothing.
	if evs := withoutNotices(eventsOf(w.advance(deletion.AddDate(2, 0, 0)))); len(evs) != 0 {
		t.Fatalf("a second advance fired %v", evs)
	}
	again := w.do(messages.SystemPartner, deletion, messages.CmdTimerFired,
		&messages.TimerFiredData{TimerID: fire.ID, Kind: fire.Kind, SubscriptionID: id, DueAt: fire.DueAt})
	if again.Rejected != nil || len(again.Events)+len(again.Changed) != 0 {
		t.Fatalf("the timer fired twice: %+v", again)
	}
	wantRejected(t, w.do(partnerA, deletion.Add(time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(id)), CodeSubscriptionExpired, "SUS-3")
}

func TestRule_SUS_2_ReactivationBeforeTheDateCancelsDeletion(t *testing.T) {
	for _, tc := range []struct {
		name      string
		at        time.Duration // after the suspension
		code      string
		chargeMin int64
	}{
		// SUS-6: one hour before the deletion instant. The period that
		// started on 2026-06-10 (06-10..07-09, 30 days) was not charged:
		// all 30 days are charged now, 2 x 2000.
		{"SUS-6 legacy reactivated an hour before the deletion date", 90*24*time.Hour - time.Hour, "", 4000},
		// At the instant: too late. The deletion timer is due, so it
		// fires before the command even when the scheduler has not sent
		// it yet (G7): the subscription has expired with its data.
		{"SUS-6 legacy reactivated at the deletion date", 90 * 24 * time.Hour, CodeSubscriptionExpired, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := legacyWorld(t, "")
			id := w.buy(t0, offerLegacyE3, "P1Y", "monthly", 2)
			wantAccepted(t, w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "customer_request")))
			at := suspendedAt.Add(tc.at)
			w.advance(at.Add(-time.Nanosecond))
			out := w.do(partnerA, at, messages.CmdSubscriptionReactivate, reactivateOf(id))
			if tc.code != "" {
				wantRejected(t, out, tc.code, "SUS-3")
				if ev := findEvent[*messages.SubscriptionExpiredEvent](t, out, messages.EvtSubscriptionExpired); ev.Reason != messages.ExpiredLegacyDataDeleted || !ev.DataDeleted {
					t.Fatalf("expired %+v", ev)
				}
				return
			}
			wantAccepted(t, out)
			if got := eventTypes(out); len(got) != 2 || got[0] != messages.EvtSubscriptionReactivated || got[1] != messages.EvtBillingCharge {
				t.Fatalf("events %v", got)
			}
			if ev := findEvent[*messages.SubscriptionReactivatedEvent](t, out, messages.EvtSubscriptionReactivated); !ev.AutoRenew || ev.Reminder != "" {
				t.Fatalf("reactivated %+v", ev)
			}
			if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != tc.chargeMin {
				t.Fatalf("reactivation charge %+v", c)
			}
			for _, tm := range w.state.Timers {
				if tm.Kind == TimerDataDeletion {
					t.Fatalf("the deletion timer survived the reactivation: %s", tm.ID)
				}
			}
			evs := withoutNotices(eventsOf(w.advance(at.AddDate(0, 6, 0))))
			for _, e := range evs {
				if e.Type == messages.EvtSubscriptionExpired {
					t.Fatalf("expired after the reactivation: %+v", e.Data)
				}
			}
			if s := w.state.Subscriptions[id]; s.Status != StatusActive || len(chargesOfSub(evs, id)) != 6 {
				t.Fatalf("status %s, %d charges in six months", s.Status, len(chargesOfSub(evs, id)))
			}
		})
	}
}

// GEN-5: legacy and new commerce side by side. A suspended legacy
// subscription is not billed (Partner Center: new commerce bills while
// suspended "unlike legacy"); new commerce keeps billing (SUS-3,
// unchanged). On reactivation the legacy period that started while
// suspended is charged for the rest of it.
func TestRule_GEN_5_SUS_2_SUS_3_NoBillingWhileSuspendedUnlikeNewCommerce(t *testing.T) {
	w := legacyWorld(t, "")
	legacy := w.buy(t0, offerLegacyE3, "P1Y", "monthly", 2)
	nc := w.buy(t0, offerBasic, "P1Y", "monthly", 2)
	for _, id := range []string{legacy, nc} {
		wantAccepted(t, w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment")))
	}
	evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC))))
	ncCharges := chargesOfSub(evs, nc)
	if len(ncCharges) != 2 || ncCharges[0].AmountMinor != 1260 || ncCharges[1].AmountMinor != 1260 ||
		ncCharges[1].PeriodStart != "2026-05-10" || ncCharges[1].Rule != "GEN-4" {
		t.Fatalf("SUS-3: new commerce must bill while suspended, got %+v", ncCharges)
	}
	if c := chargesOfSub(evs, legacy); len(c) != 0 {
		t.Fatalf("SUS-2: a suspended legacy subscription was charged %+v", c[0])
	}
	// The periods moved on, uncharged.
	if s := w.state.Subscriptions[legacy]; s.PeriodIndex != 2 || s.PeriodCharge != 0 || formatDate(s.PeriodStart) != "2026-05-10" {
		t.Fatalf("legacy period %d %s charge %d", s.PeriodIndex, formatDate(s.PeriodStart), s.PeriodCharge)
	}

	// Reactivated on 2026-05-20: 21 of the 31 days of 05-10..06-09 are
	// charged, round_half_up(4000 x 21 / 31) = 2710.
	out := w.do(partnerA, time.Date(2026, 5, 20, 10, 0, 0, 0, time.UTC), messages.CmdSubscriptionReactivate, reactivateOf(legacy))
	wantAccepted(t, out)
	c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
	if c.AmountMinor != 2710 || c.Quantity != 2 || c.UnitPriceMinor != 2000 || c.PeriodStart != "2026-05-20" || c.PeriodEnd != "2026-06-09" ||
		c.Reason != messages.BillingReasonReactivation || c.Rule != "SUS-2" ||
		*c.Proration != (messages.Proration{BaseMinor: 4000, UsedDays: 10, UnusedDays: 21, PeriodDays: 31}) {
		t.Fatalf("reactivation charge %+v %+v", c, c.Proration)
	}
	// Billing resumes in full at the next period, on its usual anchor.
	evs = withoutNotices(eventsOf(w.advance(date("2026-06-10"))))
	if lc := chargesOfSub(evs, legacy); len(lc) != 1 || lc[0].AmountMinor != 4000 || lc[0].PeriodStart != "2026-06-10" || lc[0].PeriodEnd != "2026-07-09" {
		t.Fatalf("next legacy period %+v", lc)
	}
	if nc := chargesOfSub(evs, nc); len(nc) != 1 || nc[0].AmountMinor != 1260 {
		t.Fatalf("next new-commerce period %+v", nc)
	}
}

// A legacy term that ends while suspended renews, unbilled, and the
// subscription stays suspended until its deletion date; a new-commerce one
// expires at term end (SUS-3, unchanged).
func TestRule_SUS_2_SUS_3_TermEndWhileSuspendedRenewsUnbilled(t *testing.T) {
	w := legacyWorld(t, "")
	legacy := w.buy(t0, offerLegacyE3, "P1M", "monthly", 3)
	nc := w.buy(t0, offerBasic, "P1M", "monthly", 3)
	for _, id := range []string{legacy, nc} {
		wantAccepted(t, w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment")))
	}
	evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC))))
	var renewed []string
	for _, e := range evs {
		switch d := e.Data.(type) {
		case *messages.SubscriptionRenewedEvent:
			renewed = append(renewed, d.SubscriptionID+" "+d.TermStart)
		case *messages.SubscriptionExpiredEvent:
			if d.SubscriptionID != nc || d.Reason != messages.ExpiredSuspendedAtTermEnd || !d.DataDeleted || d.TermEnd != "2026-04-09" {
				t.Fatalf("expired %+v", d)
			}
		case *messages.BillingEvent:
			t.Fatalf("charged while suspended: %+v", d)
		}
	}
	if len(renewed) != 2 || renewed[0] != legacy+" 2026-04-10" || renewed[1] != legacy+" 2026-05-10" {
		t.Fatalf("renewals %v", renewed)
	}
	if s := w.state.Subscriptions[legacy]; s.Status != StatusSuspended || s.Renewals != 2 || s.PeriodCharge != 0 {
		t.Fatalf("legacy %s, %d renewals, charge %d", s.Status, s.Renewals, s.PeriodCharge)
	}
	if s := w.state.Subscriptions[nc]; s.Status != StatusExpired {
		t.Fatalf("new commerce %s", s.Status)
	}
	// SUS-6: reactivated after two renewals, before the deletion date:
	// round_half_up(6900 x 26 / 31) = 5787 for 05-15..06-09.
	out := w.do(partnerA, time.Date(2026, 5, 15, 8, 0, 0, 0, time.UTC), messages.CmdSubscriptionReactivate, reactivateOf(legacy))
	wantAccepted(t, out)
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 5787 || c.PeriodStart != "2026-05-15" || c.PeriodEnd != "2026-06-09" {
		t.Fatalf("reactivation charge %+v", c)
	}
	evs = withoutNotices(eventsOf(w.advance(date("2026-06-10"))))
	if c := chargesOfSub(evs, legacy); len(c) != 1 || c[0].AmountMinor != 6900 || c[0].Reason != messages.BillingReasonRenewal {
		t.Fatalf("renewal after reactivation %+v", c)
	}
}

// A suspension within the period that was charged when it started is not
// credited, and reactivating in the same period charges nothing more.
func TestRule_SUS_2_NoCreditAndNoChargeWithinTheChargedPeriod(t *testing.T) {
	w := legacyWorld(t, "")
	id := w.buy(t0, offerLegacyE3, "P1Y", "annual", 1)
	out := w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "customer_request"))
	if got := eventTypes(out); len(got) != 1 || got[0] != messages.EvtSubscriptionSuspended {
		t.Fatalf("suspension events %v", got)
	}
	out = w.do(partnerA, suspendedAt.AddDate(0, 1, 0), messages.CmdSubscriptionReactivate, reactivateOf(id))
	if got := typesWithoutNotices(out); len(got) != 1 || got[0] != messages.EvtSubscriptionReactivated {
		t.Fatalf("reactivation events %v", got)
	}
	if s := w.state.Subscriptions[id]; s.PeriodCharge != 24000 || formatDate(s.PeriodStart) != "2026-03-10" {
		t.Fatalf("period charge %d from %s", s.PeriodCharge, formatDate(s.PeriodStart))
	}
}

func TestRule_SUS_2_RetentionPolicyMissingRejectsTheSuspension(t *testing.T) {
	w := legacyWorld(t, "")
	id := w.buy(t0, offerLegacyE3, "P1M", "monthly", 1)
	w.cat.Policy.LegacyDataRetentionDays = 0 // a catalog that no longer sells legacy offers
	wantRejected(t, w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "fraud")), CodeLegacyRetentionNotConfigured, "SUS-2")
}

func TestRule_SUS_2_FirstBillingDate(t *testing.T) {
	opened := t0.Add(-time.Hour) // 2026-03-10T13:00:00Z
	for _, tc := range []struct {
		name, in string
		ok       bool
		gap      int
	}{
		{"SUS-2 absent", "", true, 0},
		{"SUS-2 the opening day", "2026-03-10", true, 0},
		{"SUS-2 20 days later", "2026-03-30", true, 20},
		{"SUS-2 a year later", "2027-03-10", true, 365},
		{"SUS-2 the day before opening", "2026-03-09", false, 0},
		{"SUS-2 not a date", "2026/03/30", false, 0},
		{"SUS-2 no such day", "2026-02-30", false, 0},
		{"SUS-2 with a time", "2026-03-30T00:00:00Z", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			d := w.decisionAt(opened)
			fb, ok := d.firstBillingDate(&messages.CustomerCreatedData{FirstBillingDate: tc.in})
			if ok != tc.ok {
				t.Fatalf("ok %v, rejection %+v", ok, d.rejected)
			}
			if !ok {
				if d.rejected.Code != CodeInvalidField || d.rejected.Rule != "GEN-6" || d.rejected.Data["field"] != "data.first_billing_date" {
					t.Fatalf("rejection %+v", d.rejected)
				}
				return
			}
			c := *w.state.Customer
			c.FirstBillingDate = fb
			d.state.Customer = &c
			if g := d.accountGapDays(); g != tc.gap {
				t.Fatalf("gap %d days, want %d", g, tc.gap)
			}
		})
	}
}

// REN-1: auto-renew can be turned off only for marketplace and new-commerce
// subscriptions; a legacy subscription's is locked on.
func TestRule_REN_1_LegacyAutoRenewIsLocked(t *testing.T) {
	w := legacyWorld(t, "")
	legacy := w.buy(t0, offerLegacyE3, "P1Y", "annual", 1)
	nc := w.buy(t0, offerBasic, "P1Y", "annual", 1)
	for _, tc := range []struct {
		name string
		sub  string
		on   bool
		code string
	}{
		{"REN-1 legacy off is rejected", legacy, false, CodeAutoRenewLocked},
		{"REN-1 legacy on is accepted", legacy, true, ""},
		{"REN-1 new commerce off is accepted", nc, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := w.decisionAt(t0.Add(time.Hour))
			ok := d.autoRenewUnlocked(w.state.Subscriptions[tc.sub], tc.on)
			if tc.code == "" {
				if !ok || d.rejected != nil {
					t.Fatalf("rejected %+v", d.rejected)
				}
				return
			}
			if ok || d.rejected == nil || d.rejected.Code != tc.code || d.rejected.Rule != "REN-1" ||
				d.rejected.Data["subscription_id"] != tc.sub || d.rejected.Data["commerce_type"] != "legacy" {
				t.Fatalf("ok %v, rejection %+v", ok, d.rejected)
			}
		})
	}
}

// SUS-2 with QTY-1 and QTY-2: a legacy subscription reactivated late in a
// period it was not charged for is charged for the days left, and its
// period then starts on the reactivation day; licenses added or removed
// after that are still prorated by the full period's days, so a license
// costs the same per day as for the rest of the term.
func TestRule_SUS_2_ReactivatedPartialPeriodProratesAtTheFullPeriodsDailyValue(t *testing.T) {
	w := legacyWorld(t, "")
	o, _ := w.cat.Offer(offerLegacyE3)
	p, _ := o.Plan("P1Y", "monthly")
	p.Prices["USD"] = 2100 // the deployed catalog's price
	id := w.buy(t0, offerLegacyE3, "P1Y", "monthly", 2)
	wantAccepted(t, w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "customer_request")))
	// The period 2026-04-10..2026-05-09 (30 days) starts while suspended,
	// uncharged; reactivated on 2026-05-04 with 6 days left:
	// 2 × 2100 × 6 / 30 = 840.
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	w.advance(at)
	out := w.do(partnerA, at, messages.CmdSubscriptionReactivate, reactivateOf(id))
	wantAccepted(t, out)
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 840 || c.PeriodStart != "2026-05-04" {
		t.Fatalf("reactivation charge %+v", c)
	}
	// +10 an hour later: 24 uncharged days + 1 started day used, 5 of 30
	// left: 21000 × 5 / 30 = 3500 (not 21000 × 5 / 6 = 17500).
	out, _ = changeQty(t, w, at.Add(time.Hour), id, 12)
	c := billsOf(out)[0]
	if c.AmountMinor != 3500 || *c.Proration != (messages.Proration{BaseMinor: 21000, UsedDays: 25, UnusedDays: 5, PeriodDays: 30}) {
		t.Fatalf("increase charge %d %+v", c.AmountMinor, c.Proration)
	}
	// Removed again an hour later, held 1 started day: 4 of 30 days are
	// given back, 21000 × 4 / 30 = 2800; 700 paid = 10 licenses × 1 day.
	out, _ = changeQty(t, w, at.Add(2*time.Hour), id, 2)
	if cr := billsOf(out)[0]; cr.AmountMinor != 2800 || cr.AmountMinor > c.AmountMinor {
		t.Fatalf("decrease credit %d %+v", cr.AmountMinor, cr.Proration)
	}
	if s := w.state.Subscriptions[id]; s.PeriodCharge != 840 {
		t.Fatalf("period charge %d", s.PeriodCharge)
	}
}
