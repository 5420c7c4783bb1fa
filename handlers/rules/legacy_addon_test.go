package rules

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

const offerLegacyArchive = "LEGACYARCHIV:0001"

// legacyAddonWorld adds a co-terminous legacy add-on of the legacy E3
// offer to the legacy catalog.
func legacyAddonWorld(t *testing.T) *world {
	w := legacyWorld(t, "")
	var doc map[string]any
	b, _ := json.Marshal(w.cat)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["offers"] = append(doc["offers"].([]any), map[string]any{
		"id": offerLegacyArchive, "name": "Exchange Online Archiving (legacy)", "publisher": "microsoft",
		"commerce_type": "legacy", "billing_type": "license", "one_per_customer": false,
		"segments": []string{"commercial"}, "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
		"addon": map[string]any{"kind": "coterminous", "base_offer_ids": []string{offerLegacyE3}},
		"plans": []map[string]any{
			{"term": "P1Y", "billing_frequency": "annual", "prices": map[string]int64{"USD": 3600, "JPY": 5400}},
			{"term": "P1Y", "billing_frequency": "monthly", "prices": map[string]int64{"USD": 300, "JPY": 450}},
			{"term": "P1M", "billing_frequency": "monthly", "prices": map[string]int64{"USD": 360, "JPY": 540}},
		},
	})
	b, _ = json.Marshal(doc)
	c, err := catalog.Parse(b)
	if err != nil {
		t.Fatalf("catalog with a legacy add-on: %v", err)
	}
	w.cat = c
	return w
}

// ORD-9 and SUS-5 with SUS-2: a legacy add-on needs an active legacy base,
// ends with it and is charged prorated to that end; suspending the base
// suspends it with its own data deletion date; reactivating the base
// reactivates it and cancels that deletion.
func TestRule_ORD_9_SUS_5_LegacyAddonFollowsItsLegacyBase(t *testing.T) {
	w := legacyAddonWorld(t)
	base := w.buy(t0, offerLegacyE3, "P1Y", "annual", 10)
	later := t0.AddDate(0, 0, 100) // 2026-06-18T14:00Z
	out := w.do(partnerA, later, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-A", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerLegacyArchive, Quantity: intp(10), Term: "P1Y", BillingFrequency: "annual", BaseSubscriptionID: base}}})
	ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
	if ev.Status != messages.OrderCompleted {
		t.Fatalf("add-on order: %+v", ev.Lines[0].Rejection)
	}
	addon := ev.Lines[0].SubscriptionID
	a := w.state.Subscriptions[addon]
	if !a.TermEnd.Equal(w.state.Subscriptions[base].TermEnd) || a.BaseSubscriptionID != base || a.CommerceType != "legacy" {
		t.Fatalf("add-on %+v", a)
	}
	// Charged from 2026-06-18 to the base's end 2027-03-09: 265 of 365 days.
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != prorate(36000, 265, 365) || c.Rule != "ORD-9" {
		t.Fatalf("first charge %+v", c)
	}

	out = w.do(partnerA, later.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(base, "non_payment"))
	var suspended []*messages.SubscriptionSuspendedEvent
	for _, e := range out.Events {
		if s, ok := e.Data.(*messages.SubscriptionSuspendedEvent); ok {
			suspended = append(suspended, s)
		}
	}
	if len(suspended) != 2 || suspended[1].SubscriptionID != addon || suspended[1].DataDeletionAt.IsZero() || suspended[1].BillingContinues {
		t.Fatalf("cascade %+v", suspended)
	}
	if w.dataDeletionTimers() != 2 {
		t.Fatalf("%d data deletion timers, want one each", w.dataDeletionTimers())
	}
	out = w.do(partnerA, later.Add(48*time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(base))
	if s := w.state.Subscriptions[addon]; s.Status != StatusActive || s.SuspendedWithBase {
		t.Fatalf("add-on after the base's reactivation %+v (%v)", s, eventTypes(out))
	}
	if w.dataDeletionTimers() != 0 {
		t.Fatal("a data deletion survived the reactivation")
	}
}

func (w *world) dataDeletionTimers() int {
	n := 0
	for _, t := range w.state.Timers {
		if t.Kind == TimerDataDeletion {
			n++
		}
	}
	return n
}
