package handlers

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// Retention through the processor, real NATS and Redis, simulated clock: a
// cancelled subscription and its order leave the customer's state for its
// archive once their windows are over (the archive timer fires when the
// clock passes them); commands naming the subscription then get exactly the
// rejections they got while it was live (CAN-2 for its partner, PTN-1 for
// another partner of the customer), from its tombstone; and the customer's
// EXP-1 export and EXP-2 order history still list both, from the archive.
func TestRule_PTN_1_CAN_2_EXP_1_EXP_2_ArchivedSubscriptionThroughTheProcessor(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	now := t0
	clock, asPartner, asCustomer := e.onSimulatedClock(func() time.Time { return now })
	const cust = "C-ARCHIVE"
	script := transferScript{t: t, e: e, customer: cust}

	e.createCustomer(partnerA, cust)
	order, evs := expOrder(t, e, partnerA, cust, "O-ARCH", expLine("L1", offerBasic, 4, "P1M", "monthly"))
	sub := ofType(evs, messages.EvtSubscriptionCreated)[0].Data.(*messages.SubscriptionCreatedEvent).SubscriptionID
	// B gets a relationship with the customer: it may act on the customer,
	// but not on A's subscription (PTN-1).
	now = t0.Add(time.Hour)
	script.send(asPartner, partnerB, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
	script.send(asCustomer, messages.CustomerActor, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB})
	now = t0.Add(2 * time.Hour)
	if c := ofType(script.send(asPartner, partnerA, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}), messages.EvtBillingCredit); len(c) != 1 {
		t.Fatalf("cancel: credits %+v", c)
	}

	rejections := func() (ownPartner, otherPartner *messages.Rejection) {
		t.Helper()
		r := func(partner string) *messages.Rejection {
			evs := script.send(asPartner, partner, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub})
			if len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected {
				t.Fatalf("cancel by %s: %v", partner, sentAs(evs))
			}
			rej := evs[0].Data.(*messages.CommandRejectedEvent).Rejection
			return &rej
		}
		return r(partnerA), r(partnerB)
	}
	now = t0.Add(3 * time.Hour)
	liveOwn, liveOther := rejections()
	if liveOwn.Rule != "CAN-2" || liveOther.Rule != "PTN-1" {
		t.Fatalf("while live: %+v and %+v, want CAN-2 and PTN-1", liveOwn, liveOther)
	}
	if f := e.stateOf(cust); f[rules.SubscriptionField(sub)] == "" || f[rules.OrderField("O-ARCH")] == "" {
		t.Fatal("the subscription or its order left the state before their windows were over")
	}

	// Past the cancellation window and the order's software window: the
	// archive timer moves both out.
	now = t0.AddDate(0, 0, 90)
	e.advance(clock, now)
	ctx := context.Background()
	archived, err := e.store.Archive(ctx, cust)
	if err != nil {
		t.Fatal(err)
	}
	hot := e.stateOf(cust)
	for _, f := range []string{rules.SubscriptionField(sub), rules.OrderField("O-ARCH")} {
		if hot[f] != "" || len(archived[f]) == 0 {
			t.Fatalf("%s: in the state %t, in the archive %t; want it archived", f, hot[f] != "", len(archived[f]) > 0)
		}
	}

	// The same answers, now from the tombstone.
	archOwn, archOther := rejections()
	if !reflect.DeepEqual(archOwn, liveOwn) || !reflect.DeepEqual(archOther, liveOther) {
		t.Fatalf("rejections changed when the subscription was archived:\n live     %+v\n          %+v\n archived %+v\n          %+v", liveOwn, liveOther, archOwn, archOther)
	}

	// EXP-1 and EXP-2 still list it.
	csv, _ := askExport[csvReply](t, e, partnerA, messages.RoleSalesAgent, cust, messages.QuerySubscriptionsCSV, "")
	if csv.Result == nil || !strings.Contains(csv.Result.CSV, "\r\n"+sub+",Microsoft 365 Business Basic,4,cancelled,monthly,none,\r\n") {
		t.Fatalf("EXP-1 export without the archived subscription: %+v %+v", csv.Result, csv.Error)
	}
	hist, _ := askExport[historyReply](t, e, partnerA, messages.RoleBillingAdmin, cust, messages.QueryOrderHistory, "")
	if hist.Result == nil {
		t.Fatalf("EXP-2: %+v", hist.Error)
	}
	assertOrders(t, hist.Result.Orders, []messages.OrderView{{OrderID: "O-ARCH", PlacedAt: order.OccurredAt, Status: messages.OrderCompleted,
		Lines: []messages.OrderLineView{{LineID: "L1", OfferID: offerBasic, Status: messages.LineFulfilled, SubscriptionID: sub}}}})
}
