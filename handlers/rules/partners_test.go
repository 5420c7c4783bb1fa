package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/messages"
)

// ptnRegistry is the registry of these tests: two direct-bill partners,
// two indirect providers, resellers of P-1001 (R-2003 without a signed
// MPA) and one reseller of both providers, and one of P-2000 only.
const ptnRegistry = `{
 "version": "test",
 "policy": {"eu_efta_countries": ["DE", "FR", "IT", "NO", "CH"], "max_additional_resellers": %MAX%},
 "partners": [
  {"id": "P-A", "name": "Adatum", "type": "direct_bill", "mpa_signed": true, "country": "US"},
  {"id": "P-B", "name": "Litware", "type": "direct_bill", "mpa_signed": true, "country": "GB"},
  {"id": "P-1001", "name": "Contoso Distribution GmbH", "type": "indirect_provider", "mpa_signed": true, "country": "DE"},
  {"id": "P-2000", "name": "Northwind Distribution SA", "type": "indirect_provider", "mpa_signed": true, "country": "FR"},
  {"id": "R-2001", "name": "Fabrikam", "type": "indirect_reseller", "provider_ids": ["P-1001"], "mpa_signed": true, "country": "DE"},
  {"id": "R-2002", "name": "Tailspin", "type": "indirect_reseller", "provider_ids": ["P-1001"], "mpa_signed": true, "country": "FR"},
  {"id": "R-2003", "name": "Wingtip", "type": "indirect_reseller", "provider_ids": ["P-1001"], "mpa_signed": false, "country": "IT"},
  {"id": "R-2004", "name": "Proseware", "type": "indirect_reseller", "provider_ids": ["P-1001"], "mpa_signed": true, "country": "DE"},
  {"id": "R-2005", "name": "Lucerne", "type": "indirect_reseller", "provider_ids": ["P-1001"], "mpa_signed": true, "country": "CH"},
  {"id": "R-2006", "name": "Margie", "type": "indirect_reseller", "provider_ids": ["P-1001"], "mpa_signed": true, "country": "NO"},
  {"id": "R-2007", "name": "Alpine", "type": "indirect_reseller", "provider_ids": ["P-1001", "P-2000"], "mpa_signed": true, "country": "FR"},
  {"id": "R-3001", "name": "Blue Yonder", "type": "indirect_reseller", "provider_ids": ["P-2000"], "mpa_signed": true, "country": "FR"}
 ]
}`

const provider = "P-1001"

// ptnPartners parses the test registry with max additional resellers
// per transaction (PTN-4's limit is registry policy).
func ptnPartners(t testing.TB, maxAdditional string) *partners.Registry {
	t.Helper()
	r, err := partners.Parse([]byte(strings.Replace(ptnRegistry, "%MAX%", maxAdditional, 1)))
	if err != nil {
		t.Fatalf("test registry: %v", err)
	}
	return r
}

// doWith decides a command as partner with the registry reg (nil: none),
// like world.do, and keeps the new state.
func (w *world) doWith(reg *partners.Registry, partner string, now time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	w.n++
	out := Decide(Input{
		Command:   messages.Command{ID: "cmd-" + itoa(w.n), Type: typ, SchemaVersion: 1, CustomerID: customer1, Data: data},
		PartnerID: partner, Now: now, State: w.state, Catalog: w.cat, Partners: reg,
	})
	w.state = out.State
	return out
}

// ptnWorld is a world whose customer was created by partner, billed in
// country, with the registry reg.
func ptnWorld(t *testing.T, reg *partners.Registry, partner, country string) *world {
	t.Helper()
	w := newWorld(t)
	out := w.doWith(reg, partner, t0.Add(-time.Hour), messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: country, Currency: "USD"})
	wantAccepted(t, out)
	return w
}

// ptnLine is ten annual Business Basic licenses (USD 72.00 each).
func ptnLine(id, reseller string, additional ...string) messages.OrderLine {
	return messages.OrderLine{LineID: id, OfferID: offerBasic, Quantity: intp(10), Term: "P1Y", BillingFrequency: "annual",
		ResellerID: reseller, AdditionalResellerIDs: additional}
}

// ptnOrder places an order and returns its result.
func (w *world) ptnOrder(reg *partners.Registry, partner string, lines ...messages.OrderLine) (Outcome, *messages.OrderProcessedEvent) {
	w.t.Helper()
	out := w.doWith(reg, partner, t0, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + itoa(w.n+1), Lines: lines})
	wantAccepted(w.t, out)
	return out, findEvent[*messages.OrderProcessedEvent](w.t, out, messages.EvtOrderProcessed)
}

// wantLineRejected asserts the line's rejection, its rule and data.
func wantLineRejected(t *testing.T, res messages.OrderLineResult, code, rule string, data map[string]string) {
	t.Helper()
	if res.Status != messages.LineRejected || res.Rejection == nil {
		t.Fatalf("line %s %s, want rejected %s", res.LineID, res.Status, code)
	}
	r := res.Rejection
	if r.Code != code || r.Rule != rule {
		t.Fatalf("line %s: %s (%s) %q, want %s (%s)", res.LineID, r.Code, r.Rule, r.Description, code, rule)
	}
	for k, v := range data {
		if r.Data[k] != v {
			t.Fatalf("line %s: data[%s] = %q, want %q (%v)", res.LineID, k, r.Data[k], v, r.Data)
		}
	}
}

// wantFulfilled asserts a fulfilled line charged 10 x USD 72.00 and
// returns its stored subscription.
func wantFulfilled(t *testing.T, w *world, out Outcome, res messages.OrderLineResult) *Subscription {
	t.Helper()
	if res.Status != messages.LineFulfilled {
		t.Fatalf("line %s rejected: %+v", res.LineID, res.Rejection)
	}
	for _, e := range out.Events {
		if c, ok := e.Data.(*messages.BillingEvent); ok && c.SubscriptionID == res.SubscriptionID {
			if c.AmountMinor != 72000 || c.UnitPriceMinor != 7200 || c.Currency != "USD" {
				t.Fatalf("charge %+v", c)
			}
			return w.state.Subscriptions[res.SubscriptionID]
		}
	}
	t.Fatalf("no charge for %s", res.SubscriptionID)
	return nil
}

// PTN-2: with a registry, only registered direct-bill partners and
// indirect providers act; an indirect reseller is sent to its provider;
// either refusal changes nothing. The processor's own actors are exempt.
func TestRule_PTN_2_OnlyDirectBillPartnersAndIndirectProvidersTransact(t *testing.T) {
	reg := ptnPartners(t, "5")
	created := &messages.CustomerCreatedData{CompanyName: "Contoso", Segment: "commercial", Country: "DE", Currency: "USD"}
	for _, tc := range []struct {
		name    string
		reg     *partners.Registry
		partner string
		role    messages.Role
		code    string // "" accepted
		rule    string
		data    map[string]string
		desc    string
	}{
		{"PTN-2 direct-bill partner", reg, partnerA, messages.RoleAdminAgent, "", "", nil, ""},
		{"PTN-2 indirect provider", reg, provider, messages.RoleSalesAgent, "", "", nil, ""},
		{"PTN-2 indirect reseller", reg, "R-2001", messages.RoleAdminAgent, CodeIndirectResellerNotAllowed, "PTN-2",
			map[string]string{"partner_id": "R-2001", "indirect_provider_ids": "P-1001", "command_type": "customer.created"},
			"partner R-2001 is an indirect reseller and cannot sell or manage subscriptions; go through your indirect provider P-1001"},
		{"PTN-2 indirect reseller of two providers", reg, "R-2007", messages.RoleAdminAgent, CodeIndirectResellerNotAllowed, "PTN-2",
			map[string]string{"partner_id": "R-2007", "indirect_provider_ids": "P-1001,P-2000"},
			"go through your indirect provider P-1001 or P-2000"},
		{"PTN-2 unknown partner", reg, "P-9999", messages.RoleAdminAgent, CodeUnknownPartner, "PTN-2",
			map[string]string{"partner_id": "P-9999"}, "partner P-9999 is not registered"},
		{"PTN-2 an unregistered '_' partner is not exempt", reg, "_other", messages.RoleAdminAgent, CodeUnknownPartner, "PTN-2",
			map[string]string{"partner_id": "_other"}, ""},
		{"PTN-2 ROL-1 is checked first", reg, "R-2001", messages.RoleGlobalAdmin, CodeForbidden, "ROL-1", nil, ""},
		{"PTN-2 no registry: a reseller acts as direct-bill", nil, "R-2001", messages.RoleAdminAgent, "", "", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			out := Decide(Input{Command: messages.Command{ID: "c-1", Type: messages.CmdCustomerCreated, CustomerID: customer1, Data: created},
				PartnerID: tc.partner, Role: tc.role, Now: t0, State: w.state, Catalog: w.cat, Partners: tc.reg})
			if tc.code == "" {
				wantAccepted(t, out)
				if out.State.Customer == nil || out.State.Customer.PartnerID != tc.partner {
					t.Fatalf("customer %+v", out.State.Customer)
				}
				return
			}
			r := wantRejected(t, out, tc.code, tc.rule)
			for k, v := range tc.data {
				if r.Data[k] != v {
					t.Fatalf("data[%s] = %q, want %q (%v)", k, r.Data[k], v, r.Data)
				}
			}
			if !strings.Contains(r.Description, tc.desc) {
				t.Fatalf("description %q lacks %q", r.Description, tc.desc)
			}
			if out.State.Customer != nil || out.Events[0].PartnerID != tc.partner {
				t.Fatalf("state %+v, rejection to %s", out.State.Customer, out.Events[0].PartnerID)
			}
		})
	}
}

// PTN-2 on the provider's own customer and subscription: its reseller can
// neither order nor manage (PTN-2 answers before PTN-1), and nothing
// changes; the provider can; timers (the system partner) still fire and
// the customer actor is not a partner.
func TestRule_PTN_2_ResellerCannotManageItsProvidersSubscriptions(t *testing.T) {
	reg := ptnPartners(t, "5")
	w := ptnWorld(t, reg, provider, "DE")
	out, res := w.ptnOrder(reg, provider, messages.OrderLine{LineID: "L1", OfferID: offerBasic, Quantity: intp(3), Term: "P1M",
		BillingFrequency: "monthly", ResellerID: "R-2001"})
	if res.Lines[0].Status != messages.LineFulfilled {
		t.Fatalf("%+v", res.Lines[0].Rejection)
	}
	sub := res.Lines[0].SubscriptionID
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 3*720 {
		t.Fatalf("charge %d", c.AmountMinor)
	}
	before := w.state

	for _, c := range []struct {
		typ  messages.CommandType
		data any
	}{
		{messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-R", Lines: []messages.OrderLine{ptnLine("L1", "")}}},
		{messages.CmdSubscriptionCancel, cancelOf(sub)},
		{messages.CmdSubscriptionSuspend, suspendOf(sub, messages.ReasonCustomerRequest)},
		{messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: intp(5)}},
		{messages.CmdAutoRenewSet, autoRenewOf(sub, false)},
	} {
		t.Run("PTN-2 reseller sends "+string(c.typ), func(t *testing.T) {
			out := Decide(Input{Command: messages.Command{ID: "r-" + string(c.typ), Type: c.typ, CustomerID: customer1, Data: c.data},
				PartnerID: "R-2001", Role: messages.RoleAdminAgent, Now: t0.Add(time.Hour), State: before, Catalog: w.cat, Partners: reg})
			r := wantRejected(t, out, CodeIndirectResellerNotAllowed, "PTN-2")
			if r.Data["indirect_provider_ids"] != provider || r.Data["command_type"] != string(c.typ) {
				t.Fatalf("data %v", r.Data)
			}
			if len(out.State.Subscriptions) != 1 || out.State.Subscriptions[sub].Quantity != 3 || out.State.Subscriptions[sub].Status != StatusActive {
				t.Fatalf("state changed: %+v", out.State.Subscriptions[sub])
			}
		})
	}

	t.Run("PTN-2 the provider manages it", func(t *testing.T) {
		out := w.doWith(reg, provider, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(sub, false))
		wantAccepted(t, out)
		out = w.doWith(reg, provider, t0.Add(2*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(sub, true))
		wantAccepted(t, out)
	})

	t.Run("PTN-2 the customer actor is not a partner: PTN-1 answers", func(t *testing.T) {
		out := Decide(Input{Command: messages.Command{ID: "x-1", Type: messages.CmdSubscriptionCancel, CustomerID: customer1, Data: cancelOf(sub)},
			PartnerID: messages.CustomerActor, Now: t0.Add(time.Hour), State: w.state, Catalog: w.cat, Partners: reg})
		if out.Rejected == nil || out.Rejected.Rule != "PTN-1" {
			t.Fatalf("got %+v", out.Rejected)
		}
	})

	t.Run("PTN-2 timers fire for the provider's subscription", func(t *testing.T) {
		var due *Timer
		for _, tm := range w.state.Timers {
			if tm.SubscriptionID == sub && tm.Kind == TimerTermEnd {
				due = tm
			}
		}
		if due == nil {
			t.Fatalf("no term-end timer in %v", w.state.Timers)
		}
		out := Decide(Input{
			Command: messages.Command{ID: due.ID, Type: messages.CmdTimerFired, CustomerID: customer1,
				Data: &messages.TimerFiredData{TimerID: due.ID, Kind: due.Kind, SubscriptionID: sub, DueAt: due.DueAt}},
			PartnerID: messages.SystemPartner, Role: messages.RoleSystem, Now: due.DueAt, State: w.state, Catalog: w.cat, Partners: reg})
		wantAccepted(t, out)
		if len(out.Changed) == 0 {
			t.Fatal("the term-end timer changed nothing")
		}
		// The renewal keeps the reseller (the subscription is cloned).
		if got := out.State.Subscriptions[sub].ResellerID; got != "R-2001" {
			t.Fatalf("reseller after the term end %q", got)
		}
	})
}

// PTN-3: an indirect provider may name, per subscription, one of its own
// indirect resellers; nobody else may name one.
func TestRule_PTN_3_IndirectProviderNamesItsReseller(t *testing.T) {
	reg := ptnPartners(t, "5")
	for _, tc := range []struct {
		name     string
		reg      *partners.Registry
		partner  string
		reseller string
		code     string // "" fulfilled
		data     map[string]string
		desc     string
	}{
		{"PTN-3 provider names its reseller", reg, provider, "R-2001", "", nil, ""},
		{"PTN-3 provider names its reseller without a signed MPA", reg, provider, "R-2003", "", nil, ""},
		{"PTN-3 provider names a reseller it shares", reg, provider, "R-2007", "", nil, ""},
		{"PTN-3 provider sells directly", reg, provider, "", "", nil, ""},
		{"PTN-3 direct-bill partner sells directly", reg, partnerA, "", "", nil, ""},
		{"PTN-3 another provider's reseller", reg, provider, "R-3001", CodeResellerNotAssociated,
			map[string]string{"partner_id": provider, "reseller_id": "R-3001", "field": "data.lines[0].reseller_id"},
			"reseller R-3001 is not an indirect reseller of P-1001"},
		{"PTN-3 a direct-bill partner named as reseller", reg, provider, partnerA, CodeResellerNotAssociated,
			map[string]string{"reseller_id": partnerA}, "reseller P-A is not an indirect reseller;"},
		{"PTN-3 an unregistered reseller", reg, provider, "R-9999", CodeResellerNotAssociated,
			map[string]string{"reseller_id": "R-9999"}, "reseller R-9999 is not a registered partner"},
		{"PTN-3 the provider names itself", reg, provider, provider, CodeResellerNotAssociated,
			map[string]string{"reseller_id": provider}, ""},
		{"PTN-3 direct-bill partner names a reseller", reg, partnerA, "R-2001", CodeResellerNotAllowed,
			map[string]string{"partner_id": partnerA, "partner_type": "direct_bill", "reseller_id": "R-2001", "field": "data.lines[0].reseller_id"},
			"partner P-A is a direct_bill partner and sells directly; only an indirect provider names an indirect reseller"},
		{"PTN-3 no registry: every partner is direct-bill", nil, provider, "R-2001", CodeResellerNotAllowed,
			map[string]string{"partner_id": provider, "partner_type": "direct_bill"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ptnWorld(t, tc.reg, tc.partner, "US")
			out, res := w.ptnOrder(tc.reg, tc.partner, ptnLine("L1", tc.reseller))
			if tc.code != "" {
				wantLineRejected(t, res.Lines[0], tc.code, "PTN-3", tc.data)
				if !strings.Contains(res.Lines[0].Rejection.Description, tc.desc) {
					t.Fatalf("description %q lacks %q", res.Lines[0].Rejection.Description, tc.desc)
				}
				if len(w.state.Subscriptions) != 0 || res.Status != messages.OrderFailed {
					t.Fatalf("order %s created %d subscriptions", res.Status, len(w.state.Subscriptions))
				}
				return
			}
			s := wantFulfilled(t, w, out, res.Lines[0])
			if s.ResellerID != tc.reseller || s.AdditionalResellerIDs != nil {
				t.Fatalf("reseller %q, additional %v", s.ResellerID, s.AdditionalResellerIDs)
			}
			enc, err := w.state.EncodeFields([]string{SubscriptionField(s.ID)})
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeState(enc)
			if err != nil || back.Subscriptions[s.ID].ResellerID != tc.reseller {
				t.Fatalf("stored reseller: %v %+v", err, back.Subscriptions[s.ID])
			}
		})
	}

	t.Run("PTN-3 per line: one bad line fails alone", func(t *testing.T) {
		w := ptnWorld(t, reg, provider, "US")
		out, res := w.ptnOrder(reg, provider, ptnLine("L1", "R-2002"), ptnLine("L2", "R-3001"), ptnLine("L3", ""))
		if res.Status != messages.OrderPartiallyCompleted {
			t.Fatalf("order %s", res.Status)
		}
		if s := wantFulfilled(t, w, out, res.Lines[0]); s.ResellerID != "R-2002" {
			t.Fatalf("L1 reseller %q", s.ResellerID)
		}
		wantLineRejected(t, res.Lines[1], CodeResellerNotAssociated, "PTN-3", map[string]string{"field": "data.lines[1].reseller_id"})
		if s := wantFulfilled(t, w, out, res.Lines[2]); s.ResellerID != "" {
			t.Fatalf("L3 reseller %q", s.ResellerID)
		}
		if got := w.state.Orders[res.OrderID].Lines[1].Code; got != CodeResellerNotAssociated {
			t.Fatalf("order record code %q", got)
		}
	})

	t.Run("PTN-3 the reseller is kept through a renewal", func(t *testing.T) {
		w := ptnWorld(t, reg, provider, "US")
		_, res := w.ptnOrder(reg, provider, messages.OrderLine{LineID: "L1", OfferID: offerBasic, Quantity: intp(2), Term: "P1M",
			BillingFrequency: "monthly", ResellerID: "R-2001"})
		sub := res.Lines[0].SubscriptionID
		w.advance(t0.AddDate(0, 2, 1))
		s := w.state.Subscriptions[sub]
		if s.Renewals < 2 || s.ResellerID != "R-2001" {
			t.Fatalf("renewals %d reseller %q", s.Renewals, s.ResellerID)
		}
	})
}

// PTN-4: EU/EFTA customers: up to the policy's number (five) of additional
// resellers per transaction, after the initial reseller, each a registered
// reseller with a signed MPA, distinct and not the initial one.
func TestRule_PTN_4_AdditionalResellers(t *testing.T) {
	reg := ptnPartners(t, "5")
	five := []string{"R-2002", "R-2004", "R-2005", "R-2006", "R-2007"}
	for _, tc := range []struct {
		name       string
		reg        *partners.Registry
		partner    string
		country    string
		reseller   string
		additional []string
		code       string // "" fulfilled
		data       map[string]string
	}{
		{"PTN-4 one additional reseller (DE)", reg, provider, "DE", "R-2001", []string{"R-2002"}, "", nil},
		{"PTN-4 EFTA customer (NO)", reg, provider, "NO", "R-2001", []string{"R-2002"}, "", nil},
		{"PTN-4 five, the limit", reg, provider, "FR", "R-2001", five, "", nil},
		{"PTN-4 another provider's reseller may be additional", reg, provider, "DE", "R-2001", []string{"R-3001"}, "", nil},
		{"PTN-4 an empty list is none", reg, provider, "US", "R-2001", []string{}, "", nil},
		{"PTN-4 non-EU/EFTA customer", reg, provider, "GB", "R-2001", []string{"R-2002"}, CodeAdditionalResellersNotApplicable,
			map[string]string{"customer_id": customer1, "country": "GB", "field": "data.lines[0].additional_reseller_ids"}},
		{"PTN-4 six", reg, provider, "DE", "R-2001", append(slices.Clone(five), "R-3001"), CodeTooManyAdditionalResellers,
			map[string]string{"count": "6", "max_additional_resellers": "5"}},
		{"PTN-4 the limit is policy data", ptnPartners(t, "2"), provider, "DE", "R-2001", []string{"R-2002", "R-2004", "R-2005"}, CodeTooManyAdditionalResellers,
			map[string]string{"count": "3", "max_additional_resellers": "2"}},
		{"PTN-4 initial reseller first", reg, provider, "DE", "", []string{"R-2002"}, CodeInitialResellerRequired,
			map[string]string{"field": "data.lines[0].additional_reseller_ids"}},
		{"PTN-4 direct-bill partner", reg, partnerA, "DE", "", []string{"R-2002"}, CodeInitialResellerRequired, nil},
		{"PTN-4 no registry", nil, partnerA, "DE", "", []string{"R-2002"}, CodeInitialResellerRequired, nil},
		{"PTN-4 unsigned MPA", reg, provider, "DE", "R-2001", []string{"R-2002", "R-2003"}, CodeAdditionalResellerInvalid,
			map[string]string{"reseller_id": "R-2003", "reason": "mpa_not_signed", "field": "data.lines[0].additional_reseller_ids[1]"}},
		{"PTN-4 unregistered partner ID", reg, provider, "DE", "R-2001", []string{"R-9999"}, CodeAdditionalResellerInvalid,
			map[string]string{"reseller_id": "R-9999", "reason": "not_registered", "field": "data.lines[0].additional_reseller_ids[0]"}},
		{"PTN-4 not a reseller", reg, provider, "DE", "R-2001", []string{"R-2002", partnerB}, CodeAdditionalResellerInvalid,
			map[string]string{"reseller_id": partnerB, "reason": "not_a_reseller"}},
		{"PTN-4 the initial reseller again", reg, provider, "DE", "R-2001", []string{"R-2001"}, CodeAdditionalResellerInvalid,
			map[string]string{"reseller_id": "R-2001", "reason": "initial_reseller"}},
		{"PTN-4 named twice", reg, provider, "DE", "R-2001", []string{"R-2002", "R-2004", "R-2002"}, CodeAdditionalResellerInvalid,
			map[string]string{"reseller_id": "R-2002", "reason": "duplicate", "field": "data.lines[0].additional_reseller_ids[2]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ptnWorld(t, tc.reg, tc.partner, tc.country)
			out, res := w.ptnOrder(tc.reg, tc.partner, ptnLine("L1", tc.reseller, tc.additional...))
			if tc.code != "" {
				wantLineRejected(t, res.Lines[0], tc.code, "PTN-4", tc.data)
				if len(w.state.Subscriptions) != 0 {
					t.Fatalf("created %d subscriptions", len(w.state.Subscriptions))
				}
				return
			}
			s := wantFulfilled(t, w, out, res.Lines[0])
			want := tc.additional
			if len(want) == 0 {
				want = nil
			}
			if s.ResellerID != tc.reseller || !slices.Equal(s.AdditionalResellerIDs, want) {
				t.Fatalf("reseller %q additional %v", s.ResellerID, s.AdditionalResellerIDs)
			}
			// Additional resellers earn nothing: no event names them.
			for _, e := range out.Events {
				for _, id := range tc.additional {
					if strings.Contains(strings.ToLower(string(e.Type)), "reseller") || e.PartnerID == id {
						t.Fatalf("event %s for %s", e.Type, e.PartnerID)
					}
				}
			}
		})
	}

	t.Run("PTN-4 the stored list is a copy", func(t *testing.T) {
		w := ptnWorld(t, reg, provider, "DE")
		line := ptnLine("L1", "R-2001", "R-2002", "R-2004")
		_, res := w.ptnOrder(reg, provider, line)
		line.AdditionalResellerIDs[0] = "R-XXXX"
		s := w.state.Subscriptions[res.Lines[0].SubscriptionID]
		c := s.clone()
		c.AdditionalResellerIDs[1] = "R-YYYY"
		if !slices.Equal(s.AdditionalResellerIDs, []string{"R-2002", "R-2004"}) {
			t.Fatalf("stored %v", s.AdditionalResellerIDs)
		}
	})
}
