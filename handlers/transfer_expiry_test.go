package handlers

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// TRF-3 over real NATS and Redis, with the simulated clock: a transfer the
// target withdraws reaches both partners and moves nothing; a relationship
// request the customer declines and one it leaves unanswered, and a
// transfer the source leaves unanswered, end through their answers and
// through the durable timers when the clock passes the deployed catalog's
// 30 days, each told to its two parties only; late answers are refused
// and change nothing.
func TestTRF_DeclinesWithdrawalsAndExpiriesThroughTheDurableTimer(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	now := t0
	clock, asPartner, asCustomer := e.onSimulatedClock(func() time.Time { return now })
	const partnerC, partnerD = "P-C", "P-D"
	ctx := context.Background()

	const cust = "C-TRF-END"
	script := transferScript{t: t, e: e, customer: cust}
	send, want, wantRejected := script.send, script.want, script.wantRejected
	request := func(id string) *messages.TransferRequestData {
		return &messages.TransferRequestData{TransferID: id, SourcePartnerID: partnerA, NoticeEmail: "csp@a.example"}
	}

	e.createCustomer(partnerA, cust)
	src := e.buy(partnerA, cust, 5)

	// B gets a relationship; C and D ask for one.
	now = t0.Add(time.Hour)
	want(send(asPartner, partnerB, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}),
		"customer.relationship.requested>P-B", "customer.relationship.requested>_customer")
	want(send(asCustomer, messages.CustomerActor, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB}),
		"customer.relationship.accepted>P-B", "customer.relationship.accepted>_customer")
	evs := send(asPartner, partnerC, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
	want(evs, "customer.relationship.requested>P-C", "customer.relationship.requested>_customer")
	relExpires := now.Add(30 * 24 * time.Hour)
	if r := evs[0].Data.(*messages.RelationshipRequestedEvent); !r.ExpiresAt.Equal(relExpires) {
		t.Fatalf("requested %+v, want expiry %s", r, relExpires)
	}
	want(send(asPartner, partnerD, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}),
		"customer.relationship.requested>P-D", "customer.relationship.requested>_customer")

	// The customer declines D: only D and the portal hear of it.
	now = t0.Add(2 * time.Hour)
	evs = send(asCustomer, messages.CustomerActor, messages.CmdRelationshipDecline, &messages.RelationshipDeclineData{PartnerID: partnerD})
	want(evs, "customer.relationship.declined>P-D", "customer.relationship.declined>_customer")
	if d := evs[0].Data.(*messages.RelationshipClosedEvent); d.Status != "declined" || d.PartnerID != partnerD || !d.RequestedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("declined %+v", d)
	}
	wantRejected(send(asPartner, partnerD, messages.CmdRelationshipDecline, &messages.RelationshipDeclineData{PartnerID: partnerD}),
		partnerD, rules.CodeForbidden, "ROL-1")

	// B requests TR-1 and withdraws it; A may not withdraw it for B.
	now = t0.Add(3 * time.Hour)
	want(send(asPartner, partnerB, messages.CmdTransferRequest, request("TR-1")), "transfer.requested>P-B", "transfer.requested>P-A")
	wantRejected(send(asPartner, partnerA, messages.CmdTransferWithdraw, &messages.TransferWithdrawData{TransferID: "TR-1"}),
		partnerA, rules.CodeNotTargetPartner, "TRF-3")
	evs = send(asPartner, partnerB, messages.CmdTransferWithdraw, &messages.TransferWithdrawData{TransferID: "TR-1"})
	want(evs, "transfer.withdrawn>P-B", "transfer.withdrawn>P-A")
	if w := evs[1].Data.(*messages.TransferEvent); w.Status != "withdrawn" || w.Side != "source" || w.TransferID != "TR-1" {
		t.Fatalf("withdrawn to A %+v", w)
	}
	wantRejected(send(asPartner, partnerA, messages.CmdTransferSubmit, &messages.TransferSubmitData{TransferID: "TR-1", SubscriptionIDs: []string{src}}),
		partnerA, rules.CodeTransferNotOpen, "TRF-3")

	// B requests TR-2; nobody answers it, nor C's request.
	now = t0.Add(4 * time.Hour)
	want(send(asPartner, partnerB, messages.CmdTransferRequest, request("TR-2")), "transfer.requested>P-B", "transfer.requested>P-A")
	trExpires := now.Add(30 * 24 * time.Hour)

	// One second before the first expiry only the subscription's refund
	// window notices are due: closing and closed (its CAN-1 window and
	// its QTY-2 lot close together and share them). At TR-2's expiry six
	// are: C's and TR-2's, the timers of B's accepted and D's declined
	// requests and of the withdrawn TR-1, which the scheduler still sends
	// and which change nothing (G7), and the customer's archive timer:
	// TR-1, withdrawn at 3 h, leaves for the archive 30 days later. The
	// subscription's own are due in 2027.
	from := len(e.events.Events())
	now = t0.Add(time.Hour + 30*24*time.Hour - time.Second)
	if n := e.advance(clock, now); n != 2 {
		t.Fatalf("%d timers fired before the expiry, want the 2 window notices", n)
	}
	now = trExpires
	if n := e.advance(clock, now); n != 6 {
		t.Fatalf("%d timers fired, want 6", n)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var fired []messages.Event
	if err := e.events.WaitFor(wctx, func(evs []messages.Event) bool {
		fired = fired[:0]
		for _, ev := range evs[from:] {
			if ev.CustomerID == cust && ev.CommandType == messages.CmdTimerFired &&
				(ev.Type == messages.EvtRelationshipExpired || ev.Type == messages.EvtTransferExpired) {
				fired = append(fired, ev)
			}
		}
		return len(fired) >= 4
	}); err != nil {
		t.Fatalf("expiries %v: %v", sentAs(fired), err)
	}
	want(fired, "customer.relationship.expired>P-C", "customer.relationship.expired>_customer",
		"transfer.expired>P-B", "transfer.expired>P-A")
	if x := fired[0].Data.(*messages.RelationshipClosedEvent); x.Status != "expired" || !fired[0].OccurredAt.Equal(relExpires) ||
		x.Reason != "the customer did not answer within 30 days" {
		t.Fatalf("relationship expired %+v at %s", x, fired[0].OccurredAt)
	}
	if x := fired[2].Data.(*messages.TransferEvent); x.Status != "expired" || x.TransferID != "TR-2" || !fired[2].OccurredAt.Equal(trExpires) {
		t.Fatalf("transfer expired %+v at %s", x, fired[2].OccurredAt)
	}

	// Late answers are refused and change nothing stored.
	now = trExpires.Add(time.Hour)
	before := e.stateOf(cust)
	wantRejected(send(asCustomer, messages.CustomerActor, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerC}),
		messages.CustomerActor, rules.CodeNoRelationshipRequest, "TRF-1")
	wantRejected(send(asPartner, partnerA, messages.CmdTransferSubmit, &messages.TransferSubmitData{TransferID: "TR-2", SubscriptionIDs: []string{src}}),
		partnerA, rules.CodeTransferNotOpen, "TRF-3")
	wantRejected(send(asPartner, partnerB, messages.CmdTransferWithdraw, &messages.TransferWithdrawData{TransferID: "TR-2"}),
		partnerB, rules.CodeTransferNotOpen, "TRF-3")
	after := e.stateOf(cust)
	for k, v := range before {
		if after[k] != v {
			t.Fatalf("a late answer changed %s:\n%s\n%s", k, v, after[k])
		}
	}
	var c rules.Customer
	if err := json.Unmarshal([]byte(after["customer"]), &c); err != nil {
		t.Fatal(err)
	}
	if c.PendingPartners != nil || c.PendingRequests != nil || !slices.Equal(c.Partners, []string{partnerB}) {
		t.Fatalf("customer %+v", c)
	}
	if s := e.loadSubscription(cust, src); s.PartnerID != partnerA || s.Status != rules.StatusActive {
		t.Fatalf("source subscription %+v", s)
	}
	fromTimers := 0
	for _, ev := range e.events.Events() {
		if ev.CustomerID == cust && ev.CommandType == messages.CmdTimerFired &&
			ev.Type != messages.EvtRefundWindowClosing && ev.Type != messages.EvtRefundWindowClosed {
			fromTimers++
		}
		if ev.CustomerID == cust && ev.PartnerID == partnerB && (ev.Type == messages.EvtBillingCharge || ev.Type == messages.EvtSubscriptionCreated) {
			t.Fatalf("the target got %s from a transfer that never completed", ev.Type)
		}
	}
	if fromTimers != 4 {
		t.Fatalf("%d events from timers besides the window notices, want the 4 expiry notices: a stale timer acted", fromTimers)
	}
}
