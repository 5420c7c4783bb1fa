package rules

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

const partnerC = "P-C"

// trWorld is a customer of partnerA with transfer and relationship
// requests expiring after 30 days (the deployed catalog's policy).
func trWorld(t *testing.T) *world {
	w := newWorld(t)
	w.cat.Policy.TransferRequestExpiryDays = 30
	w.cat.Policy.RelationshipRequestExpiryDays = 30
	w.createCustomer("commercial", "USD")
	return w
}

// as decides a command as partner in role at time now and keeps the new
// state.
func (w *world) doAs(partner string, role messages.Role, now time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	w.n++
	out := Decide(Input{
		Command:   messages.Command{ID: "cmd-" + itoa(w.n), Type: typ, SchemaVersion: 1, CustomerID: customer1, Data: data},
		PartnerID: partner, Role: role, Now: now, State: w.state, Catalog: w.cat,
	})
	w.state = out.State
	return out
}

// relate gives partner a relationship: it asks, the customer accepts.
func (w *world) relate(partner string, at time.Time) {
	w.t.Helper()
	wantAccepted(w.t, w.doAs(partner, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))
	wantAccepted(w.t, w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at.Add(time.Minute), messages.CmdRelationshipAccept,
		&messages.RelationshipAcceptData{PartnerID: partner}))
}

func trRequest(id, source string) *messages.TransferRequestData {
	return &messages.TransferRequestData{TransferID: id, SourcePartnerID: source, NoticeEmail: "transfers@source.example"}
}

func trSubmit(id string, subs ...string) *messages.TransferSubmitData {
	return &messages.TransferSubmitData{TransferID: id, SubscriptionIDs: subs}
}

// sent lists an outcome's events as "type>partner".
func sent(out Outcome) []string {
	var s []string
	for _, e := range out.Events {
		s = append(s, string(e.Type)+">"+e.PartnerID)
	}
	return s
}

func wantSent(t *testing.T, out Outcome, want ...string) {
	t.Helper()
	// Window notices (CAN-1, QTY-2) of timers due before the command are left out.
	got := slices.DeleteFunc(sent(out), func(s string) bool { return strings.HasPrefix(s, "subscription.refund_window_") })
	if !slices.Equal(got, want) {
		t.Fatalf("events\n got %v\nwant %v", got, want)
	}
}

// transferEventTo is the transfer event of type typ sent to partner.
func transferEventTo(t *testing.T, out Outcome, typ messages.EventType, partner string) *messages.TransferEvent {
	t.Helper()
	for _, e := range out.Events {
		if e.Type == typ && e.PartnerID == partner {
			return e.Data.(*messages.TransferEvent)
		}
	}
	t.Fatalf("no %s to %s in %v", typ, partner, sent(out))
	return nil
}

// jsonTo is everything an outcome sends to partner, as JSON.
func jsonTo(t *testing.T, out Outcome, partner string) string {
	t.Helper()
	var b strings.Builder
	for _, e := range out.Events {
		if e.PartnerID == partner {
			j, err := json.Marshal(e.Data)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
		}
	}
	return b.String()
}

// TRF-1's first step: a partner without a relationship asks, and only the
// customer (through the customer portal) accepts; until then the partner
// has no access at all.
func TestRule_TRF_1_RelationshipRequestedAndAcceptedByTheCustomer(t *testing.T) {
	w := trWorld(t)
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	at := t0.Add(time.Hour)

	out := w.doAs(partnerB, messages.RoleSalesAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
	wantAccepted(t, out)
	wantSent(t, out, "customer.relationship.requested>P-B", "customer.relationship.requested>_customer")
	if ev := findEvent[*messages.RelationshipRequestedEvent](t, out, messages.EvtRelationshipRequested); ev.PartnerID != partnerB || ev.Status != "pending" {
		t.Fatalf("requested %+v", ev)
	}
	if c := w.state.Customer; !slices.Equal(c.PendingPartners, []string{partnerB}) || len(c.Partners) != 0 || c.HasRelationship(partnerB) {
		t.Fatalf("customer %+v", c)
	}
	if strings.Contains(jsonTo(t, out, partnerB), "Contoso") {
		t.Fatal("a pending partner sees the customer's details")
	}

	t.Run("TRF-1 a pending partner has no relationship yet", func(t *testing.T) {
		for typ, data := range map[messages.CommandType]any{
			messages.CmdSubscriptionCancel: cancelOf(sub),
			messages.CmdTransferRequest:    trRequest("TR-1", partnerA),
			messages.CmdOrderPlaced: &messages.OrderPlacedData{OrderID: "O-B", Lines: []messages.OrderLine{
				{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"}}},
		} {
			wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, typ, data), CodeNoRelationship, "PTN-1")
		}
	})
	t.Run("TRF-1 asking twice, or with a relationship, or for an unknown customer", func(t *testing.T) {
		wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}),
			CodeRelationshipPending, "TRF-1")
		wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}),
			CodeRelationshipExists, "TRF-1")
		empty := newWorld(t)
		wantRejected(t, empty.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}),
			CodeCustomerNotFound, "TRF-1")
	})
	t.Run("TRF-1 only the customer accepts, and the customer does nothing else", func(t *testing.T) {
		accept := &messages.RelationshipAcceptData{PartnerID: partnerB}
		for _, p := range []string{partnerA, partnerB, messages.SystemPartner} {
			wantRejected(t, w.doAs(p, messages.RoleCustomerAdmin, at, messages.CmdRelationshipAccept, accept), CodeForbidden, "PTN-1")
			wantRejected(t, w.doAs(p, "", at, messages.CmdRelationshipAccept, accept), CodeForbidden, "PTN-1")
		}
		wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleAdminAgent, at, messages.CmdRelationshipAccept, accept), CodeForbidden, "ROL-1")
		for typ, data := range sampleCommands(sub) {
			if slices.Contains(customerCommands, typ) {
				continue
			}
			wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleAdminAgent, at, typ, data), CodeForbidden, "PTN-1")
			wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at, typ, data), CodeForbidden, "ROL-1")
		}
		wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at, messages.CmdRelationshipAccept,
			&messages.RelationshipAcceptData{PartnerID: partnerC}), CodeNoRelationshipRequest, "TRF-1")
		wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at, messages.CmdRelationshipAccept,
			&messages.RelationshipAcceptData{PartnerID: "a.b"}), CodeInvalidField, "GEN-6")
		if !slices.Equal(w.state.Customer.PendingPartners, []string{partnerB}) {
			t.Fatalf("refusals changed the customer: %+v", w.state.Customer)
		}
	})
	t.Run("TRF-1 accepted", func(t *testing.T) {
		out := w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at.Add(time.Hour), messages.CmdRelationshipAccept,
			&messages.RelationshipAcceptData{PartnerID: partnerB})
		wantAccepted(t, out)
		wantSent(t, out, "customer.relationship.accepted>P-B", "customer.relationship.accepted>_customer")
		ev := findEvent[*messages.RelationshipAcceptedEvent](t, out, messages.EvtRelationshipAccepted)
		if *ev != (messages.RelationshipAcceptedEvent{PartnerID: partnerB, CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}) {
			t.Fatalf("accepted %+v", ev)
		}
		c := w.state.Customer
		if c.PendingPartners != nil || !slices.Equal(c.Partners, []string{partnerB}) || !c.HasRelationship(partnerB) || c.PartnerID != partnerA {
			t.Fatalf("customer %+v", c)
		}
		// B may now act on the customer, but not on A's subscription.
		wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at.Add(2*time.Hour), messages.CmdSubscriptionCancel, cancelOf(sub)),
			CodeNotPartnerOfRecord, "PTN-1")
		wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at.Add(2*time.Hour), messages.CmdRelationshipAccept,
			&messages.RelationshipAcceptData{PartnerID: partnerB}), CodeNoRelationshipRequest, "TRF-1")
	})
}

func TestRule_TRF_1_RolesOfTransferCommands(t *testing.T) {
	if got := RolesFor(messages.CmdRelationshipAccept); !slices.Equal(got, []messages.Role{messages.RoleCustomerAdmin}) {
		t.Errorf("accept roles %v", got)
	}
	for _, typ := range []messages.CommandType{messages.CmdRelationshipRequest, messages.CmdTransferRequest,
		messages.CmdTransferReject, messages.CmdTransferSubmit} {
		if got := RolesFor(typ); !slices.Equal(got, subscriptionRoles) {
			t.Errorf("%s roles %v", typ, got)
		}
	}
}

// TRF-1: the target requests, naming the source and a notice address; both
// partners are notified, each with its side; the request expires after
// the policy's days.
func TestRule_TRF_1_TransferRequestNotifiesBothPartners(t *testing.T) {
	w := trWorld(t)
	w.buy(t0, offerBasic, "P1Y", "annual", 5)
	w.relate(partnerB, t0.Add(time.Hour))
	w.relate(partnerC, t0.Add(time.Hour))
	at := t0.Add(48 * time.Hour)

	for _, tc := range []struct {
		name, partner string
		data          *messages.TransferRequestData
		code, rule    string
	}{
		{"TRF-1 from itself", partnerB, trRequest("TR-X", partnerB), CodeInvalidField, "GEN-6"},
		{"TRF-1 source without a relationship", partnerB, trRequest("TR-X", "P-Z"), CodeSourceNotPartnerOfRecord, "TRF-1"},
		{"TRF-1 source without subscriptions", partnerB, trRequest("TR-X", partnerC), CodeSourceNotPartnerOfRecord, "TRF-1"},
		{"TRF-1 no notice address", partnerB, &messages.TransferRequestData{TransferID: "TR-X", SourcePartnerID: partnerA}, CodeInvalidField, "GEN-6"},
		{"TRF-1 bad notice address", partnerB, &messages.TransferRequestData{TransferID: "TR-X", SourcePartnerID: partnerA, NoticeEmail: "nobody"}, CodeInvalidField, "GEN-6"},
		{"TRF-1 bad transfer ID", partnerB, trRequest("TR.X", partnerA), CodeInvalidField, "GEN-6"},
		{"TRF-1 target without a relationship", "P-Z", trRequest("TR-X", partnerA), CodeNoRelationship, "PTN-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRejected(t, w.doAs(tc.partner, messages.RoleAdminAgent, at, messages.CmdTransferRequest, tc.data), tc.code, tc.rule)
		})
	}

	out := w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA))
	wantAccepted(t, out)
	wantSent(t, out, "transfer.requested>P-B", "transfer.requested>P-A")
	expires := at.Add(30 * 24 * time.Hour)
	for partner, side := range map[string]string{partnerB: "target", partnerA: "source"} {
		ev := transferEventTo(t, out, messages.EvtTransferRequested, partner)
		want := messages.TransferEvent{TransferID: "TR-1", Status: "requested", Side: side, SourcePartnerID: partnerA,
			TargetPartnerID: partnerB, NoticeEmail: "transfers@source.example", RequestedAt: at, ExpiresAt: expires}
		if ev.Subscriptions != nil || ev.NotTransferred != nil || ev.TransferID != want.TransferID || ev.Status != want.Status ||
			ev.Side != want.Side || ev.SourcePartnerID != want.SourcePartnerID || ev.TargetPartnerID != want.TargetPartnerID ||
			ev.NoticeEmail != want.NoticeEmail || !ev.RequestedAt.Equal(at) || !ev.ExpiresAt.Equal(expires) {
			t.Fatalf("to %s: %+v", partner, ev)
		}
	}
	tr := w.state.Transfers["TR-1"]
	if tr.Status != "requested" || tr.TargetPartnerID != partnerB || tr.SourcePartnerID != partnerA || !tr.ExpiresAt.Equal(expires) {
		t.Fatalf("transfer %+v", tr)
	}
	if tm := w.state.Timers[tr.ExpiryTimerID]; tm == nil || tm.Kind != TimerTransferExpiry || !tm.DueAt.Equal(expires) {
		t.Fatalf("expiry timer %+v", tm)
	}

	t.Run("TRF-1 one open request per pair, IDs are never reused", func(t *testing.T) {
		wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-2", partnerA)),
			CodeTransferAlreadyRequested, "TRF-1")
		wantRejected(t, w.doAs(partnerC, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)),
			CodeDuplicateTransfer, "TRF-1")
		wantAccepted(t, w.doAs(partnerC, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-3", partnerA)))
	})
}

// TRF-3: rejected by the source partner, and only by it.
func TestRule_TRF_3_RejectedBySource(t *testing.T) {
	w := trWorld(t)
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	w.relate(partnerB, t0.Add(time.Hour))
	w.relate(partnerC, t0.Add(time.Hour))
	at := t0.Add(48 * time.Hour)
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
	timerID := w.state.Transfers["TR-1"].ExpiryTimerID

	reject := &messages.TransferRejectData{TransferID: "TR-1", Reason: "the customer stays with us"}
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferReject, reject), CodeNotSourcePartner, "TRF-1")
	wantRejected(t, w.doAs(partnerC, messages.RoleAdminAgent, at, messages.CmdTransferReject, reject), CodeTransferNotFound, "TRF-1")
	wantRejected(t, w.doAs("P-Z", messages.RoleAdminAgent, at, messages.CmdTransferReject, reject), CodeNoRelationship, "PTN-1")
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferReject, &messages.TransferRejectData{TransferID: "TR-9"}),
		CodeTransferNotFound, "TRF-1")
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferReject,
		&messages.TransferRejectData{TransferID: "TR-1", Reason: strings.Repeat("x", 501)}), CodeInvalidField, "GEN-6")

	out := w.doAs(partnerA, messages.RoleAdminAgent, at.Add(time.Hour), messages.CmdTransferReject, reject)
	wantAccepted(t, out)
	wantSent(t, out, "transfer.rejected>P-B", "transfer.rejected>P-A")
	for _, p := range []string{partnerA, partnerB} {
		if ev := transferEventTo(t, out, messages.EvtTransferRejected, p); ev.Status != "rejected" || ev.Reason != reject.Reason || !ev.ExpiresAt.IsZero() {
			t.Fatalf("to %s: %+v", p, ev)
		}
	}
	tr := w.state.Transfers["TR-1"]
	if tr.Status != "rejected" || tr.RejectedAt == nil || !tr.RejectedAt.Equal(at.Add(time.Hour)) || tr.RejectReason != reject.Reason {
		t.Fatalf("transfer %+v", tr)
	}
	if _, ok := w.state.Timers[timerID]; ok {
		t.Fatal("the expiry timer survived the rejection")
	}
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at.Add(2*time.Hour), messages.CmdTransferReject, reject), CodeTransferNotOpen, "TRF-3")
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at.Add(2*time.Hour), messages.CmdTransferSubmit, trSubmit("TR-1", sub)),
		CodeTransferNotOpen, "TRF-3")
	if w.state.Subscriptions[sub].PartnerID != partnerA || w.state.Subscriptions[sub].Status != StatusActive {
		t.Fatal("a rejected transfer moved the subscription")
	}
	// A new request between the same partners is possible again.
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at.Add(3*time.Hour), messages.CmdTransferRequest, trRequest("TR-2", partnerA)))
}

// TRF-3: a request nobody answers expires when its timer fires; a submit
// at the expiry instant finds it expired, the timer firing first even when
// the scheduler has not sent it yet (G7).
func TestRule_TRF_3_ExpiresWhenUnanswered(t *testing.T) {
	w := trWorld(t)
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	w.relate(partnerB, t0.Add(time.Hour))
	at := t0.Add(48 * time.Hour)
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
	expires := at.Add(30 * 24 * time.Hour)

	before := w.state
	out := w.doAs(partnerA, messages.RoleAdminAgent, expires, messages.CmdTransferSubmit, trSubmit("TR-1", sub))
	wantRejected(t, out, CodeTransferNotOpen, "TRF-3")
	if got := typesWithoutNotices(out); len(got) != 3 || got[0] != messages.EvtTransferExpired {
		t.Fatalf("submit at the expiry: %v", got)
	}
	w.state = before

	if outs := w.advance(expires.Add(-time.Second)); len(withoutNotices(eventsOf(outs))) != 0 {
		t.Fatalf("fired early: %v", eventsOf(outs))
	}
	outs := w.advance(expires)
	if len(outs) != 1 {
		t.Fatalf("%d timers fired", len(outs))
	}
	wantSent(t, outs[0], "transfer.expired>P-B", "transfer.expired>P-A")
	for _, p := range []string{partnerA, partnerB} {
		if ev := transferEventTo(t, outs[0], messages.EvtTransferExpired, p); ev.Status != "expired" || ev.Reason != "the source partner did not answer within 30 days" {
			t.Fatalf("to %s: %+v", p, ev)
		}
	}
	if tr := w.state.Transfers["TR-1"]; tr.Status != "expired" || !tr.ExpiredAt.Equal(expires) {
		t.Fatalf("transfer %+v", tr)
	}
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, expires.Add(time.Hour), messages.CmdTransferSubmit, trSubmit("TR-1", sub)),
		CodeTransferNotOpen, "TRF-3")

	t.Run("TRF-3 no expiry when the policy sets none", func(t *testing.T) {
		w := newWorld(t)
		w.createCustomer("commercial", "USD")
		w.buy(t0, offerBasic, "P1Y", "annual", 5)
		w.relate(partnerB, t0.Add(time.Hour))
		out := w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA))
		wantAccepted(t, out)
		if tr := w.state.Transfers["TR-1"]; tr.ExpiresAt != nil || tr.ExpiryTimerID != "" || len(out.TimersSet) != 0 {
			t.Fatalf("transfer %+v, timers %v", tr, out.TimersSet)
		}
	})
}

// TRF-3 end to end in the rules: the moved subscription keeps its term end
// date and quantity, the target is charged from the transfer time, the
// source's cancellation emits no refund, and each partner sees its side.
func TestRule_TRF_3_MovedSubscriptionKeepsTermEndAndQuantityNoRefund(t *testing.T) {
	w := trWorld(t)
	// 5 × 7200 for 2026-03-10..2027-03-09 (365 days), bought at 14:00.
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	w.relate(partnerB, t0.Add(time.Hour))
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, t0.Add(48*time.Hour), messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
	expiryTimer := w.state.Transfers["TR-1"].ExpiryTimerID
	src := *w.state.Subscriptions[sub]

	// 20 days and 3 hours after the purchase: 21 started days are used
	// (GEN-2), 344 of 365 are the target's.
	at := t0.Add(20*24*time.Hour + 3*time.Hour)
	out := w.doAs(partnerA, messages.RoleSalesAgent, at, messages.CmdTransferSubmit, trSubmit("TR-1", sub))
	wantAccepted(t, out)
	wantSent(t, out, "transfer.submitted>P-B", "transfer.submitted>P-A", "subscription.created>P-B", "billing.charge>P-B",
		"transfer.completed>P-B", "transfer.completed>P-A")
	newID := messages.DerivedID("sub", customer1, "cmd-"+itoa(w.n), 0)

	const charge = 33929 // round_half_up(36000 × 344 / 365) = 33928.77…
	if prorate(36000, 344, 365) != charge {
		t.Fatalf("prorate %d", prorate(36000, 344, 365))
	}
	bill := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
	if *bill.Proration != (messages.Proration{BaseMinor: 36000, UsedDays: 21, UnusedDays: 344, PeriodDays: 365}) ||
		bill.AmountMinor != charge || bill.SubscriptionID != newID || bill.Reason != "transfer" || bill.Rule != "TRF-3" ||
		bill.Quantity != 5 || bill.UnitPriceMinor != 7200 || bill.PeriodStart != "2026-03-10" || bill.PeriodEnd != "2027-03-09" || bill.Currency != "USD" {
		t.Fatalf("charge %+v %+v", bill, bill.Proration)
	}
	for _, e := range out.Events {
		if e.Type == messages.EvtBillingCredit || e.Type == messages.EvtSubscriptionCancelled {
			t.Fatalf("a transfer emitted %s (TRF-3: no refund)", e.Type)
		}
	}
	created := findEvent[*messages.SubscriptionCreatedEvent](t, out, messages.EvtSubscriptionCreated)
	if created.SubscriptionID != newID || created.Quantity != 5 || created.TermEnd != "2027-03-09" || created.TermStart != "2026-03-10" ||
		created.OrderID != "" || !created.CancellableUntil.Equal(at) || !created.AutoRenew {
		t.Fatalf("created %+v", created)
	}

	n := w.state.Subscriptions[newID]
	if n.PartnerID != partnerB || n.Quantity != 5 || !n.TermEnd.Equal(src.TermEnd) || n.OfferID != offerBasic || n.Status != StatusActive ||
		n.PeriodCharge != charge || !n.CancellableUntil.Equal(at) || n.UnitPrice != 7200 || n.Term != "P1Y" || n.BillingFrequency != "annual" {
		t.Fatalf("new subscription %+v", n)
	}
	old := w.state.Subscriptions[sub]
	if old.Status != StatusCancelled || !old.CancelledAt.Equal(at) || old.PartnerID != partnerA || old.AutoRenew || old.PeriodCharge != 36000 {
		t.Fatalf("source %+v", old)
	}
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == sub || tm.ID == expiryTimer {
			t.Fatalf("timer %s survived", tm.ID)
		}
	}
	if tm := w.state.Timers[timerID(TimerTermEnd, newID, time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))]; tm == nil || tm.PartnerID != partnerB {
		t.Fatalf("the new subscription has no term_end timer: %v", w.state.Timers)
	}
	tr := w.state.Transfers["TR-1"]
	if tr.Status != "completed" || !tr.SubmittedAt.Equal(at) || !tr.CompletedAt.Equal(at) ||
		!slices.Equal(tr.Items, []TransferItem{{SourceSubscriptionID: sub, TargetSubscriptionID: newID}}) {
		t.Fatalf("transfer %+v", tr)
	}

	// Each side sees its own subscriptions only.
	toB := transferEventTo(t, out, messages.EvtTransferCompleted, partnerB)
	chargeID := messages.EventID(customer1, "cmd-"+itoa(w.n), 3)
	if toB.Side != "target" || len(toB.Subscriptions) != 1 || toB.Subscriptions[0] != (messages.TransferSubscriptionView{
		SubscriptionID: newID, OfferID: offerBasic, OfferName: "Microsoft 365 Business Basic", Quantity: 5, Term: "P1Y",
		BillingFrequency: "annual", TermEnd: "2027-03-09", Status: "active", ChargeEventID: chargeID, ChargeMinor: charge}) ||
		toB.ChargedMinor != charge || toB.Currency != "USD" || toB.NotTransferredCount != 0 {
		t.Fatalf("to B %+v", toB)
	}
	toA := transferEventTo(t, out, messages.EvtTransferCompleted, partnerA)
	if toA.Side != "source" || len(toA.Subscriptions) != 1 || toA.Subscriptions[0].SubscriptionID != sub ||
		toA.Subscriptions[0].Status != "cancelled" || toA.Subscriptions[0].ChargeMinor != 0 || toA.ChargedMinor != 0 {
		t.Fatalf("to A %+v", toA)
	}
	if s := jsonTo(t, out, partnerA); strings.Contains(s, newID) || strings.Contains(s, chargeID) {
		t.Fatalf("the source sees the target's side: %s", s)
	}
	if s := jsonTo(t, out, partnerB); strings.Contains(s, sub) {
		t.Fatalf("the target sees the source's subscription: %s", s)
	}

	// PTN-1: each partner acts on its own subscription only; the target
	// has no cancellation window (TRF-3 decision).
	later := at.Add(time.Hour)
	for _, c := range []struct {
		partner, sub string
		typ          messages.CommandType
		data         any
	}{
		{partnerB, sub, messages.CmdSubscriptionCancel, cancelOf(sub)},
		{partnerB, sub, messages.CmdSubscriptionSuspend, suspendOf(sub, "fraud")},
		{partnerA, newID, messages.CmdSubscriptionCancel, cancelOf(newID)},
		{partnerA, newID, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: newID, Quantity: intp(9)}},
	} {
		wantRejected(t, w.doAs(c.partner, messages.RoleAdminAgent, later, c.typ, c.data), CodeNotPartnerOfRecord, "PTN-1")
	}
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, later, messages.CmdSubscriptionCancel, cancelOf(newID)), CodeCancelWindowClosed, "CAN-1")
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, later, messages.CmdQuantityChange,
		&messages.QuantityChangeData{SubscriptionID: newID, Quantity: intp(4)}), CodeQuantityNotReducible, "QTY-2")
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, later, messages.CmdSubscriptionReactivate, reactivateOf(sub)), CodeSubscriptionCancelled, "CAN-2")
}

// TRF-3 with monthly billing: the new subscription's later periods fall on
// the source's dates and are charged to the target; the source's scheduled
// changes are deleted (SCH-3) and its timers gone; the renewal renews the
// target's subscription with a new window.
func TestRule_TRF_3_MonthlyBillingContinuesForTheTarget(t *testing.T) {
	w := trWorld(t)
	sub := w.buy(t0, offerBasic, "P1Y", "monthly", 4) // 4 × 630 per month
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: sub, Quantity: intp(6)}))
	w.relate(partnerB, t0.Add(2*time.Hour))
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, t0.Add(3*time.Hour), messages.CmdTransferRequest, trRequest("TR-1", partnerA)))

	// Period 2026-03-10..2026-04-09 (31 days); transfer on 2026-03-20 at
	// 09:00: 10 started days used, 21 of 31 charged to the target.
	at := time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC)
	out := w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferSubmit, trSubmit("TR-1", sub))
	wantAccepted(t, out)
	wantSent(t, out, "transfer.submitted>P-B", "transfer.submitted>P-A", "subscription.schedule.changed>P-A",
		"subscription.created>P-B", "billing.charge>P-B", "transfer.completed>P-B", "transfer.completed>P-A")
	if sc := findEvent[*messages.ScheduleChangedEvent](t, out, messages.EvtScheduleChanged); sc.SubscriptionID != sub || sc.Reason != "transfer.submit" {
		t.Fatalf("schedule %+v", sc)
	}
	newID := messages.DerivedID("sub", customer1, "cmd-"+itoa(w.n), 0)
	if b := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); b.AmountMinor != 1707 || b.AmountMinor != prorate(2520, 21, 31) ||
		b.Proration.UsedDays != 10 || b.Proration.PeriodDays != 31 {
		t.Fatalf("charge %+v %+v", b, b.Proration)
	}
	if n := w.state.Subscriptions[newID]; n.Scheduled != nil || n.Quantity != 4 {
		t.Fatalf("new %+v", n)
	}

	// The next period starts on 2026-04-10 and is the target's.
	outs := w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))
	evs := eventsOf(outs)
	if len(evs) != 1 || evs[0].Type != messages.EvtBillingCharge || evs[0].PartnerID != partnerB {
		t.Fatalf("period events %+v", evs)
	}
	if b := evs[0].Data.(*messages.BillingEvent); b.SubscriptionID != newID || b.AmountMinor != 2520 || b.PeriodStart != "2026-04-10" || b.PeriodEnd != "2026-05-09" {
		t.Fatalf("period charge %+v", b)
	}
	// At the term end the target's subscription renews (no pending time in
	// the test catalog) with a new cancellation window.
	outs = w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))
	renewed := false
	for _, e := range eventsOf(outs) {
		if e.PartnerID != partnerB {
			t.Fatalf("event %s to %s after the transfer", e.Type, e.PartnerID)
		}
		if r, ok := e.Data.(*messages.SubscriptionRenewedEvent); ok {
			renewed = r.SubscriptionID == newID && r.TermEnd == "2028-03-09" &&
				r.CancellableUntil.Equal(time.Date(2027, 3, 17, 0, 0, 0, 0, time.UTC))
		}
	}
	if !renewed || w.state.Subscriptions[sub].Status != StatusCancelled {
		t.Fatalf("renewal events %v", eventsOf(outs))
	}
}

// TRF-3: the target pays from the transfer as for licenses bought then
// (QTY-1's count, see moveSubscription): at 00:00 UTC of a billing
// period's first day nothing has elapsed and the whole period is charged;
// at the purchase instant (14:00) and one second after 00:00 the day has
// started and counts as used (GEN-2, at least 1).
//
//	purchase instant, annual 5 x 7200, 365 days: 1 used,
//	round(36000 * 364 / 365) = round(35901.37) = 35901
//	monthly 4 x 630, period 2026-04-10..2026-05-09 (30 days), at its
//	first instant 00:00: 0 used, 2520; at 00:00:01: 1 used,
//	round(2520 * 29 / 30) = round(2436.00) = 2436
func TestRule_TRF_3_TransferCountsDaysAsLicensesBoughtThen(t *testing.T) {
	next := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		freq       string
		qty        int
		at         time.Time
		used, days int
		amount     int64
	}{
		{"purchase instant", "annual", 5, t0, 1, 365, 35901},
		{"billing period's first instant", "monthly", 4, next, 0, 30, 2520},
		{"a second into the billing period", "monthly", 4, next.Add(time.Second), 1, 30, 2436},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := trWorld(t)
			w.cat.Policy.TransferRequestExpiryDays = 60                    // the request outlives the first month
			w.buy(t0.Add(-55*time.Minute), offerBasic, "P1Y", "annual", 1) // the source's subscription the request needs (TRF-1)
			w.relate(partnerB, t0.Add(-50*time.Minute))
			wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, t0.Add(-30*time.Minute), messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
			sub := w.buy(t0, offerBasic, "P1Y", tc.freq, tc.qty)
			w.advance(tc.at)
			out := w.doAs(partnerA, messages.RoleAdminAgent, tc.at, messages.CmdTransferSubmit, trSubmit("TR-1", sub))
			wantAccepted(t, out)
			b := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
			unit := w.state.Subscriptions[sub].UnitPrice
			want := messages.Proration{BaseMinor: unit * int64(tc.qty), UsedDays: tc.used, UnusedDays: tc.days - tc.used, PeriodDays: tc.days}
			if b.AmountMinor != tc.amount || b.Proration == nil || *b.Proration != want || b.Rule != "TRF-3" {
				t.Fatalf("transfer charge %d %+v, want %d %+v", b.AmountMinor, b.Proration, tc.amount, want)
			}
			if n := w.state.Subscriptions[b.SubscriptionID]; n.PeriodCharge != tc.amount {
				t.Fatalf("target period charge %d, want %d", n.PeriodCharge, tc.amount)
			}
		})
	}
}

// TRF-2: only active new-commerce license-based subscriptions of the
// source move; the others are listed with why on the source's side; none
// transferable fails the transfer.
func TestRule_TRF_2_OnlyNewCommerceLicenseSubscriptionsMove(t *testing.T) {
	w := trWorld(t)
	good := w.buy(t0, offerBasic, "P1Y", "annual", 3)
	azure := w.buy(t0, offerAzure, "P1M", "monthly", 0)
	suspended := w.buy(t0, offerStd, "P1Y", "annual", 2)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(suspended, "customer_request")))
	cancelled := w.buy(t0, offerBasic, "P1M", "monthly", 1)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(cancelled)))
	// Kinds the test catalog does not sell: the bought subscription's
	// copies, marked as such.
	kinds := map[string]func(*Subscription){
		"trial":    func(s *Subscription) { s.Trial = true },
		"addon":    func(s *Subscription) { s.BaseSubscriptionID = "S-gone" },
		"legacy":   func(s *Subscription) { s.CommerceType = "legacy" },
		"software": func(s *Subscription) { s.CommerceType = "software"; s.Software = &SoftwareState{} },
		"market":   func(s *Subscription) { s.CommerceType = "marketplace_saas" },
		"rsv":      func(s *Subscription) { s.CommerceType = "azure_reservation"; s.Reservation = &ReservationState{} },
		"renewing": func(s *Subscription) { s.RenewalPendingSince = &t0 },
	}
	for name, mark := range kinds {
		c := w.state.Subscriptions[good].clone()
		c.ID = "S-" + name
		mark(&c)
		w.state.Subscriptions[c.ID] = &c
	}
	base := w.buy(t0, offerBasic, "P1Y", "annual", 2)
	live := w.state.Subscriptions[good].clone()
	live.ID, live.BaseSubscriptionID = "S-addon-of-base", base
	w.state.Subscriptions[live.ID] = &live
	w.relate(partnerB, t0.Add(2*time.Hour))
	bOwn := func() string {
		out := w.doAs(partnerB, messages.RoleAdminAgent, t0.Add(3*time.Hour), messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-B",
			Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"}}})
		return findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed).Lines[0].SubscriptionID
	}()
	at := t0.Add(24 * time.Hour)
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))

	type refusal struct{ code, rule, reason string }
	refused := map[string]refusal{
		azure:             {CodeNotTransferable, "TRF-2", "billing_type"},
		suspended:         {CodeNotTransferable, "TRF-2", "suspended"},
		cancelled:         {CodeSubscriptionCancelled, "CAN-2", ""},
		bOwn:              {CodeNotPartnerOfRecord, "PTN-1", ""},
		"S-unknown":       {CodeSubscriptionNotFound, "PTN-1", ""},
		"S-trial":         {CodeNotTransferable, "TRF-2", "trial"},
		"S-addon":         {CodeNotTransferable, "TRF-2", "addon"},
		"S-legacy":        {CodeNotTransferable, "TRF-2", "commerce_type"},
		"S-software":      {CodeNotTransferable, "TRF-2", "commerce_type"},
		"S-market":        {CodeNotTransferable, "TRF-2", "commerce_type"},
		"S-rsv":           {CodeNotTransferable, "TRF-2", "commerce_type"},
		"S-renewing":      {CodeRenewalPending, "REN-4", ""},
		base:              {CodeNotTransferable, "TRF-2", "has_addons"},
		"S-addon-of-base": {CodeNotTransferable, "TRF-2", "addon"},
	}
	var list []string
	statusBefore := map[string]string{}
	for id := range refused {
		list = append(list, id)
		if s, ok := w.state.Subscriptions[id]; ok {
			statusBefore[id] = s.Status
		}
	}
	slices.Sort(list)

	t.Run("TRF-2 malformed submits change nothing", func(t *testing.T) {
		for _, data := range []*messages.TransferSubmitData{trSubmit("TR-1"), trSubmit("TR-1", good, good), trSubmit("TR-1", "a.b")} {
			wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferSubmit, data), CodeInvalidField, "GEN-6")
		}
		wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferSubmit, trSubmit("TR-1", good)), CodeNotSourcePartner, "TRF-1")
	})

	t.Run("TRF-2 none transferable: failed", func(t *testing.T) {
		before := w.state
		out := w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferSubmit, trSubmit("TR-1", list...))
		w.state = before
		wantAccepted(t, out)
		wantSent(t, out, "transfer.submitted>P-B", "transfer.submitted>P-A", "transfer.failed>P-B", "transfer.failed>P-A")
		if ch := out.Changed; !slices.Equal(ch, []string{TransferField("TR-1")}) {
			t.Fatalf("changed %v", ch)
		}
		toA := transferEventTo(t, out, messages.EvtTransferFailed, partnerA)
		toB := transferEventTo(t, out, messages.EvtTransferFailed, partnerB)
		if toA.Status != "failed" || len(toA.NotTransferred) != len(list) || toB.NotTransferredCount != len(list) ||
			toB.NotTransferred != nil || toB.Subscriptions != nil || toB.ChargedMinor != 0 || toA.Reason == "" {
			t.Fatalf("to A %+v, to B %+v", toA, toB)
		}
		for i, nt := range toA.NotTransferred {
			want := refused[list[i]]
			if nt.SubscriptionID != list[i] || nt.Rejection.Code != want.code || nt.Rejection.Rule != want.rule || nt.Rejection.Data["reason"] != want.reason {
				t.Errorf("%s: %+v, want %+v", list[i], nt.Rejection, want)
			}
		}
		if st := out.State.Transfers["TR-1"].Status; st != "failed" {
			t.Fatalf("status %s", st)
		}
		if s := jsonTo(t, out, partnerB); strings.Contains(s, good) || strings.Contains(s, azure) || strings.Contains(s, base) {
			t.Fatalf("the target sees the source's subscriptions: %s", s)
		}
	})

	t.Run("TRF-2 the transferable one moves, the rest are reported", func(t *testing.T) {
		out := w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferSubmit, trSubmit("TR-1", append([]string{good}, list...)...))
		wantAccepted(t, out)
		wantSent(t, out, "transfer.submitted>P-B", "transfer.submitted>P-A", "subscription.created>P-B", "billing.charge>P-B",
			"transfer.completed>P-B", "transfer.completed>P-A")
		toA := transferEventTo(t, out, messages.EvtTransferCompleted, partnerA)
		toB := transferEventTo(t, out, messages.EvtTransferCompleted, partnerB)
		if len(toA.Subscriptions) != 1 || toA.Subscriptions[0].SubscriptionID != good || len(toA.NotTransferred) != len(list) ||
			len(toB.Subscriptions) != 1 || toB.NotTransferredCount != len(list) || toB.Subscriptions[0].Quantity != 3 {
			t.Fatalf("to A %+v, to B %+v", toA, toB)
		}
		for _, id := range list {
			if s, ok := w.state.Subscriptions[id]; ok && s.Status != statusBefore[id] {
				t.Errorf("%s changed to %s", id, s.Status)
			}
		}
		if w.state.Subscriptions[good].Status != StatusCancelled {
			t.Fatal("the transferable one did not move")
		}
	})
}

// TRF-1: transfers are stored with the customer and survive encoding.
func TestRule_TRF_1_TransferStateRoundTrips(t *testing.T) {
	w := trWorld(t)
	w.buy(t0, offerBasic, "P1Y", "annual", 5)
	w.relate(partnerB, t0.Add(time.Hour))
	out := w.doAs(partnerB, messages.RoleAdminAgent, t0.Add(2*time.Hour), messages.CmdTransferRequest, trRequest("TR-1", partnerA))
	all := []string{fieldCustomer, TransferField("TR-1")}
	for id := range w.state.Timers {
		all = append(all, TimerField(id))
	}
	fields, err := out.State.EncodeFields(all)
	if err != nil {
		t.Fatal(err)
	}
	st, err := DecodeState(fields)
	if err != nil {
		t.Fatal(err)
	}
	got, want := st.Transfers["TR-1"], w.state.Transfers["TR-1"]
	if got == nil || got.Status != want.Status || !got.ExpiresAt.Equal(*want.ExpiresAt) || got.ExpiryTimerID != want.ExpiryTimerID ||
		!slices.Equal(st.Customer.Partners, []string{partnerB}) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	if !slices.Contains(out.Changed, TransferField("TR-1")) {
		t.Fatalf("changed %v", out.Changed)
	}
}
