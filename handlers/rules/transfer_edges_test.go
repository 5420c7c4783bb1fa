package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func declineOf(partner string) *messages.RelationshipDeclineData {
	return &messages.RelationshipDeclineData{PartnerID: partner}
}

func (w *world) asCustomer(at time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	return w.doAs(messages.CustomerActor, messages.RoleCustomerAdmin, at, typ, data)
}

func TestRule_TRF_1_RolesOfTheAnswersAndTheWithdrawal(t *testing.T) {
	if got := RolesFor(messages.CmdRelationshipDecline); !slices.Equal(got, []messages.Role{messages.RoleCustomerAdmin}) {
		t.Errorf("decline roles %v", got)
	}
	if got := RolesFor(messages.CmdTransferWithdraw); !slices.Equal(got, subscriptionRoles) {
		t.Errorf("withdraw roles %v", got)
	}
}

// TRF-3: the customer declines a pending relationship request; only the
// partner that asked and the customer portal hear of it, the partner gets
// no relationship and may ask again.
func TestRule_TRF_3_RelationshipRequestDeclinedByTheCustomer(t *testing.T) {
	w := trWorld(t)
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	at := t0.Add(time.Hour)
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))
	timerID := w.state.Customer.PendingRequests[partnerB].ExpiryTimerID
	if tm := w.state.Timers[timerID]; tm == nil || tm.Kind != TimerRelationshipExpiry || tm.PartnerID != partnerB {
		t.Fatalf("expiry timer %q: %+v", timerID, tm)
	}

	t.Run("TRF-1 only the customer declines", func(t *testing.T) {
		for _, p := range []string{partnerA, partnerB, messages.SystemPartner} {
			wantRejected(t, w.doAs(p, messages.RoleCustomerAdmin, at, messages.CmdRelationshipDecline, declineOf(partnerB)), CodeForbidden, "PTN-1")
		}
		wantRejected(t, w.doAs(messages.CustomerActor, messages.RoleAdminAgent, at, messages.CmdRelationshipDecline, declineOf(partnerB)),
			CodeForbidden, "ROL-1")
		wantRejected(t, w.asCustomer(at, messages.CmdRelationshipDecline, declineOf(partnerC)), CodeNoRelationshipRequest, "TRF-1")
		wantRejected(t, w.asCustomer(at, messages.CmdRelationshipDecline, declineOf(partnerA)), CodeNoRelationshipRequest, "TRF-1")
		wantRejected(t, w.asCustomer(at, messages.CmdRelationshipDecline, declineOf("a.b")), CodeInvalidField, "GEN-6")
		empty := newWorld(t)
		wantRejected(t, empty.asCustomer(at, messages.CmdRelationshipDecline, declineOf(partnerB)), CodeCustomerNotFound, "TRF-1")
		if !slices.Equal(w.state.Customer.PendingPartners, []string{partnerB}) || w.state.Timers[timerID] == nil {
			t.Fatalf("refusals changed the customer: %+v", w.state.Customer)
		}
	})

	out := w.asCustomer(at.Add(time.Hour), messages.CmdRelationshipDecline, declineOf(partnerB))
	wantAccepted(t, out)
	wantSent(t, out, "customer.relationship.declined>P-B", "customer.relationship.declined>_customer")
	ev := findEvent[*messages.RelationshipClosedEvent](t, out, messages.EvtRelationshipDeclined)
	if *ev != (messages.RelationshipClosedEvent{PartnerID: partnerB, Status: "declined", RequestedAt: at}) {
		t.Fatalf("declined %+v", ev)
	}
	if strings.Contains(jsonTo(t, out, partnerB), "Contoso") {
		t.Fatal("a declined partner sees the customer's details")
	}
	c := w.state.Customer
	if c.PendingPartners != nil || c.PendingRequests != nil || c.HasRelationship(partnerB) || len(c.Partners) != 0 {
		t.Fatalf("customer %+v", c)
	}
	if _, ok := w.state.Timers[timerID]; ok || !slices.Contains(out.Deleted, TimerField(timerID)) {
		t.Fatalf("the expiry timer survived the decline: deleted %v", out.Deleted)
	}
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at.Add(2*time.Hour), messages.CmdSubscriptionCancel, cancelOf(sub)),
		CodeNoRelationship, "PTN-1")
	wantRejected(t, w.asCustomer(at.Add(2*time.Hour), messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB}),
		CodeNoRelationshipRequest, "TRF-1")
	wantRejected(t, w.asCustomer(at.Add(2*time.Hour), messages.CmdRelationshipDecline, declineOf(partnerB)), CodeNoRelationshipRequest, "TRF-1")

	// Asking again opens a new request with its own expiry.
	again := at.Add(3 * time.Hour)
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, again, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))
	if r := w.state.Customer.PendingRequests[partnerB]; !r.RequestedAt.Equal(again) || !r.ExpiresAt.Equal(again.Add(30*24*time.Hour)) {
		t.Fatalf("second request %+v", r)
	}
}

// TRF-3: a relationship request the customer leaves unanswered expires when
// its durable timer fires, told to the partner and the customer portal; an
// answer at the expiry instant finds it expired.
func TestRule_TRF_3_RelationshipRequestExpiresUnanswered(t *testing.T) {
	w := trWorld(t)
	w.buy(t0, offerBasic, "P1Y", "annual", 5)
	at := t0.Add(time.Hour)
	out := w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
	wantAccepted(t, out)
	expires := at.Add(30 * 24 * time.Hour)
	if ev := findEvent[*messages.RelationshipRequestedEvent](t, out, messages.EvtRelationshipRequested); !ev.ExpiresAt.Equal(expires) {
		t.Fatalf("requested %+v", ev)
	}
	if len(out.TimersSet) != 1 || !out.TimersSet[0].DueAt.Equal(expires) || out.TimersSet[0].Kind != TimerRelationshipExpiry {
		t.Fatalf("timers set %+v", out.TimersSet)
	}

	before := w.state
	late := w.asCustomer(expires, messages.CmdRelationshipAccept, &messages.RelationshipAcceptData{PartnerID: partnerB})
	wantRejected(t, late, CodeNoRelationshipRequest, "TRF-1")
	if got := typesWithoutNotices(late); len(got) != 3 || got[0] != messages.EvtRelationshipExpired || late.State.Customer.HasRelationship(partnerB) {
		t.Fatalf("accept at the expiry: %v", got)
	}
	w.state = before

	if outs := w.advance(expires.Add(-time.Second)); len(withoutNotices(eventsOf(outs))) != 0 {
		t.Fatalf("fired early: %v", eventsOf(outs))
	}
	outs := withoutNoticeTimers(w.advance(expires))
	if len(outs) != 1 {
		t.Fatalf("%d timers fired", len(outs))
	}
	wantSent(t, outs[0], "customer.relationship.expired>P-B", "customer.relationship.expired>_customer")
	ev := findEvent[*messages.RelationshipClosedEvent](t, outs[0], messages.EvtRelationshipExpired)
	want := messages.RelationshipClosedEvent{PartnerID: partnerB, Status: "expired", RequestedAt: at,
		Reason: "the customer did not answer within 30 days"}
	if *ev != want {
		t.Fatalf("expired %+v", ev)
	}
	if c := w.state.Customer; c.PendingPartners != nil || c.PendingRequests != nil || c.HasRelationship(partnerB) {
		t.Fatalf("customer %+v", c)
	}
	wantRejected(t, w.asCustomer(expires.Add(time.Hour), messages.CmdRelationshipDecline, declineOf(partnerB)), CodeNoRelationshipRequest, "TRF-1")
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, expires.Add(time.Hour), messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))

	t.Run("TRF-3 an accepted request does not expire", func(t *testing.T) {
		w := trWorld(t)
		w.relate(partnerB, at)
		if outs := w.advance(at.Add(60 * 24 * time.Hour)); len(eventsOf(outs)) != 0 || !w.state.Customer.HasRelationship(partnerB) {
			t.Fatalf("events after acceptance: %v", eventsOf(outs))
		}
	})
	t.Run("TRF-3 no expiry when the policy sets none", func(t *testing.T) {
		w := newWorld(t)
		w.createCustomer("commercial", "USD")
		out := w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{})
		wantAccepted(t, out)
		r := w.state.Customer.PendingRequests[partnerB]
		if r.ExpiresAt != nil || r.ExpiryTimerID != "" || len(out.TimersSet) != 0 ||
			!findEvent[*messages.RelationshipRequestedEvent](t, out, messages.EvtRelationshipRequested).ExpiresAt.IsZero() {
			t.Fatalf("request %+v, timers %v", r, out.TimersSet)
		}
	})
	t.Run("TRF-3 a stale timer of an earlier request changes nothing", func(t *testing.T) {
		w := trWorld(t)
		wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))
		old := *w.state.Timers[w.state.Customer.PendingRequests[partnerB].ExpiryTimerID]
		wantAccepted(t, w.asCustomer(at.Add(time.Hour), messages.CmdRelationshipDecline, declineOf(partnerB)))
		wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at.Add(2*time.Hour), messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))
		w.state.Timers[old.ID] = &old // a copy the index still held
		out := w.doAs(messages.SystemPartner, messages.RoleSystem, old.DueAt, messages.CmdTimerFired,
			&messages.TimerFiredData{TimerID: old.ID, Kind: old.Kind, DueAt: old.DueAt})
		if len(out.Events) != 0 || !slices.Equal(w.state.Customer.PendingPartners, []string{partnerB}) {
			t.Fatalf("stale timer: events %v, customer %+v", eventTypes(out), w.state.Customer)
		}
	})
}

// TRF-3: the target withdraws its request before the source answered;
// nothing moves, nothing is billed, and only the two partners hear of it.
func TestRule_TRF_3_WithdrawnByTheTarget(t *testing.T) {
	w := trWorld(t)
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	w.relate(partnerB, t0.Add(time.Hour))
	w.relate(partnerC, t0.Add(time.Hour))
	at := t0.Add(48 * time.Hour)
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
	timerID := w.state.Transfers["TR-1"].ExpiryTimerID

	withdraw := &messages.TransferWithdrawData{TransferID: "TR-1"}
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, at, messages.CmdTransferWithdraw, withdraw), CodeNotTargetPartner, "TRF-3")
	wantRejected(t, w.doAs(partnerC, messages.RoleAdminAgent, at, messages.CmdTransferWithdraw, withdraw), CodeTransferNotFound, "TRF-1")
	wantRejected(t, w.doAs("P-Z", messages.RoleAdminAgent, at, messages.CmdTransferWithdraw, withdraw), CodeNoRelationship, "PTN-1")
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferWithdraw, &messages.TransferWithdrawData{TransferID: "TR-9"}),
		CodeTransferNotFound, "TRF-1")
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferWithdraw, &messages.TransferWithdrawData{TransferID: "TR.1"}),
		CodeInvalidField, "GEN-6")
	wantRejected(t, w.doAs(partnerB, messages.RoleCustomerAdmin, at, messages.CmdTransferWithdraw, withdraw), CodeForbidden, "ROL-1")

	out := w.doAs(partnerB, messages.RoleAdminAgent, at.Add(time.Hour), messages.CmdTransferWithdraw, withdraw)
	wantAccepted(t, out)
	wantSent(t, out, "transfer.withdrawn>P-B", "transfer.withdrawn>P-A")
	for p, side := range map[string]string{partnerB: "target", partnerA: "source"} {
		ev := transferEventTo(t, out, messages.EvtTransferWithdrawn, p)
		if ev.Status != "withdrawn" || ev.Side != side || ev.TransferID != "TR-1" || !ev.ExpiresAt.IsZero() || ev.Subscriptions != nil {
			t.Fatalf("to %s: %+v", p, ev)
		}
	}
	tr := w.state.Transfers["TR-1"]
	if tr.Status != "withdrawn" || tr.WithdrawnAt == nil || !tr.WithdrawnAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("transfer %+v", tr)
	}
	if _, ok := w.state.Timers[timerID]; ok {
		t.Fatal("the expiry timer survived the withdrawal")
	}
	later := at.Add(2 * time.Hour)
	wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, later, messages.CmdTransferWithdraw, withdraw), CodeTransferNotOpen, "TRF-3")
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, later, messages.CmdTransferSubmit, trSubmit("TR-1", sub)), CodeTransferNotOpen, "TRF-3")
	wantRejected(t, w.doAs(partnerA, messages.RoleAdminAgent, later, messages.CmdTransferReject, &messages.TransferRejectData{TransferID: "TR-1"}),
		CodeTransferNotOpen, "TRF-3")
	if s := w.state.Subscriptions[sub]; s.PartnerID != partnerA || s.Status != StatusActive || len(w.state.Subscriptions) != 1 {
		t.Fatalf("a withdrawn transfer moved subscriptions: %+v", w.state.Subscriptions)
	}
	if outs := w.advance(at.Add(40 * 24 * time.Hour)); slices.ContainsFunc(eventsOf(outs), func(e EventDraft) bool { return strings.HasPrefix(string(e.Type), "transfer.") }) {
		t.Fatal("a withdrawn transfer expired later")
	}
	// A new request between the same partners is possible again.
	wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, later, messages.CmdTransferRequest, trRequest("TR-2", partnerA)))

	t.Run("TRF-3 not after submission or expiry", func(t *testing.T) {
		w := trWorld(t)
		sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
		w.relate(partnerB, t0.Add(time.Hour))
		wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
		wantAccepted(t, w.doAs(partnerA, messages.RoleAdminAgent, at.Add(time.Hour), messages.CmdTransferSubmit, trSubmit("TR-1", sub)))
		wantRejected(t, w.doAs(partnerB, messages.RoleAdminAgent, at.Add(2*time.Hour), messages.CmdTransferWithdraw, withdraw), CodeTransferNotOpen, "TRF-3")
		if w.state.Transfers["TR-1"].Status != "completed" {
			t.Fatalf("transfer %+v", w.state.Transfers["TR-1"])
		}

		w2 := trWorld(t)
		w2.buy(t0, offerBasic, "P1Y", "annual", 5)
		w2.relate(partnerB, t0.Add(time.Hour))
		wantAccepted(t, w2.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
		expires := at.Add(30 * 24 * time.Hour)
		out := w2.doAs(partnerB, messages.RoleAdminAgent, expires, messages.CmdTransferWithdraw, withdraw)
		wantRejected(t, out, CodeTransferNotOpen, "TRF-3")
		if w2.state.Transfers["TR-1"].Status != "expired" {
			t.Fatalf("transfer %+v", w2.state.Transfers["TR-1"])
		}
	})
}

// TRF-3: a rejection's reason is optional, bounded in characters, plain
// text, and reaches the target as written; a bad one changes nothing.
func TestRule_TRF_3_RejectionReasonIsBoundedText(t *testing.T) {
	for _, tc := range []struct {
		name, reason string
		ok           bool
	}{
		{"TRF-3 no reason", "", true},
		{"TRF-3 500 two-byte characters", strings.Repeat("é", 500), true},
		{"TRF-3 line breaks", "renewed with us\nuntil 2027", true},
		{"TRF-3 501 characters", strings.Repeat("x", 501), false},
		{"TRF-3 a NUL", "no\x00", false},
		{"TRF-3 a terminal escape", "\x1b[31mno", false},
		{"TRF-3 a tab", "no\tthanks", false},
		{"TRF-3 not UTF-8", "no \xff", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := trWorld(t)
			w.buy(t0, offerBasic, "P1Y", "annual", 5)
			w.relate(partnerB, t0.Add(time.Hour))
			at := t0.Add(48 * time.Hour)
			wantAccepted(t, w.doAs(partnerB, messages.RoleAdminAgent, at, messages.CmdTransferRequest, trRequest("TR-1", partnerA)))
			out := w.doAs(partnerA, messages.RoleAdminAgent, at.Add(time.Hour), messages.CmdTransferReject,
				&messages.TransferRejectData{TransferID: "TR-1", Reason: tc.reason})
			if !tc.ok {
				if r := wantRejected(t, out, CodeInvalidField, "GEN-6"); r.Data["field"] != "data.reason" {
					t.Fatalf("rejection %+v", r)
				}
				if w.state.Transfers["TR-1"].Status != "requested" {
					t.Fatal("a bad reason changed the transfer")
				}
				return
			}
			wantAccepted(t, out)
			if ev := transferEventTo(t, out, messages.EvtTransferRejected, partnerB); ev.Reason != tc.reason || ev.Status != "rejected" {
				t.Fatalf("to the target: %+v", ev)
			}
			if w.state.Transfers["TR-1"].RejectReason != tc.reason {
				t.Fatalf("transfer %+v", w.state.Transfers["TR-1"])
			}
		})
	}
}
