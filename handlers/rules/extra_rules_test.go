package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func TestRule_ORD_1_LinesAreDecidedOnTheirOwnAndTheOrderIsRemembered(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	out := w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: intp(2), Term: "P1Y", BillingFrequency: "annual"},
		{LineID: "L2", OfferID: offerFaculty, Quantity: intp(2), Term: "P1Y", BillingFrequency: "annual"}, // ORD-3: not for commercial
		{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"},   // duplicate line ID
	}})
	ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
	if ev.Status != messages.OrderPartiallyCompleted || ev.Lines[0].Status != messages.LineFulfilled ||
		ev.Lines[1].Rejection.Rule != "ORD-3" || ev.Lines[2].Rejection.Code != CodeInvalidField {
		t.Fatalf("order %+v", ev)
	}
	o := w.state.Orders["O-1"]
	if o == nil || o.Status != messages.OrderPartiallyCompleted || len(o.Lines) != 3 || o.Lines[1].Code != CodeSegmentNotEligible {
		t.Fatalf("remembered order %+v", o)
	}
	// Every line rejected: the order failed, and it is still remembered.
	out = w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-2", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerFaculty, Quantity: intp(2), Term: "P1Y", BillingFrequency: "annual"}}})
	if ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed); ev.Status != messages.OrderFailed || w.state.Orders["O-2"] == nil {
		t.Fatalf("failed order %+v", ev)
	}
	wantRejected(t, w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-3"}), CodeInvalidField, "GEN-6")
}

func TestRule_ORD_10_ATrialIsAutomaticFreeAndBecomesPaidAtItsEnd(t *testing.T) {
	w := taWorld(t)
	out := w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-T", Lines: []messages.OrderLine{{LineID: "L1", OfferID: taTrial}}})
	wantAccepted(t, out)
	for _, e := range out.Events {
		if e.Type == messages.EvtBillingCharge {
			t.Fatalf("the trial was charged: %+v", e.Data)
		}
	}
	evs := withoutNotices(eventsOf(w.advance(t0.AddDate(0, 1, 1))))
	charged := false
	for _, e := range evs {
		if e.Type == messages.EvtBillingCharge && e.Data.(*messages.BillingEvent).AmountMinor > 0 {
			charged = true
		}
	}
	if !charged {
		t.Fatalf("the trial did not become paid at its end: %v", evs)
	}
}

func TestRule_ORD_11_PricesIncludeTaxInAustraliaAndBrazil(t *testing.T) {
	for _, tc := range []struct {
		country string
		incl    bool
	}{{"AU", true}, {"BR", true}, {"US", false}, {"DE", false}} {
		w := newWorld(t)
		out := w.do(partnerA, t0, messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "X", Segment: "commercial", Country: tc.country, Currency: "USD"})
		wantAccepted(t, out)
		out = w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"}}})
		if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.TaxInclusive != tc.incl {
			t.Fatalf("%s: tax inclusive %v, want %v", tc.country, c.TaxInclusive, tc.incl)
		}
	}
}

func TestRule_SUS_7_NoStatusChangeDuringATrialOrAPendingRenewal(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)
	wantRejected(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(trial, "fraud")), CodeTrialNoChange, "TRI-3")
	wantRejected(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(trial)), CodeTrialNoChange, "TRI-3")

	r, id, start := renewingWorld(t, 0)
	wantRejected(t, r.do(partnerA, start.Add(time.Minute), messages.CmdSubscriptionSuspend, suspendOf(id, "fraud")), CodeRenewalPending, "REN-4")
}
