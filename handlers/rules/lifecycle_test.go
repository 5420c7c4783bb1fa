package rules

import (
	"reflect"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func cancelOf(id string) *messages.CancelData { return &messages.CancelData{SubscriptionID: id} }
func suspendOf(id, reason string) *messages.SuspendData {
	return &messages.SuspendData{SubscriptionID: id, Reason: reason}
}
func reactivateOf(id string) *messages.ReactivateData {
	return &messages.ReactivateData{SubscriptionID: id}
}
func autoRenewOf(id string, on bool) *messages.AutoRenewSetData {
	return &messages.AutoRenewSetData{SubscriptionID: id, Enabled: boolp(on)}
}

func TestRule_PTN_1_PartnerActsOnlyOnItsCustomers(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	before := w.state

	// Another partner gets the same answer as for a customer that does not
	// exist, for every command type.
	for _, tc := range []struct {
		typ  messages.CommandType
		data any
	}{
		{messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-x", Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"}}}},
		{messages.CmdSubscriptionSuspend, suspendOf(id, "fraud")},
		{messages.CmdSubscriptionReactivate, reactivateOf(id)},
		{messages.CmdSubscriptionCancel, cancelOf(id)},
		{messages.CmdAutoRenewSet, autoRenewOf(id, false)},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			wantRejected(t, w.do(partnerB, t0.Add(time.Hour), tc.typ, tc.data), CodeNoRelationship, "PTN-1")
		})
	}
	if w.state.Subscriptions[id] != before.Subscriptions[id] || len(w.state.Orders) != len(before.Orders) {
		t.Fatal("a foreign partner's command changed state")
	}

	// A subscription under another partner of record (after a transfer) is
	// refused even to the customer's partner.
	other := *w.state.Subscriptions[id]
	other.PartnerID = partnerB
	w.state.Subscriptions[id] = &other
	wantRejected(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id)), CodeNotPartnerOfRecord, "PTN-1")

	// Unknown customer.
	fresh := newWorld(t)
	wantRejected(t, fresh.do(partnerA, t0, messages.CmdSubscriptionCancel, cancelOf(id)), CodeNoRelationship, "PTN-1")
	wantRejected(t, w.do(partnerA, t0, messages.CmdSubscriptionCancel, cancelOf("sub-unknown")), CodeSubscriptionNotFound, "PTN-1")
}

func TestRule_PTN_1_CustomerCreatedOnce(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	wantRejected(t, w.do(partnerB, t0, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Fabrikam", Segment: "commercial", Country: "US", Currency: "USD"}), CodeCustomerExists, "PTN-1")
	if w.state.Customer.PartnerID != partnerA {
		t.Fatal("the customer changed partner")
	}
	for name, data := range map[string]*messages.CustomerCreatedData{
		"unknown segment":  {CompanyName: "X", Segment: "retail", Country: "US", Currency: "USD"},
		"bad country":      {CompanyName: "X", Segment: "commercial", Country: "usa", Currency: "USD"},
		"no company name":  {Segment: "commercial", Country: "US", Currency: "USD"},
		"unknown currency": {CompanyName: "X", Segment: "commercial", Country: "US", Currency: "XXX"},
	} {
		t.Run(name, func(t *testing.T) {
			out := newWorld(t).do(partnerA, t0, messages.CmdCustomerCreated, data)
			if out.Rejected == nil {
				t.Fatalf("accepted %+v", data)
			}
		})
	}
}

func TestRule_ORD_2_OnePerCustomer(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("nonprofit", "USD")
	first := w.buy(t0, offerGrant, "P1Y", "annual", 1)

	order := func(lines ...messages.OrderLine) *messages.OrderPlacedData {
		return &messages.OrderPlacedData{OrderID: "O-" + itoa(w.n+1), Lines: lines}
	}
	grant := messages.OrderLine{LineID: "L1", OfferID: offerGrant, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"}

	out := w.do(partnerA, t0.Add(time.Hour), messages.CmdOrderPlaced, order(grant))
	line := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed).Lines[0]
	if line.Rejection == nil || line.Rejection.Code != CodeOnePerCustomer || line.Rejection.Rule != "ORD-2" {
		t.Fatalf("second purchase: %+v", line)
	}

	// Suspended: the rejection says to reactivate instead.
	wantAccepted(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(first, "non_payment")))
	out = w.do(partnerA, t0.Add(3*time.Hour), messages.CmdOrderPlaced, order(grant))
	line = findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed).Lines[0]
	if line.Rejection == nil || line.Rejection.Code != CodeOnePerCustomerSuspended || line.Rejection.Data["existing_subscription_id"] != first {
		t.Fatalf("purchase while suspended: %+v", line.Rejection)
	}

	// Cancelled no longer counts.
	wantAccepted(t, w.do(partnerA, t0.Add(4*time.Hour), messages.CmdSubscriptionCancel, cancelOf(first)))
	// Two lines of the same cart: the second one is refused.
	second := grant
	second.LineID = "L2"
	out = w.do(partnerA, t0.Add(5*time.Hour), messages.CmdOrderPlaced, order(grant, second))
	ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
	if ev.Status != messages.OrderPartiallyCompleted || ev.Lines[0].Status != messages.LineFulfilled || ev.Lines[1].Rejection.Code != CodeOnePerCustomer {
		t.Fatalf("same-cart duplicate: %+v", ev)
	}
}

func TestRule_ORD_3_SegmentDecidesAvailability(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	out := w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerFaculty, Quantity: intp(5), Term: "P1Y", BillingFrequency: "annual"}}})
	ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
	if ev.Status != messages.OrderFailed || ev.Lines[0].Rejection.Code != CodeSegmentNotEligible || ev.Lines[0].Rejection.Rule != "ORD-3" {
		t.Fatalf("commercial customer bought an education offer: %+v", ev)
	}
	edu := newWorld(t)
	edu.createCustomer("education", "USD")
	edu.buy(t0, offerFaculty, "P1Y", "annual", 5)
}

func TestRule_ORD_6_Quantity(t *testing.T) {
	for _, tc := range []struct {
		name     string
		offer    string
		qty      *int
		wantCode string
	}{
		{"license needs a quantity", offerBasic, nil, CodeQuantityRequired},
		{"zero licenses", offerBasic, intp(0), CodeQuantityOutOfRange},
		{"negative", offerBasic, intp(-3), CodeQuantityOutOfRange},
		{"over the offer's maximum", offerBasic, intp(301), CodeQuantityOutOfRange},
		{"at the maximum", offerBasic, intp(300), ""},
		{"one license", offerBasic, intp(1), ""},
		{"usage-based takes none", offerAzure, intp(1), CodeQuantityNotAllowed},
		{"usage-based without quantity", offerAzure, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			term := "P1Y"
			freq := "annual"
			if tc.offer == offerAzure {
				term, freq = "P1M", "monthly"
			}
			out := w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
				{LineID: "L1", OfferID: tc.offer, Quantity: tc.qty, Term: term, BillingFrequency: freq}}})
			line := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed).Lines[0]
			if tc.wantCode == "" {
				if line.Status != messages.LineFulfilled {
					t.Fatalf("rejected: %+v", line.Rejection)
				}
				return
			}
			if line.Rejection == nil || line.Rejection.Code != tc.wantCode || line.Rejection.Rule != "ORD-6" {
				t.Fatalf("got %+v, want %s (ORD-6)", line.Rejection, tc.wantCode)
			}
		})
	}
}

func TestRule_ORD_14_LineEmitsChargeAndCreated(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "JPY")
	out := w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: intp(10), Term: "P1Y", BillingFrequency: "monthly"},
		{LineID: "L2", OfferID: "NOPE00000000:0001", Quantity: intp(1), Term: "P1Y", BillingFrequency: "monthly"},
		{LineID: "L3", OfferID: offerBasic, Quantity: intp(2), Term: "P1M", BillingFrequency: "annual"},
	}})
	wantAccepted(t, out)
	want := []messages.EventType{messages.EvtSubscriptionCreated, messages.EvtBillingCharge, messages.EvtOrderProcessed}
	if got := eventTypes(out); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("events %v, want %v", got, want)
	}
	charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
	// 10 licenses x JPY 945 for the first monthly period, JPY has no minor digits.
	if charge.AmountMinor != 9450 || charge.Currency != "JPY" || charge.PeriodStart != "2026-03-10" || charge.PeriodEnd != "2026-04-09" || charge.Rule != "ORD-14" {
		t.Fatalf("charge %+v", charge)
	}
	ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
	if ev.Status != messages.OrderPartiallyCompleted || ev.Lines[1].Rejection.Code != CodeOfferNotFound || ev.Lines[2].Rejection.Code != CodePlanNotAvailable {
		t.Fatalf("order result %+v", ev)
	}
	created := findEvent[*messages.SubscriptionCreatedEvent](t, out, messages.EvtSubscriptionCreated)
	if created.TermEnd != "2027-03-09" || !created.AutoRenew || !created.CancellableUntil.Equal(t0.Add(168*time.Hour)) {
		t.Fatalf("created %+v", created)
	}
	// The same order ID cannot be placed twice.
	wantRejected(t, w.do(partnerA, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "monthly"}}}), CodeDuplicateOrder, "ORD-1")
}

func TestRule_SUS_1_Reasons(t *testing.T) {
	for _, reason := range []string{"customer_request", "non_payment", "fraud"} {
		w := newWorld(t)
		w.createCustomer("commercial", "USD")
		id := w.buy(t0, offerBasic, "P1Y", "annual", 1)
		out := w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, reason))
		wantAccepted(t, out)
		if s := w.state.Subscriptions[id]; s.Status != StatusSuspended || s.SuspendReason != reason {
			t.Fatalf("%s: status %s reason %s", reason, s.Status, s.SuspendReason)
		}
		wantRejected(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, reason)), CodeAlreadySuspended, "SUS-1")
	}
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 1)
	wantRejected(t, w.do(partnerA, t0, messages.CmdSubscriptionSuspend, suspendOf(id, "")), CodeInvalidField, "GEN-6")
}

func TestRule_SUS_3_SuspendWithinTermBillingContinues(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 3)
	out := w.do(partnerA, t0.Add(10*24*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment"))
	wantAccepted(t, out)
	ev := findEvent[*messages.SubscriptionSuspendedEvent](t, out, messages.EvtSubscriptionSuspended)
	if !ev.BillingContinues || !ev.ExpiresAt.Equal(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("suspended event %+v", ev)
	}
	for _, e := range out.Events {
		if e.Type == messages.EvtBillingCredit {
			t.Fatal("suspension emitted a credit; billing continues while suspended")
		}
	}
	// After the term's last day (2026-04-09) nothing can be suspended.
	w2 := newWorld(t)
	w2.createCustomer("commercial", "USD")
	id2 := w2.buy(t0, offerBasic, "P1M", "monthly", 3)
	wantAccepted(t, w2.do(partnerA, time.Date(2026, 4, 9, 23, 59, 59, 0, time.UTC), messages.CmdSubscriptionSuspend, suspendOf(id2, "fraud")))
	w3 := newWorld(t)
	w3.createCustomer("commercial", "USD")
	id3 := w3.buy(t0, offerBasic, "P1M", "monthly", 3)
	// At 00:00 the day after, the term-end timer is due: it fires before
	// the command, even when the scheduler has not sent it yet (G7), so
	// the suspension applies to the renewed term.
	out = w3.do(partnerA, time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC), messages.CmdSubscriptionSuspend, suspendOf(id3, "fraud"))
	wantAccepted(t, out)
	if got := typesWithoutNotices(out); len(got) != 3 || got[0] != messages.EvtSubscriptionRenewed || got[2] != messages.EvtSubscriptionSuspended {
		t.Fatalf("suspension after the term end: %v", got)
	}
	// With auto-renew off the term ends for good: too late to suspend.
	w4 := newWorld(t)
	w4.createCustomer("commercial", "USD")
	id4 := w4.buy(t0, offerBasic, "P1M", "monthly", 3)
	wantAccepted(t, w4.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id4, false)))
	wantRejected(t, w4.do(partnerA, time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC), messages.CmdSubscriptionSuspend, suspendOf(id4, "fraud")), CodeSubscriptionExpired, "SUS-3")
}

func TestRule_SUS_4_SuspendTurnsAutoRenewOffReactivateDoesNotTurnItOn(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 1)
	out := w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, "customer_request"))
	if ev := findEvent[*messages.SubscriptionSuspendedEvent](t, out, messages.EvtSubscriptionSuspended); !ev.AutoRenewTurnedOff || w.state.Subscriptions[id].AutoRenew {
		t.Fatal("suspending left auto-renew on")
	}
	wantRejected(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, true)), CodeSubscriptionSuspended, "SUS-4")
	out = w.do(partnerA, t0.Add(3*time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(id))
	ev := findEvent[*messages.SubscriptionReactivatedEvent](t, out, messages.EvtSubscriptionReactivated)
	if ev.AutoRenew || ev.Reminder == "" || w.state.Subscriptions[id].AutoRenew {
		t.Fatalf("reactivation turned auto-renew on or gave no reminder: %+v", ev)
	}
}

func TestRule_SUS_6_ReactivateOnlyWithinTerm(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 1)
	wantRejected(t, w.do(partnerA, t0, messages.CmdSubscriptionReactivate, reactivateOf(id)), CodeNotSuspended, "SUS-6")
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, "fraud")))
	// At the term end the suspended subscription expires (its term-end
	// timer fires before the command, G7): too late.
	before := w.state
	wantRejected(t, w.do(partnerA, time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC), messages.CmdSubscriptionReactivate, reactivateOf(id)), CodeSubscriptionExpired, "SUS-3")
	w.state = before
	out := w.do(partnerA, time.Date(2026, 4, 9, 12, 0, 0, 0, time.UTC), messages.CmdSubscriptionReactivate, reactivateOf(id))
	wantAccepted(t, out)
	if w.state.Subscriptions[id].Status != StatusActive {
		t.Fatal("not active after reactivation")
	}
}

func TestRule_CAN_1_WindowAndProratedCredit(t *testing.T) {
	for _, tc := range []struct {
		name       string
		term, freq string
		qty        int
		after      time.Duration
		wantCredit int64 // -1: rejected
		wantUsed   int
		wantPeriod int
	}{
		// CAN-1's worked example: 10 licenses, annual term billed
		// annually (USD 72.00 each), cancelled at hour 167: 7 days used of
		// 365, 72000 * 358 / 365 = 70619.18 -> 70619.
		{"annual at hour 167", "P1Y", "annual", 10, 167 * time.Hour, 70619, 7, 365},
		{"annual at hour 169 is rejected", "P1Y", "annual", 10, 169 * time.Hour, -1, 0, 0},
		{"exactly at hour 168 the window is closed", "P1Y", "annual", 10, 168 * time.Hour, -1, 0, 0},
		{"one nanosecond before hour 168", "P1Y", "annual", 10, 168*time.Hour - 1, 70619, 7, 365},
		{"same minute: one day used", "P1Y", "annual", 10, time.Minute, 71803, 1, 365}, // 72000*364/365 = 71802.74
		{"annual billed monthly", "P1Y", "monthly", 10, 49 * time.Hour, 5690, 3, 31},   // 6300*28/31 = 5690.32
		{"monthly term", "P1M", "monthly", 4, 25 * time.Hour, 2694, 2, 31},             // 2880*29/31 = 2694.19
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			id := w.buy(t0, offerBasic, tc.term, tc.freq, tc.qty)
			out := w.do(partnerA, t0.Add(tc.after), messages.CmdSubscriptionCancel, cancelOf(id))
			if tc.wantCredit < 0 {
				r := wantRejected(t, out, CodeCancelWindowClosed, "CAN-1")
				if r.Data["window_end"] != t0.Add(168*time.Hour).Format(time.RFC3339Nano) {
					t.Fatalf("rejection names window end %q", r.Data["window_end"])
				}
				if w.state.Subscriptions[id].Status != StatusActive {
					t.Fatal("rejected cancel changed the subscription")
				}
				return
			}
			wantAccepted(t, out)
			credit := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
			if credit.AmountMinor != tc.wantCredit || credit.Proration.UsedDays != tc.wantUsed || credit.Proration.PeriodDays != tc.wantPeriod {
				t.Fatalf("credit %d (used %d of %d), want %d (used %d of %d)", credit.AmountMinor,
					credit.Proration.UsedDays, credit.Proration.PeriodDays, tc.wantCredit, tc.wantUsed, tc.wantPeriod)
			}
		})
	}
}

func TestRule_CAN_2_CancelledIsFinal(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 1)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id)))
	if s := w.state.Subscriptions[id]; s.Status != StatusCancelled || s.AutoRenew || s.CancelledAt == nil {
		t.Fatalf("after cancel: %+v", s)
	}
	for typ, data := range map[messages.CommandType]any{
		messages.CmdSubscriptionCancel:     cancelOf(id),
		messages.CmdSubscriptionSuspend:    suspendOf(id, "fraud"),
		messages.CmdSubscriptionReactivate: reactivateOf(id),
		messages.CmdAutoRenewSet:           autoRenewOf(id, true),
	} {
		wantRejected(t, w.do(partnerA, t0.Add(2*time.Hour), typ, data), CodeSubscriptionCancelled, "CAN-2")
	}
}

func TestRule_CAN_7_ExactlyOneCreditAndOneNotification(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	lic := w.buy(t0, offerBasic, "P1Y", "annual", 2)
	usage := w.buy(t0, offerAzure, "P1M", "monthly", 0)
	for _, tc := range []struct {
		id   string
		zero bool
	}{{lic, false}, {usage, true}} {
		// A suspended subscription is cancelled too, still inside the window.
		out := w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(tc.id, "customer_request"))
		wantAccepted(t, out)
		out = w.do(partnerA, t0.Add(2*time.Hour), messages.CmdSubscriptionCancel, cancelOf(tc.id))
		wantAccepted(t, out)
		types := eventTypes(out)
		if len(types) != 2 || types[0] != messages.EvtBillingCredit || types[1] != messages.EvtSubscriptionCancelled {
			t.Fatalf("events %v, want one credit and one cancelled", types)
		}
		credit := out.Events[0].Data.(*messages.BillingEvent)
		cancelled := out.Events[1].Data.(*messages.SubscriptionCancelledEvent)
		if (credit.AmountMinor == 0) != tc.zero || cancelled.CreditMinor != credit.AmountMinor ||
			cancelled.CreditEventID != messages.EventID(customer1, "cmd-"+itoa(w.n), 0) {
			t.Fatalf("credit %+v cancelled %+v", credit, cancelled)
		}
	}
	// Usage-based subscriptions can be cancelled after 168 hours, with a
	// zero credit (there is no up-front charge to return).
	u2 := w.buy(t0, offerAzure, "P1M", "monthly", 0)
	out := w.do(partnerA, t0.Add(300*time.Hour), messages.CmdSubscriptionCancel, cancelOf(u2))
	wantAccepted(t, out)
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit); c.AmountMinor != 0 {
		t.Fatalf("usage credit %d", c.AmountMinor)
	}
}

func TestRule_REN_1_AutoRenewSwitch(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 1)
	if !w.state.Subscriptions[id].AutoRenew {
		t.Fatal("auto-renew is not on by default")
	}
	out := w.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, false))
	if ev := findEvent[*messages.AutoRenewChangedEvent](t, out, messages.EvtAutoRenewChanged); ev.Enabled || w.state.Subscriptions[id].AutoRenew {
		t.Fatal("auto-renew still on")
	}
	out = w.do(partnerA, t0.Add(2*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, true))
	if ev := findEvent[*messages.AutoRenewChangedEvent](t, out, messages.EvtAutoRenewChanged); ev.RenewsOn != "2027-03-10" {
		t.Fatalf("renews on %q, want the day after the term end 2027-03-09", ev.RenewsOn)
	}
	// Same value again: confirmed, nothing changes.
	out = w.do(partnerA, t0.Add(3*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, true))
	wantAccepted(t, out)
	if len(out.Changed) != 0 {
		t.Fatalf("a no-op switch changed %v", out.Changed)
	}
	wantRejected(t, w.do(partnerA, t0, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: id}), CodeInvalidField, "GEN-6")
}

func TestDecideIsPureAndDeterministic(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 3)
	before := *w.state.Subscriptions[id]
	in := Input{Command: messages.Command{ID: "c-x", Type: messages.CmdSubscriptionCancel, CustomerID: customer1, Data: cancelOf(id)},
		PartnerID: partnerA, Now: t0.Add(time.Hour), State: w.state, Catalog: w.cat}
	a, b := Decide(in), Decide(in)
	if !reflect.DeepEqual(*w.state.Subscriptions[id], before) {
		t.Fatal("Decide mutated its input state")
	}
	fa, _ := a.State.EncodeFields(a.Changed)
	fb, _ := b.State.EncodeFields(b.Changed)
	if string(fa[SubscriptionField(id)]) != string(fb[SubscriptionField(id)]) || len(a.Events) != len(b.Events) {
		t.Fatal("two decisions of the same input differ")
	}
}

// PTN-1 with G4: a timer.fired sent by a partner is refused, and its
// due_at, which the sender chose, is not the time the command is decided
// at: the subscription's renewal a year ahead must not fire (and charge)
// before the refusal. Found by FuzzDecide.
func TestRule_PTN_1_ForgedTimerFiredDoesNotMoveTheClock(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	w.buy(t0, offerBasic, "P1Y", "annual", 5)
	var last *Timer
	for _, tm := range w.state.Timers {
		if last == nil || tm.DueAt.After(last.DueAt) {
			last = tm
		}
	}
	before, err := encodeAll(w.state)
	if err != nil {
		t.Fatal(err)
	}
	out := w.do(partnerA, t0.Add(time.Hour), messages.CmdTimerFired, &messages.TimerFiredData{
		TimerID: last.ID, Kind: last.Kind, SubscriptionID: last.SubscriptionID, DueAt: last.DueAt})
	wantRejected(t, out, CodeForbidden, "PTN-1")
	if len(out.Events) != 1 || len(out.Changed)+len(out.Deleted) != 0 {
		t.Fatalf("a forged timer.fired fired timers before its refusal: events %v, changed %v, deleted %v", eventTypes(out), out.Changed, out.Deleted)
	}
	if after, err := encodeAll(w.state); err != nil || !equalFields(after, before) {
		t.Fatalf("a forged timer.fired changed the state (%v)", err)
	}
}
