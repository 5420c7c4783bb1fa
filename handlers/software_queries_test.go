package handlers

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

const (
	swWinServer = "DG7GMGF0D7FV:0005" // perpetual, keys and downloads (default catalog)
	swSQL       = "DG7GMGF0FKZV:0002" // software subscription, keys and downloads
)

type activityReply = messages.QueryReply[messages.SoftwareActivity]

func askActivity(t *testing.T, nc *nats.Conn, partner string, role messages.Role, customer string, body any) activityReply {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := nc.Request(messages.QuerySubject(partner, role, customer, messages.QuerySoftwareActivity), b, 10*time.Second)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	var reply activityReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		t.Fatalf("reply %s: %v", msg.Data, err)
	}
	return reply
}

func activityRange(from, to time.Time) messages.SoftwareActivityRequest {
	return messages.SoftwareActivityRequest{From: from.Format(time.RFC3339Nano), To: to.Format(time.RFC3339Nano)}
}

// SW-2 over NATS request/reply against the stored state: the log by range,
// for the four admin roles Partner Center names only (ROL-1), PTN-1 as for
// every query.
func TestQuery_SW_2_SoftwareActivityOverNATS(t *testing.T) {
	e := newEnv(t)
	startQueries(t, e, false)
	bought := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return bought.Add(time.Duration(n) * time.Hour) }
	sd := newSeeder(e, "C-SW1")
	sd.do(partnerA, bought.Add(-time.Hour), messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"})
	out := sd.do(partnerA, bought, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-SW", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: swSQL, Quantity: qtyp(2), Term: "P1Y", BillingFrequency: "one_time"}}})
	var sub string
	for _, ev := range out.Events {
		if r, ok := ev.Data.(*messages.OrderProcessedEvent); ok {
			sub = r.Lines[0].SubscriptionID
		}
	}
	sd.do(partnerA, h(1), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: "ana@partner.example"})
	linkOut := sd.do(partnerA, h(2), messages.CmdSoftwareDownloadLinkRequest, &messages.SoftwareDownloadLinkRequestData{SubscriptionID: sub, User: "ana@partner.example"})
	link := linkOut.Events[0].Data.(*messages.SoftwareDownloadLinkIssuedEvent).LinkID
	sd.do(partnerA, h(3), messages.CmdSoftwareDownload, &messages.SoftwareDownloadData{SubscriptionID: sub, User: "it@customer.example", LinkID: link})
	sd.do(partnerA, h(26), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: "ben@partner.example"})

	first := []messages.SoftwareActivityEntry{
		{At: h(1), User: "ana@partner.example", Kind: "key_access", SubscriptionID: sub, OfferID: swSQL},
		{At: h(3), User: "it@customer.example", Kind: "download", SubscriptionID: sub, OfferID: swSQL, LinkID: link},
	}
	for _, role := range rules.SoftwareActivityRoles() {
		t.Run("SW-2 first day as "+string(role), func(t *testing.T) {
			r := askActivity(t, e.nc, partnerA, role, "C-SW1", activityRange(bought, bought.Add(24*time.Hour)))
			if r.Error != nil || r.Result == nil || !reflect.DeepEqual(r.Result.Entries, first) ||
				!r.Result.From.Equal(bought) || !r.Result.To.Equal(bought.Add(24*time.Hour)) || r.Result.DroppedThrough != nil {
				t.Fatalf("reply %+v %+v", r.Result, r.Error)
			}
		})
	}
	t.Run("SW-2 the second day", func(t *testing.T) {
		r := askActivity(t, e.nc, partnerA, messages.RoleGlobalAdmin, "C-SW1", activityRange(h(24), h(48)))
		if r.Result == nil || len(r.Result.Entries) != 1 || r.Result.Entries[0].User != "ben@partner.example" || !r.Result.Entries[0].At.Equal(h(26)) {
			t.Fatalf("reply %+v %+v", r.Result, r.Error)
		}
	})
	t.Run("SW-2 nothing in range is an empty list", func(t *testing.T) {
		r := askActivity(t, e.nc, partnerA, messages.RoleAccountAdmin, "C-SW1", activityRange(h(100), h(200)))
		if r.Result == nil || r.Result.Entries == nil || len(r.Result.Entries) != 0 {
			t.Fatalf("reply %+v %+v", r.Result, r.Error)
		}
	})
	// ROL-1: not the Admin agent, not the subscription managers.
	for _, role := range []messages.Role{messages.RoleAdminAgent, messages.RoleBillingAdmin, messages.RoleHelpdeskAgent,
		messages.RoleSalesAgent, messages.RoleUserManagementAdmin} {
		t.Run("ROL-1 "+string(role)+" may not read the log", func(t *testing.T) {
			r := askActivity(t, e.nc, partnerA, role, "C-SW1", activityRange(bought, h(48)))
			if r.Result != nil || r.Error == nil || r.Error.Code != rules.CodeForbidden || r.Error.Rule != "ROL-1" {
				t.Fatalf("reply %+v %+v", r.Result, r.Error)
			}
		})
	}
	// PTN-1: another partner's customer and an unknown one answer alike.
	for _, customer := range []string{"C-SW1", "C-NOPE"} {
		r := askActivity(t, e.nc, partnerB, messages.RoleGlobalAdmin, customer, activityRange(bought, h(48)))
		if r.Result != nil || r.Error == nil || r.Error.Code != rules.CodeNoRelationship || r.Error.Rule != "PTN-1" {
			t.Fatalf("PTN-1 %s: %+v %+v", customer, r.Result, r.Error)
		}
	}
	for _, tc := range []struct {
		name  string
		body  any
		code  string
		field string
	}{
		{"malformed body", []byte(`{"from": 1}`), CodeQueryMalformed, ""},
		{"unknown field", []byte(`{"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z", "user": "x"}`), CodeQueryMalformed, ""},
		{"from missing", messages.SoftwareActivityRequest{To: "2026-03-11T00:00:00Z"}, rules.CodeInvalidField, "from"},
		{"to not a time", messages.SoftwareActivityRequest{From: "2026-03-10T00:00:00Z", To: "tomorrow"}, rules.CodeInvalidField, "to"},
		{"to before from", activityRange(h(2), h(1)), rules.CodeInvalidField, "to"},
	} {
		t.Run("SW-2 "+tc.name, func(t *testing.T) {
			r := askActivity(t, e.nc, partnerA, messages.RoleGlobalAdmin, "C-SW1", tc.body)
			if r.Result != nil || r.Error == nil || r.Error.Code != tc.code || r.Error.Data["field"] != tc.field {
				t.Fatalf("reply %+v %+v", r.Result, r.Error)
			}
		})
	}
}

// The whole path: software bought, keys looked at and downloaded through
// the processor by an Admin agent, refused for another role (ROL-1), then
// listed by the log query; the cancellation revokes them at once (SW-3).
func TestQuery_SW_2_ActivityThroughTheProcessor(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	startQueries(t, e, false)
	start := time.Now().UTC().Add(-time.Minute)
	e.createCustomer(partnerA, "C-SW2")
	evs := e.await(e.send(partnerA, "C-SW2", messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-SW2", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: swWinServer, Quantity: qtyp(1), Term: "perpetual", BillingFrequency: "one_time"}}}))
	if len(ofType(evs, messages.EvtSoftwareKeysIssued)) != 1 {
		t.Fatalf("purchase events %+v", evs)
	}
	sub := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID

	keyEvs := e.await(e.send(partnerA, "C-SW2", messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: "ana@partner.example"}))
	if keyEvs[0].Type != messages.EvtSoftwareActivityRecorded {
		t.Fatalf("key access: %+v", keyEvs[0].Data)
	}
	e.await(e.send(partnerA, "C-SW2", messages.CmdSoftwareDownloadLinkRequest, &messages.SoftwareDownloadLinkRequestData{SubscriptionID: sub, User: "ana@partner.example"}))
	e.await(e.send(partnerA, "C-SW2", messages.CmdSoftwareDownload, &messages.SoftwareDownloadData{SubscriptionID: sub, User: "it@customer.example"}))

	e.up.Role = messages.RoleGlobalAdmin // ROL-1: keys are for Admin agents
	denied := e.await(e.send(partnerA, "C-SW2", messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: "gus@partner.example"}))
	e.up.Role = ""
	if rej, ok := denied[0].Data.(*messages.CommandRejectedEvent); !ok || rej.Code != rules.CodeForbidden || rej.Rule != "ROL-1" {
		t.Fatalf("global admin key access: %+v", denied[0].Data)
	}

	r := askActivity(t, e.nc, partnerA, messages.RoleMarketingContentAdmin, "C-SW2", activityRange(start, time.Now().UTC().Add(time.Minute)))
	if r.Result == nil || len(r.Result.Entries) != 2 || r.Result.Entries[0].Kind != "key_access" || r.Result.Entries[0].User != "ana@partner.example" ||
		r.Result.Entries[1].Kind != "download" || r.Result.Entries[1].User != "it@customer.example" {
		t.Fatalf("log %+v %+v", r.Result, r.Error)
	}

	cancel := e.await(e.send(partnerA, "C-SW2", messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-SW2"}))
	sum := ofType(cancel, messages.EvtSoftwareCancelled)
	credit := ofType(cancel, messages.EvtBillingCredit)
	if len(sum) != 1 || len(credit) != 1 || credit[0].Data.(*messages.BillingEvent).AmountMinor != 106900 ||
		!sum[0].Data.(*messages.SoftwareCancelledEvent).CancelledAt.Equal(sum[0].OccurredAt) {
		t.Fatalf("cancel events %+v", cancel)
	}
	again := e.await(e.send(partnerA, "C-SW2", messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: "ana@partner.example"}))
	if rej, ok := again[0].Data.(*messages.CommandRejectedEvent); !ok || rej.Code != rules.CodeSoftwareKeyRevoked {
		t.Fatalf("key access after cancel: %+v", again[0].Data)
	}
}
