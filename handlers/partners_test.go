package handlers

import (
	"maps"
	"strings"
	"testing"

	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// PTN-2, PTN-3, PTN-4 end to end, with the processor running on the demo
// partner registry (Config.Partners): an indirect reseller's order is
// refused and changes nothing; its indirect provider's order naming it is
// fulfilled, and the export shows the reseller.
func TestRule_PTN_2_PTN_3_PTN_4_ProcessorWithPartnerRegistry(t *testing.T) {
	reg, err := partners.Default()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Partners = reg })
	const cust, provider = "C-PTN-DE", "P-1001"
	e.await(e.send(provider, cust, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso GmbH", Segment: "commercial", Country: "DE", Currency: "EUR"}))
	before := e.stateOf(cust)

	// PTN-2: the reseller cannot order for its provider's customer.
	evs := e.await(e.send("R-2001", cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-R",
		Lines: []messages.OrderLine{expLine("L1", offerBasic, 5, "P1Y", "annual")}}))
	if len(evs) != 1 || evs[0].Type != messages.EvtCommandRejected || evs[0].PartnerID != "R-2001" {
		t.Fatalf("events %+v", evs)
	}
	rej := evs[0].Data.(*messages.CommandRejectedEvent)
	if rej.Code != rules.CodeIndirectResellerNotAllowed || rej.Rule != "PTN-2" || rej.Data["indirect_provider_ids"] != provider ||
		!strings.Contains(rej.Description, "go through your indirect provider P-1001") {
		t.Fatalf("rejection %+v", rej.Rejection)
	}
	if after := e.stateOf(cust); !maps.Equal(before, after) {
		t.Fatalf("a PTN-2 rejection changed the state:\n%v\n%v", before, after)
	}

	// PTN-3, PTN-4: the provider names R-2001, with R-2002 as additional
	// reseller; R-2003 has not signed the MPA.
	l1 := expLine("L1", offerBasic, 5, "P1Y", "annual")
	l1.ResellerID, l1.AdditionalResellerIDs = "R-2001", []string{"R-2002"}
	l2 := expLine("L2", offerBasic, 1, "P1Y", "annual")
	l2.ResellerID, l2.AdditionalResellerIDs = "R-2001", []string{"R-2003"}
	done, evs := expOrder(t, e, provider, cust, "O-P", l1, l2)
	res := done.Data.(*messages.OrderProcessedEvent)
	if res.Status != messages.OrderPartiallyCompleted || res.Lines[0].Status != messages.LineFulfilled {
		t.Fatalf("order %+v", res)
	}
	if r := res.Lines[1].Rejection; r == nil || r.Code != rules.CodeAdditionalResellerInvalid || r.Rule != "PTN-4" ||
		r.Data["reseller_id"] != "R-2003" || r.Data["reason"] != "mpa_not_signed" {
		t.Fatalf("line L2 %+v", res.Lines[1])
	}
	sub := res.Lines[0].SubscriptionID
	charges := ofType(evs, messages.EvtBillingCharge)
	if len(charges) != 1 || charges[0].Data.(*messages.BillingEvent).AmountMinor != 5*6720 || charges[0].PartnerID != provider {
		t.Fatalf("charges %+v", charges)
	}

	reply, _ := askExport[csvReply](t, e, provider, messages.RoleAdminAgent, cust, messages.QuerySubscriptionsCSV, "")
	if reply.Result == nil {
		t.Fatalf("export %+v", reply.Error)
	}
	rows := strings.Split(strings.TrimSuffix(reply.Result.CSV, "\r\n"), "\r\n")
	if len(rows) != 2 || !strings.HasPrefix(rows[1], sub+",Microsoft 365 Business Basic,5,") || !strings.HasSuffix(rows[1], ",annual,none,R-2001") {
		t.Fatalf("csv %q", reply.Result.CSV)
	}
}
