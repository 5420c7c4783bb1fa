package rules

import (
	"reflect"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// A command ID applied again after the processor forgot it (its inbox
// record is gone) derives the same subscription IDs as the first time. An
// order whose derived subscription ID already names a subscription must not
// replace it: the whole command is rejected, whatever its lines say now.
func TestRule_ORD_1_DerivedSubscriptionIDThatExistsIsNeverOverwritten(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	order := func(orderID string, lines ...messages.OrderLine) Input {
		return Input{Command: messages.Command{ID: "upstream-42", Type: messages.CmdOrderPlaced, SchemaVersion: 1, CustomerID: customer1,
			Data: &messages.OrderPlacedData{OrderID: orderID, Lines: lines}}, PartnerID: partnerA, Now: t0, State: w.state, Catalog: w.cat}
	}
	basic := func(id string, q int) messages.OrderLine {
		return messages.OrderLine{LineID: id, OfferID: offerBasic, Quantity: intp(q), Term: "P1Y", BillingFrequency: "annual"}
	}
	faculty := messages.OrderLine{LineID: "L1", OfferID: offerFaculty, Quantity: intp(2), Term: "P1Y", BillingFrequency: "annual"} // ORD-3: rejected for commercial

	// Line 0 is rejected, line 1 creates the subscription.
	first := Decide(order("O-1", faculty, basic("L2", 10)))
	wantAccepted(t, first)
	w.state = first.State
	subID := findEvent[*messages.OrderProcessedEvent](t, first, messages.EvtOrderProcessed).Lines[1].SubscriptionID
	if subID != messages.DerivedID("sub", customer1, "upstream-42", 1) {
		t.Fatalf("subscription %s is not derived from the command and line 1", subID)
	}
	before := w.state.clone()

	for _, tc := range []struct {
		name  string
		input Input
	}{
		{"the same cart under a new order ID", order("O-2", faculty, basic("L2", 10))},
		{"other quantities and offers", order("O-3", basic("L1", 3), messages.OrderLine{LineID: "L2", OfferID: offerStd, Quantity: intp(5), Term: "P1Y", BillingFrequency: "annual"})},
		{"days later", func() Input {
			in := order("O-4", faculty, basic("L2", 1))
			in.Now = t0.Add(20 * 24 * time.Hour)
			return in
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Decide(tc.input)
			rej := wantRejected(t, out, CodeCommandIDReused, "ORD-1")
			if rej.Data["subscription_id"] != subID || rej.Data["command_id"] != "upstream-42" {
				t.Errorf("rejection data %v, want the command and subscription %s", rej.Data, subID)
			}
			// Days later the overdue window notice timers (CAN-1, QTY-2) fire
			// first: they delete only themselves.
			if !reflect.DeepEqual(out.State.Subscriptions, before.Subscriptions) || !reflect.DeepEqual(out.State.Orders, before.Orders) {
				t.Errorf("state changed:\n%+v\nwant\n%+v", out.State.Subscriptions[subID], before.Subscriptions[subID])
			}
		})
	}
}
