package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
)

// TRF-1, TRF-2, TRF-3 over real NATS and Redis, with the simulated clock:
// partner A creates the customer and buys; partner B asks for a
// relationship, the customer accepts it through the customer portal
// (_customer, customer_admin); B requests a transfer from A; A submits.
// B then owns a new subscription with the same term end and quantity,
// charged from the transfer time; A's is cancelled without a refund; each
// partner can act on its own subscription only; each partner's event
// subjects carry only its side; each partner's export lists only its own
// subscriptions.
func TestTRF_TransferBetweenPartnersOverNATSAndRedis(t *testing.T) {
	e := newEnv(t)
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	now := t0
	clock, asB, asCustomer := e.onSimulatedClock(func() time.Time { return now })
	ctx := context.Background()
	watch := func(partner string) *simulator.Watcher {
		w, err := simulator.WatchEvents(ctx, e.js, bus.DefaultEventStream, messages.EventSubjectPrefix+"."+partner+".>")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return w
	}
	watchA, watchB, watchCustomer := watch(partnerA), watch(partnerB), watch(messages.CustomerActor)

	const cust = "C-TRF"
	script := transferScript{t: t, e: e, customer: cust}
	send, want, wantRejected := script.send, script.want, script.wantRejected

	e.createCustomer(partnerA, cust)
	src := e.buy(partnerA, cust, 5) // 5 annual Business Basic: 2026-03-10..2027-03-09
	offer, _ := e.cat.Offer(offerBasic)
	plan, _ := offer.Plan("P1Y", "annual")
	price := plan.Prices["USD"]

	// TRF-1: the relationship, requested by B, accepted by the customer.
	now = t0.Add(time.Hour)
	wantRejected(send(asB, partnerB, messages.CmdTransferRequest, &messages.TransferRequestData{TransferID: "TR-1",
		SourcePartnerID: partnerA, NoticeEmail: "csp@a.example"}), partnerB, rules.CodeNoRelationship, "PTN-1")
	want(send(asB, partnerB, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}),
		"customer.relationship.requested>P-B", "customer.relationship.requested>_customer")
	wantRejected(send(e.up, partnerB, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB}),
		partnerB, rules.CodeForbidden, "ROL-1")
	wantRejected(send(asCustomer, partnerB,
		messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB}), partnerB, rules.CodeForbidden, "PTN-1")
	wantRejected(send(asB, partnerB, messages.CmdTransferRequest, &messages.TransferRequestData{TransferID: "TR-1",
		SourcePartnerID: partnerA, NoticeEmail: "csp@a.example"}), partnerB, rules.CodeNoRelationship, "PTN-1")
	now = t0.Add(2 * time.Hour)
	evs := send(asCustomer, messages.CustomerActor, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB})
	want(evs, "customer.relationship.accepted>P-B", "customer.relationship.accepted>_customer")
	if a := evs[0].Data.(*messages.RelationshipAcceptedEvent); a.PartnerID != partnerB || a.Currency != "USD" || a.CompanyName != "Contoso" {
		t.Fatalf("accepted %+v", a)
	}

	// TRF-1: B requests the transfer; both partners are notified; it
	// expires after the deployed catalog's 30 days.
	now = t0.Add(48 * time.Hour)
	evs = send(asB, partnerB, messages.CmdTransferRequest, &messages.TransferRequestData{TransferID: "TR-1",
		SourcePartnerID: partnerA, NoticeEmail: "csp@a.example"})
	want(evs, "transfer.requested>P-B", "transfer.requested>P-A")
	for _, ev := range evs {
		r := ev.Data.(*messages.TransferEvent)
		if r.Status != "requested" || !r.ExpiresAt.Equal(now.Add(30*24*time.Hour)) || r.SourcePartnerID != partnerA || r.TargetPartnerID != partnerB {
			t.Fatalf("requested %+v", r)
		}
	}

	// TRF-2, TRF-3: A submits 20 days and 3 hours after the purchase; 21
	// started days are A's (GEN-2), 344 of 365 are charged to B.
	now = t0.Add(20*24*time.Hour + 3*time.Hour)
	e.advance(clock, now)
	srcBefore := e.loadSubscription(cust, src)
	evs = send(e.up, partnerA, messages.CmdTransferSubmit, &messages.TransferSubmitData{TransferID: "TR-1", SubscriptionIDs: []string{src}})
	want(evs, "transfer.submitted>P-B", "transfer.submitted>P-A", "subscription.created>P-B", "billing.charge>P-B",
		"transfer.completed>P-B", "transfer.completed>P-A")
	done := evs[4].Data.(*messages.TransferEvent)
	if done.Status != "completed" || len(done.Subscriptions) != 1 {
		t.Fatalf("completed %+v", done)
	}
	dst := done.Subscriptions[0].SubscriptionID
	charge := halfUp(price*5, 344, 365)
	bill := evs[3].Data.(*messages.BillingEvent)
	if bill.SubscriptionID != dst || bill.AmountMinor != charge || bill.Reason != "transfer" || bill.Rule != "TRF-3" ||
		bill.Proration.UsedDays != 21 || bill.Proration.UnusedDays != 344 || done.ChargedMinor != charge || done.Subscriptions[0].ChargeEventID != evs[3].ID {
		t.Fatalf("charge %+v %+v, completed %+v", bill, bill.Proration, done)
	}
	for _, ev := range evs {
		if ev.Type == messages.EvtBillingCredit || ev.Type == messages.EvtSubscriptionCancelled {
			t.Fatalf("the transfer emitted %s (TRF-3: no refund)", ev.Type)
		}
	}
	if toA := evs[5].Data.(*messages.TransferEvent); toA.Side != "source" || len(toA.Subscriptions) != 1 ||
		toA.Subscriptions[0].SubscriptionID != src || toA.Subscriptions[0].Status != "cancelled" {
		t.Fatalf("completed to A %+v", toA)
	}

	// The stored state: B owns the new subscription, same term end and
	// quantity; A's is cancelled.
	moved, old := e.loadSubscription(cust, dst), e.loadSubscription(cust, src)
	if moved.PartnerID != partnerB || moved.Quantity != 5 || !moved.TermEnd.Equal(srcBefore.TermEnd) || moved.Status != rules.StatusActive ||
		moved.OfferID != offerBasic || moved.PeriodCharge != charge || !moved.CancellableUntil.Equal(now) {
		t.Fatalf("moved %+v", moved)
	}
	if old.PartnerID != partnerA || old.Status != rules.StatusCancelled || old.Quantity != 5 || old.PeriodCharge != srcBefore.PeriodCharge {
		t.Fatalf("source %+v", old)
	}

	// PTN-1: neither partner can touch the other's subscription; a refusal
	// changes nothing stored.
	now = now.Add(time.Hour)
	before := e.stateOf(cust)
	wantRejected(send(asB, partnerB, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: src}), partnerB, rules.CodeNotPartnerOfRecord, "PTN-1")
	wantRejected(send(asB, partnerB, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: src, Reason: "fraud"}),
		partnerB, rules.CodeNotPartnerOfRecord, "PTN-1")
	wantRejected(send(e.up, partnerA, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: dst}), partnerA, rules.CodeNotPartnerOfRecord, "PTN-1")
	q := 9
	wantRejected(send(e.up, partnerA, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: dst, Quantity: &q}),
		partnerA, rules.CodeNotPartnerOfRecord, "PTN-1")
	wantRejected(send(e.up, partnerA, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: dst, Reason: "fraud"}),
		partnerA, rules.CodeNotPartnerOfRecord, "PTN-1")
	if after := e.stateOf(cust); !maps.Equal(before, after) {
		t.Fatalf("refusals changed the state:\n%v\n%v", before, after)
	}

	// Each partner's subjects carry only its own side.
	all := e.events.Events()
	count := func(partner string) int {
		n := 0
		for _, ev := range all {
			if ev.PartnerID == partner {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		w        *simulator.Watcher
		partner  string
		mustNot  []string
		allowed  func(messages.EventType) bool
		wantSome int
	}{
		{watchA, partnerA, []string{dst, "charge_event_id"}, func(messages.EventType) bool { return true }, count(partnerA)},
		{watchB, partnerB, []string{src}, func(messages.EventType) bool { return true }, count(partnerB)},
		{watchCustomer, messages.CustomerActor, []string{src, dst}, func(typ messages.EventType) bool {
			return typ == messages.EvtRelationshipRequested || typ == messages.EvtRelationshipAccepted
		}, 2},
	} {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := c.w.WaitFor(wctx, func(evs []messages.Event) bool { return len(evs) >= c.wantSome })
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.partner, err)
		}
		got := c.w.Events()
		if len(got) != c.wantSome {
			t.Fatalf("%s's subjects carry %d events, want %d", c.partner, len(got), c.wantSome)
		}
		for _, ev := range got {
			body, _ := c.w.Body(ev.ID)
			if ev.PartnerID != c.partner || !c.allowed(ev.Type) {
				t.Errorf("%s's subjects carry %s for %s", c.partner, ev.Type, ev.PartnerID)
			}
			if ev.Type == messages.EvtCommandRejected {
				continue // a refusal names what its sender named
			}
			for _, s := range c.mustNot {
				if strings.Contains(string(body), s) {
					t.Errorf("%s's %s names %s: %s", c.partner, ev.Type, s, body)
				}
			}
		}
	}

	// EXP-1: each partner's export lists its own subscriptions only.
	for partner, c := range map[string]struct{ has, hasNot, status string }{
		partnerA: {src, dst, "cancelled"},
		partnerB: {dst, src, "active (auto-renew on, renews 2027-03-10)"},
	} {
		reply, _ := askExport[csvReply](t, e, partner, messages.RoleAdminAgent, cust, messages.QuerySubscriptionsCSV, "{}")
		if reply.Error != nil {
			t.Fatalf("%s export: %+v", partner, reply.Error)
		}
		rows, err := csv.NewReader(strings.NewReader(reply.Result.CSV)).ReadAll()
		if err != nil || len(rows) != 2 || !slices.Equal(rows[1], []string{c.has, "Microsoft 365 Business Basic", "5", c.status, "annual", "none", ""}) ||
			strings.Contains(reply.Result.CSV, c.hasNot) {
			t.Fatalf("%s export:\n%s", partner, reply.Result.CSV)
		}
	}
	// EXP-2: the target does not see the orders the source placed.
	hist, _ := askExport[messages.QueryReply[messages.OrderHistory]](t, e, partnerB, messages.RoleAdminAgent, cust, messages.QueryOrderHistory, "{}")
	if hist.Error != nil || hist.Result == nil || len(hist.Result.Orders) != 0 {
		t.Fatalf("target's order history: %+v %+v", hist.Result, hist.Error)
	}
	hist, _ = askExport[messages.QueryReply[messages.OrderHistory]](t, e, partnerA, messages.RoleAdminAgent, cust, messages.QueryOrderHistory, "{}")
	if hist.Error != nil || hist.Result == nil || len(hist.Result.Orders) == 0 {
		t.Fatalf("source's order history: %+v %+v", hist.Result, hist.Error)
	}
}

// loadSubscription reads one stored subscription, from the customer's
// state or, once it left the state for good, from its archive.
func (e *env) loadSubscription(customer, id string) rules.Subscription {
	e.t.Helper()
	field := rules.SubscriptionField(id)
	b := []byte(e.stateOf(customer)[field])
	if len(b) == 0 {
		archived, err := e.store.Archive(context.Background(), customer)
		if err != nil {
			e.t.Fatal(err)
		}
		b = archived[field]
	}
	var s rules.Subscription
	if err := json.Unmarshal(b, &s); err != nil {
		e.t.Fatalf("subscription %s: %v", id, err)
	}
	return s
}

// transferScript sends one customer's commands as upstream systems do and
// compares the events each produced as "type>partner" (sentAs): the
// transfer tests follow one customer through several partners' hands.
type transferScript struct {
	t        *testing.T
	e        *env
	customer string
}

func (s transferScript) send(u *simulator.Upstream, partner string, typ messages.CommandType, data any) []messages.Event {
	s.t.Helper()
	cmd := messages.Command{ID: nextID(string(typ)), Type: typ, CustomerID: s.customer, Data: data}
	if _, err := u.Send(context.Background(), partner, cmd); err != nil {
		s.t.Fatal(err)
	}
	return s.e.await(cmd)
}

// sentAs lists events as "type>partner".
func sentAs(evs []messages.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, string(ev.Type)+">"+ev.PartnerID)
	}
	return out
}

func (s transferScript) want(evs []messages.Event, w ...string) {
	s.t.Helper()
	if got := sentAs(evs); !slices.Equal(got, w) {
		s.t.Fatalf("events\n got %v\nwant %v", got, w)
	}
}

func (s transferScript) wantRejected(evs []messages.Event, partner, code, rule string) {
	s.t.Helper()
	s.want(evs, "command.rejected>"+partner)
	if r := evs[0].Data.(*messages.CommandRejectedEvent); r.Code != code || r.Rule != rule {
		s.t.Fatalf("rejection %+v, want %s (%s)", r.Rejection, code, rule)
	}
}
