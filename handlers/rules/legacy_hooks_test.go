package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// Needs the customer.go and autorenew.go hooks (see legacy.go).
func TestRule_SUS_2_REN_1_ThroughTheCommands(t *testing.T) {
	w := newWorld(t)
	w.cat = legacyCatalog(t)
	opened := t0.Add(-time.Hour)
	wantRejected(t, w.do(partnerA, opened, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD", FirstBillingDate: "2026-03-09"}), CodeInvalidField, "GEN-6")
	wantAccepted(t, w.do(partnerA, opened, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD", FirstBillingDate: "2026-03-30"}))
	if fb := w.state.Customer.FirstBillingDate; fb == nil || formatDate(*fb) != "2026-03-30" {
		t.Fatalf("first billing date %v", fb)
	}
	id := w.buy(t0, offerLegacyE3, "P1Y", "monthly", 2)
	wantRejected(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, false)), CodeAutoRenewLocked, "REN-1")
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, true)))
	out := w.do(partnerA, suspendedAt, messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment"))
	if ev := findEvent[*messages.SubscriptionSuspendedEvent](t, out, messages.EvtSubscriptionSuspended); !ev.DataDeletionAt.Equal(suspendedAt.Add(110 * 24 * time.Hour)) {
		t.Fatalf("data deletion at %v", ev.DataDeletionAt)
	}
}
