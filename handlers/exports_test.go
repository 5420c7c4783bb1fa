package handlers

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

const (
	offerHub    = "CNTSOPRJHUB1:0001" // Contoso Project Hub (marketplace SaaS)
	offerBackup = "FBRKMBACKUP1:0001" // Fabrikam Secure Backup, EU (exclusive to P-1001, EU countries)
)

// EXP-1: the CSV is RFC 4180 (CRLF, quoted fields with commas, quotes,
// line breaks or a leading space, quotes doubled), with exactly the seven
// columns, sorted by subscription ID.
func TestRule_EXP_1_CSVEscaping(t *testing.T) {
	renewing := time.Date(2027, 3, 9, 0, 0, 0, 0, time.UTC)
	sub := func(id, name string) *rules.Subscription {
		return &rules.Subscription{ID: id, OfferName: name, Quantity: 10, Status: rules.StatusActive, AutoRenew: true,
			BillingType: "license", BillingFrequency: "annual", TermEnd: renewing}
	}
	const header = "Subscription ID,Name,Quantity,Status,Billing cycle,Promotion,Reseller ID\r\n"
	const status = "active (auto-renew on, renews 2027-03-10)"
	for _, tc := range []struct {
		name, offerName, row string
	}{
		{"EXP-1 plain name", "Microsoft 365 Business Basic", `sub-1,Microsoft 365 Business Basic,10,"` + status + `",annual,none,`},
		{"EXP-1 comma in the name", "Fabrikam Secure Backup, EU", `sub-1,"Fabrikam Secure Backup, EU",10,"` + status + `",annual,none,`},
		{"EXP-1 quotes in the name", `Contoso "Pro" Hub`, `sub-1,"Contoso ""Pro"" Hub",10,"` + status + `",annual,none,`},
		{"EXP-1 quotes and comma", `Tailspin "A, B"`, `sub-1,"Tailspin ""A, B""",10,"` + status + `",annual,none,`},
		{"EXP-1 line break in the name", "Two\nLines", "sub-1,\"Two\r\nLines\",10,\"" + status + "\",annual,none,"},
		{"EXP-1 leading space", " Spaced", `sub-1," Spaced",10,"` + status + `",annual,none,`},
		{"EXP-1 quote only", `"`, `sub-1,"""",10,"` + status + `",annual,none,`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SubscriptionsCSV([]*rules.Subscription{sub("sub-1", tc.offerName)})
			if err != nil {
				t.Fatal(err)
			}
			if want := header + tc.row + "\r\n"; got != want {
				t.Errorf("csv\n%q\nwant\n%q", got, want)
			}
		})
	}

	t.Run("EXP-1 status, quantity and order", func(t *testing.T) {
		cancelled := sub("sub-c", "Cancelled one")
		cancelled.Status, cancelled.AutoRenew = rules.StatusCancelled, false
		expired := sub("sub-e", "Expired one")
		expired.Status = rules.StatusExpired
		suspended := sub("sub-s", "Suspended one")
		suspended.Status, suspended.AutoRenew, suspended.BillingFrequency = rules.StatusSuspended, false, "monthly"
		legacySuspended := sub("sub-l", "Legacy suspended")
		legacySuspended.Status = rules.StatusSuspended
		off := sub("sub-o", "Auto-renew off")
		off.AutoRenew = false
		azure := sub("sub-a", "Azure plan")
		azure.BillingType, azure.Quantity, azure.BillingFrequency = "usage", 0, "monthly"
		got, err := SubscriptionsCSV([]*rules.Subscription{suspended, off, legacySuspended, expired, cancelled, azure})
		if err != nil {
			t.Fatal(err)
		}
		want := header +
			`sub-a,Azure plan,,"active (auto-renew on, renews 2027-03-10)",monthly,none,` + "\r\n" +
			`sub-c,Cancelled one,10,cancelled,annual,none,` + "\r\n" +
			`sub-e,Expired one,10,expired,annual,none,` + "\r\n" +
			`sub-l,Legacy suspended,10,"suspended (auto-renew on, renews 2027-03-10)",annual,none,` + "\r\n" +
			`sub-o,Auto-renew off,10,active (auto-renew off),annual,none,` + "\r\n" +
			`sub-s,Suspended one,10,suspended (auto-renew off),monthly,none,` + "\r\n"
		if got != want {
			t.Errorf("csv\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("EXP-1 no subscriptions: the header alone", func(t *testing.T) {
		if got, _ := SubscriptionsCSV(nil); got != header {
			t.Errorf("csv %q", got)
		}
	})
}

type csvReply = messages.QueryReply[messages.SubscriptionsCSV]
type historyReply = messages.QueryReply[messages.OrderHistory]

func askExport[T any](t *testing.T, e *env, partner string, role messages.Role, customer, name, body string) (T, map[string]any) {
	t.Helper()
	msg, err := e.nc.Request(messages.QuerySubject(partner, role, customer, name), []byte(body), 10*time.Second)
	if err != nil {
		t.Fatalf("request %s: %v", name, err)
	}
	var reply T
	var raw map[string]any
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		t.Fatalf("reply %s: %v", msg.Data, err)
	}
	if err := json.Unmarshal(msg.Data, &raw); err != nil {
		t.Fatal(err)
	}
	return reply, raw
}

// expOrder sends an order and returns its order.processed event (whose
// occurred_at is the order's placed-at instant) and the other events.
func expOrder(t *testing.T, e *env, partner, customer, orderID string, lines ...messages.OrderLine) (messages.Event, []messages.Event) {
	t.Helper()
	evs := e.await(e.send(partner, customer, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: orderID, Lines: lines}))
	return evs[len(evs)-1], evs
}

func expLine(id, offer string, qty int, term, freq string) messages.OrderLine {
	return messages.OrderLine{LineID: id, OfferID: offer, Quantity: &qty, Term: term, BillingFrequency: freq}
}

// EXP-1 and EXP-2 over NATS request/reply against the state the processor
// stored for real commands.
func TestRule_EXP_1_EXP_2_ExportsOverNATS(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	const cust = "C-EXP1"
	e.createCustomer(partnerA, cust)

	// 1: Business Basic annual, renews. 2: Contoso Project Hub monthly
	// (marketplace SaaS), then cancelled within its 24 hours (CAN-3).
	// 3: Business Basic monthly, suspended (SUS-4: auto-renew off).
	o1, evs1 := expOrder(t, e, partnerA, cust, "O-1", expLine("L1", offerBasic, 10, "P1Y", "annual"))
	o2, evs2 := expOrder(t, e, partnerA, cust, "O-2", expLine("L1", offerHub, 3, "P1M", "monthly"), expLine("L2", offerBasic, 2, "P1M", "monthly"))
	// 4: Fabrikam is exclusive to P-1001: the order fails (ORD-4).
	o3, _ := expOrder(t, e, partnerA, cust, "O-3", expLine("L1", offerBackup, 1, "P1Y", "annual"))
	created := func(evs []messages.Event, i int) *messages.SubscriptionCreatedEvent {
		return ofType(evs, messages.EvtSubscriptionCreated)[i].Data.(*messages.SubscriptionCreatedEvent)
	}
	basic, hub, monthly := created(evs1, 0), created(evs2, 0), created(evs2, 1)
	if link := ofType(evs2, messages.EvtMarketplaceSetupLink); len(link) != 1 ||
		link[0].Data.(*messages.MarketplaceSetupLinkEvent).SetupURL != "https://projecthub.contoso-isv.example/csp/setup?subscription_id="+hub.SubscriptionID {
		t.Fatalf("setup link %+v", link)
	}
	cancel := e.await(e.send(partnerA, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: hub.SubscriptionID}))
	if c := ofType(cancel, messages.EvtBillingCredit); len(c) != 1 || c[0].Data.(*messages.BillingEvent).AmountMinor != 3*1200 {
		t.Fatalf("cancel %+v", cancel)
	}
	e.await(e.send(partnerA, cust, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: monthly.SubscriptionID, Reason: messages.ReasonNonPayment}))

	renews := func(c *messages.SubscriptionCreatedEvent) string {
		end, err := time.Parse(time.DateOnly, c.TermEnd)
		if err != nil {
			t.Fatal(err)
		}
		return end.AddDate(0, 0, 1).Format(time.DateOnly)
	}
	rows := map[string]string{
		basic.SubscriptionID:   basic.SubscriptionID + `,Microsoft 365 Business Basic,10,"active (auto-renew on, renews ` + renews(basic) + `)",annual,none,`,
		hub.SubscriptionID:     hub.SubscriptionID + `,Contoso Project Hub,3,cancelled,monthly,none,`,
		monthly.SubscriptionID: monthly.SubscriptionID + `,Microsoft 365 Business Basic,2,suspended (auto-renew off),monthly,none,`,
	}
	ids := []string{basic.SubscriptionID, hub.SubscriptionID, monthly.SubscriptionID}
	slices.Sort(ids)
	want := "Subscription ID,Name,Quantity,Status,Billing cycle,Promotion,Reseller ID\r\n"
	for _, id := range ids {
		want += rows[id] + "\r\n"
	}

	t.Run("EXP-1 the customer's subscriptions as CSV", func(t *testing.T) {
		for _, body := range []string{"", "{}"} {
			reply, raw := askExport[csvReply](t, e, partnerA, messages.RoleSalesAgent, cust, messages.QuerySubscriptionsCSV, body)
			if reply.Error != nil || reply.Result == nil {
				t.Fatalf("error %+v", reply.Error)
			}
			if reply.Result.ContentType != "text/csv" || reply.Result.CSV != want {
				t.Fatalf("csv\n%s\nwant\n%s", reply.Result.CSV, want)
			}
			res, _ := raw["result"].(map[string]any)
			if len(res) != 2 || res["content_type"] != "text/csv" || raw["error"] != nil {
				t.Fatalf("raw reply %v", raw)
			}
		}
	})

	t.Run("EXP-1 a name with a comma is quoted end to end", func(t *testing.T) {
		const eu = "C-EXP-EU"
		e.await(e.send("P-1001", eu, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
			CompanyName: "Contoso GmbH", Segment: "commercial", Country: "DE", Currency: "EUR"}))
		_, evs := expOrder(t, e, "P-1001", eu, "O-EU", expLine("L1", offerBackup, 5, "P1Y", "annual"))
		c := ofType(evs, messages.EvtSubscriptionCreated)
		if len(c) != 1 {
			t.Fatalf("order %+v", evs[len(evs)-1].Data)
		}
		sub := c[0].Data.(*messages.SubscriptionCreatedEvent)
		reply, _ := askExport[csvReply](t, e, "P-1001", messages.RoleAdminAgent, eu, messages.QuerySubscriptionsCSV, "")
		row := sub.SubscriptionID + `,"Fabrikam Secure Backup, EU",5,"active (auto-renew on, renews ` + renews(sub) + `)",annual,none,` + "\r\n"
		if reply.Result == nil || !strings.HasSuffix(reply.Result.CSV, "\r\n"+row) {
			t.Fatalf("csv %+v, want row %q", reply.Result, row)
		}
	})

	t.Run("EXP-2 order history newest first with line fulfilment", func(t *testing.T) {
		reply, _ := askExport[historyReply](t, e, partnerA, messages.RoleBillingAdmin, cust, messages.QueryOrderHistory, "")
		h := reply.Result
		if reply.Error != nil || h == nil || h.CustomerID != cust || len(h.Orders) != 3 {
			t.Fatalf("reply %+v %+v", h, reply.Error)
		}
		wantOrders := []messages.OrderView{
			{OrderID: "O-3", PlacedAt: o3.OccurredAt, Status: messages.OrderFailed, Lines: []messages.OrderLineView{
				{LineID: "L1", OfferID: offerBackup, Status: messages.LineRejected, Code: rules.CodeOfferExclusive}}},
			{OrderID: "O-2", PlacedAt: o2.OccurredAt, Status: messages.OrderCompleted, Lines: []messages.OrderLineView{
				{LineID: "L1", OfferID: offerHub, Status: messages.LineFulfilled, SubscriptionID: hub.SubscriptionID},
				{LineID: "L2", OfferID: offerBasic, Status: messages.LineFulfilled, SubscriptionID: monthly.SubscriptionID}}},
			{OrderID: "O-1", PlacedAt: o1.OccurredAt, Status: messages.OrderCompleted, Lines: []messages.OrderLineView{
				{LineID: "L1", OfferID: offerBasic, Status: messages.LineFulfilled, SubscriptionID: basic.SubscriptionID}}},
		}
		assertOrders(t, h.Orders, wantOrders)

		// from is included, to excluded.
		body := `{"from": "` + o2.OccurredAt.Format(time.RFC3339Nano) + `", "to": "` + o3.OccurredAt.Format(time.RFC3339Nano) + `"}`
		reply, _ = askExport[historyReply](t, e, partnerA, messages.RoleHelpdeskAgent, cust, messages.QueryOrderHistory, body)
		if reply.Result == nil {
			t.Fatalf("error %+v", reply.Error)
		}
		assertOrders(t, reply.Result.Orders, wantOrders[1:2])
		reply, _ = askExport[historyReply](t, e, partnerA, messages.RoleAdminAgent, cust, messages.QueryOrderHistory,
			`{"from": "`+o3.OccurredAt.Add(time.Nanosecond).Format(time.RFC3339Nano)+`"}`)
		if reply.Result == nil || len(reply.Result.Orders) != 0 {
			t.Fatalf("reply %+v %+v", reply.Result, reply.Error)
		}
	})

	t.Run("EXP-1 EXP-2 answers that are not exports", func(t *testing.T) {
		for _, tc := range []struct {
			name, partner string
			role          messages.Role
			customer      string
			query, body   string
			code, rule    string
		}{
			{"PTN-1 another partner's customer", partnerB, messages.RoleAdminAgent, cust, messages.QuerySubscriptionsCSV, "", rules.CodeNoRelationship, "PTN-1"},
			{"PTN-1 an unknown customer", partnerB, messages.RoleAdminAgent, "C-NOPE", messages.QueryOrderHistory, "", rules.CodeNoRelationship, "PTN-1"},
			{"ROL-1 a role that does not manage subscriptions", partnerA, messages.RoleGlobalAdmin, cust, messages.QuerySubscriptionsCSV, "", rules.CodeForbidden, "ROL-1"},
			{"GEN-6 unknown field", partnerA, messages.RoleAdminAgent, cust, messages.QuerySubscriptionsCSV, `{"format": "xlsx"}`, CodeQueryMalformed, "GEN-6"},
			{"GEN-6 not JSON", partnerA, messages.RoleAdminAgent, cust, messages.QueryOrderHistory, `from=yesterday`, CodeQueryMalformed, "GEN-6"},
			{"GEN-6 from not RFC 3339", partnerA, messages.RoleAdminAgent, cust, messages.QueryOrderHistory, `{"from": "2026-03-10"}`, rules.CodeInvalidField, "GEN-6"},
			{"GEN-6 to not after from", partnerA, messages.RoleAdminAgent, cust, messages.QueryOrderHistory,
				`{"from": "2026-03-10T00:00:00Z", "to": "2026-03-10T00:00:00Z"}`, rules.CodeInvalidField, "GEN-6"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				reply, raw := askExport[historyReply](t, e, tc.partner, tc.role, tc.customer, tc.query, tc.body)
				if reply.Error == nil || reply.Error.Code != tc.code || reply.Error.Rule != tc.rule || raw["result"] != nil {
					t.Fatalf("reply %v, want %s (%s)", raw, tc.code, tc.rule)
				}
			})
		}
	})
}

func assertOrders(t *testing.T, got, want []messages.OrderView) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("orders\n%s\nwant\n%s", g, w)
	}
}
