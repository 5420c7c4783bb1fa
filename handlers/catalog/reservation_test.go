package catalog

import (
	"slices"
	"strings"
	"testing"
)

const (
	rsvID = "DZH318Z0BQ3Q:0001"
	rsv   = `offer "DZH318Z0BQ3Q:0001" (Azure Reserved VM Instances D2s v5)`
)

// withReservation is small() plus one reservation offer and its policy.
func withReservation() *Catalog {
	c := small()
	c.Policy.Reservations = ReservationPolicy{
		UnavailableCountries:       []Market{{"CN", "China"}, {"SJ", "Svalbard"}, {"SJ", "Jan Mayen"}},
		EarlyTerminationFeePercent: 12,
		RefundCapMinor:             5_000_000, RefundCapCurrency: "USD", RefundCapWindowDays: 365,
		RefundCapRates: map[string]Ratio{"JPY": {67, 100}},
	}
	c.Offers = append(c.Offers, Offer{
		ID: rsvID, Name: "Azure Reserved VM Instances D2s v5", Publisher: "microsoft",
		CommerceType: CommerceTypeReservation, BillingType: BillingTypeLicense,
		Reservation: &ReservationSpec{ResourceType: "virtual_machines", SKU: "Standard_D2s_v5", Region: "westeurope"},
		Segments:    []string{"commercial"}, MinQuantity: 1, MaxQuantity: 1000, CancelWindowHours: 120,
		Plans: []Plan{
			{Term: "P1Y", BillingFrequency: "one_time", Prices: map[string]int64{"USD": 50400, "JPY": 75600}},
			{Term: "P1Y", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 4200, "JPY": 6300}},
			{Term: "P3Y", BillingFrequency: "one_time", Prices: map[string]int64{"USD": 108000, "JPY": 162000}},
			{Term: "P3Y", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 3000, "JPY": 4500}},
		},
	})
	return c
}

func TestReservationCatalogIsValid(t *testing.T) {
	c, err := Parse(encode(t, withReservation()))
	if err != nil {
		t.Fatal(err)
	}
	o, ok := c.Offer(rsvID)
	if !ok || o.Reservation == nil || o.Reservation.SKU != "Standard_D2s_v5" {
		t.Fatalf("offer %+v", o)
	}
	if _, ok := o.Plan("P3Y", "one_time"); !ok {
		t.Fatal("P3Y one_time plan missing")
	}
}

// GEN-5, ORD-5, CAN-5: what only reservation offers and their policy may
// be, one problem per row.
func TestRule_GEN_5_CAN_5_ReservationCatalogProblems(t *testing.T) {
	res := func(c *Catalog) *Offer { return &c.Offers[2] }
	pol := func(c *Catalog) *ReservationPolicy { return &c.Policy.Reservations }
	for _, tc := range []struct {
		name   string
		mutate func(c *Catalog)
		entry  string
		field  string
		msg    string
	}{
		{"GEN-5 reservation spec missing", func(c *Catalog) { res(c).Reservation = nil }, rsv, "reservation", "needs {resource_type, sku, region}"},
		{"GEN-5 reservation spec on another offer", func(c *Catalog) { c.Offers[0].Reservation = &ReservationSpec{"virtual_machines", "X", "westeurope"} }, bb, "reservation", "only an azure_reservation offer has a reservation spec"},
		{"GEN-5 resource type malformed", func(c *Catalog) { res(c).Reservation.ResourceType = "Virtual Machines" }, rsv, "reservation.resource_type", `"Virtual Machines" must be lowercase`},
		{"GEN-5 sku empty", func(c *Catalog) { res(c).Reservation.SKU = "" }, rsv, "reservation.sku", "must be 1-64 letters"},
		{"GEN-5 region malformed", func(c *Catalog) { res(c).Reservation.Region = "West Europe" }, rsv, "reservation.region", "must be an Azure region name"},
		{"ORD-6 usage reservation", func(c *Catalog) {
			res(c).BillingType, res(c).MinQuantity, res(c).MaxQuantity = BillingTypeUsage, 0, 0
		}, rsv, "billing_type", "a reservation is sold by instances"},
		{"ORD-3 reservation for education (Partner Center: commercial only)", func(c *Catalog) { res(c).Segments = []string{"commercial", "education"} }, rsv, "segments[1]", `commercial customers only (ORD-3), not "education"`},
		{"GEN-5 reservation as an add-on", func(c *Catalog) { res(c).Addon = &AddonSpec{Kind: "coterminous", BaseOfferIDs: []string{bbID}} }, rsv, "commerce_type", "cannot be a trial, an add-on, free or have upgrade paths"},
		{"GEN-4 reservation P1Y annual", func(c *Catalog) { res(c).Plans[1].BillingFrequency = "annual" }, rsv, "plans[1]", "P1Y or P3Y, paid one_time (up front) or monthly, not P1Y annual"},
		{"GEN-4 reservation P3Y triennial", func(c *Catalog) { res(c).Plans[3].BillingFrequency = "triennial" }, rsv, "plans[3]", "not P3Y triennial"},
		{"GEN-4 reservation P1M", func(c *Catalog) { res(c).Plans[1].Term = "P1M" }, rsv, "plans[1]", "not P1M monthly"},
		{"GEN-4 one_time stays refused for other offers", func(c *Catalog) { c.Offers[0].Plans[2].Term, c.Offers[0].Plans[2].BillingFrequency = "P3Y", "one_time" }, bb, "plans[2].billing_frequency", "one_time is not allowed with term P3Y"},
		{"CAN-5 full-refund window not whole days", func(c *Catalog) { res(c).CancelWindowHours = 100 }, rsv, "cancel_window_hours", "whole days"},
		{"CAN-5 full-refund window 0", func(c *Catalog) { res(c).CancelWindowHours = 0 }, rsv, "cancel_window_hours", "must be 1..8760, got 0"},
		{"ORD-5 policy missing", func(c *Catalog) { c.Policy.Reservations = ReservationPolicy{} }, "", "policy.reservations", "required when the catalog sells azure_reservation offers"},
		{"ORD-5 market list empty", func(c *Catalog) { pol(c).UnavailableCountries = nil }, "", "policy.reservations.unavailable_countries", "must list the markets"},
		{"ORD-5 market code malformed", func(c *Catalog) { pol(c).UnavailableCountries[0].Code = "CHN" }, "", "policy.reservations.unavailable_countries[0].code", "ISO 3166-1 alpha-2"},
		{"ORD-5 market name duplicate", func(c *Catalog) { pol(c).UnavailableCountries[2].Name = "svalbard" }, "", "policy.reservations.unavailable_countries[2].name", "duplicate of policy.reservations.unavailable_countries[1] (svalbard)"},
		{"ORD-5 market name empty", func(c *Catalog) { pol(c).UnavailableCountries[0].Name = " " }, "", "policy.reservations.unavailable_countries[0].name", "must not be empty"},
		{"CAN-5 fee over 100", func(c *Catalog) { pol(c).EarlyTerminationFeePercent = 101 }, "", "policy.reservations.early_termination_fee_percent", "must be 0..100 (CAN-5: 12), not 101"},
		{"CAN-5 cap 0", func(c *Catalog) { pol(c).RefundCapMinor = 0 }, "", "policy.reservations.refund_cap_minor", "must be at least 1"},
		{"CAN-5 cap window 0", func(c *Catalog) { pol(c).RefundCapWindowDays = 0 }, "", "policy.reservations.refund_cap_window_days", "must be 1..3660 (CAN-5: 365), not 0"},
		{"CAN-5 cap currency unknown", func(c *Catalog) {
			pol(c).RefundCapCurrency = "CHF"
			pol(c).RefundCapRates["USD"] = Ratio{1, 1}
		}, "", "policy.reservations.refund_cap_currency", `"CHF" is not a catalog currency`},
		{"CAN-5 rate missing", func(c *Catalog) { delete(pol(c).RefundCapRates, "JPY") }, "", `policy.reservations.refund_cap_rates["JPY"]`, "missing"},
		{"CAN-5 rate for the cap's own currency", func(c *Catalog) { pol(c).RefundCapRates["USD"] = Ratio{1, 1} }, "", `policy.reservations.refund_cap_rates["USD"]`, "the cap's own currency takes no rate"},
		{"CAN-5 rate for an unknown currency", func(c *Catalog) { pol(c).RefundCapRates["CHF"] = Ratio{110, 100} }, "", `policy.reservations.refund_cap_rates["CHF"]`, "not in the catalog's currencies"},
		{"CAN-5 rate denominator 0", func(c *Catalog) { pol(c).RefundCapRates["JPY"] = Ratio{67, 0} }, "", `policy.reservations.refund_cap_rates["JPY"]`, "got 67/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withReservation()
			tc.mutate(c)
			_, err := Parse(encode(t, c))
			ps := problemsOf(err)
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%v", len(ps), err)
			}
			if p := ps[0]; p.Entry != tc.entry || p.Field != tc.field || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("problem = {Entry: %q, Field: %q, Message: %q}\nwant    {Entry: %q, Field: %q, Message: ~%q}",
					p.Entry, p.Field, p.Message, tc.entry, tc.field, tc.msg)
			}
		})
	}
}

// CAN-5: refunds count against the cap in its currency, converted exactly
// and rounded up; ORD-5: markets by code.
func TestRule_CAN_5_ORD_5_PolicyLookups(t *testing.T) {
	p := withReservation().Policy.Reservations
	p.RefundCapRates["EUR"] = Ratio{108, 100}
	for _, tc := range []struct {
		cur          string
		amount, want int64
	}{
		{"USD", 5_000_000, 5_000_000},
		{"EUR", 100, 108},
		{"EUR", 1, 2},                 // 1.08 cents counts as 2
		{"EUR", 25, 27},               // 27.00 exactly
		{"JPY", 100, 67},              // ¥100 = USD 0.67
		{"JPY", 1, 1},                 // 0.67 cent counts as 1
		{"JPY", 0, 0},                 // nothing refunded, nothing counted
		{"JPY", 7_462_687, 5_000_001}, // 5,000,000.29 cents counts as 5,000,001
	} {
		got, ok := p.ToCapCurrency(tc.cur, tc.amount)
		if !ok || got != tc.want {
			t.Errorf("ToCapCurrency(%s, %d) = %d, %v; want %d", tc.cur, tc.amount, got, ok, tc.want)
		}
	}
	if _, ok := p.ToCapCurrency("GBP", 1); ok {
		t.Error("a currency without a rate converted")
	}
	if got := p.UnavailableIn("SJ"); !slices.Equal(got, []string{"Svalbard", "Jan Mayen"}) {
		t.Errorf("UnavailableIn(SJ) = %v", got)
	}
	if got := p.UnavailableIn("US"); got != nil {
		t.Errorf("UnavailableIn(US) = %v", got)
	}
}

// ORD-5: the default catalog ships Partner Center's whole list of markets
// where Azure reservations are not available: 109 countries and territories
// (as the rule catalogue says), in Partner Center's order, under 106
// distinct ISO 3166-1 alpha-2 codes (Svalbard and Jan Mayen share SJ;
// Bonaire, Saba and Sint Eustatius share BQ; Kosovo is XK).
func TestRule_ORD_5_DefaultCatalogShipsTheUnavailableMarkets(t *testing.T) {
	p := mustDefault(t).Policy.Reservations
	if n := len(p.UnavailableCountries); n != 109 {
		t.Fatalf("%d unavailable markets, want Partner Center's 109", n)
	}
	codes := map[string][]string{}
	for _, m := range p.UnavailableCountries {
		codes[m.Code] = append(codes[m.Code], m.Name)
	}
	if len(codes) != 106 {
		t.Errorf("%d distinct codes, want 106", len(codes))
	}
	first, last := p.UnavailableCountries[0], p.UnavailableCountries[108]
	if first != (Market{"AX", "Åland Islands"}) || last != (Market{"PW", "Palau"}) {
		t.Errorf("first %v, last %v", first, last)
	}
	for code, names := range map[string][]string{
		"BQ": {"Saba", "Bonaire", "Sint Eustatius"},
		"SJ": {"Jan Mayen", "Svalbard"},
		"XK": {"Kosovo"},
		"CN": {"China"},
		"SZ": {"Swaziland"},
		"SH": {"St Helena, Ascension, Tristan da Cunha"},
		"UM": {"U.S. Outlying Islands"},
		"CD": {"Congo (DRC)"},
		"CG": {"Congo"},
		"VA": {"Vatican City"},
	} {
		if !slices.Equal(codes[code], names) {
			t.Errorf("%s: %v, want %v", code, codes[code], names)
		}
	}
	for _, open := range []string{"US", "DE", "GB", "JP", "AU", "BR", "FR", "NO"} {
		if p.UnavailableIn(open) != nil {
			t.Errorf("%s is listed as unavailable", open)
		}
	}
}

// GEN-5, CAN-5: the default catalog's reservations and their policy.
func TestRule_CAN_5_DefaultCatalogReservations(t *testing.T) {
	c := mustDefault(t)
	p := c.Policy.Reservations
	if p.EarlyTerminationFeePercent != 12 || p.RefundCapMinor != 5_000_000 || p.RefundCapCurrency != "USD" || p.RefundCapWindowDays != 365 {
		t.Errorf("policy %+v", p)
	}
	for code := range c.Currencies {
		if _, ok := p.ToCapCurrency(code, 100); !ok {
			t.Errorf("no refund cap rate for %s", code)
		}
	}
	var n int
	for i := range c.Offers {
		o := &c.Offers[i]
		if o.CommerceType != CommerceTypeReservation {
			continue
		}
		n++
		if o.CancelWindowHours != 120 || !slices.Equal(o.Segments, []string{"commercial"}) || o.Reservation == nil || len(o.Plans) != 4 {
			t.Errorf("%s: %+v", o.ID, o)
		}
		for _, tm := range []struct {
			term   string
			months int64
		}{{"P1Y", 12}, {"P3Y", 36}} {
			up, ok1 := o.Plan(tm.term, BillingOneTime)
			mo, ok2 := o.Plan(tm.term, BillingMonthly)
			if !ok1 || !ok2 {
				t.Errorf("%s: %s plans missing", o.ID, tm.term)
				continue
			}
			for cur, price := range up.Prices {
				if mo.Prices[cur]*tm.months != price {
					t.Errorf("%s %s %s: monthly %d x %d != up front %d", o.ID, tm.term, cur, mo.Prices[cur], tm.months, price)
				}
			}
		}
	}
	if n != 3 {
		t.Errorf("%d reservation offers, want 3", n)
	}
}
