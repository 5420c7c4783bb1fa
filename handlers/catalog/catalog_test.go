package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func mustDefault(t *testing.T) *Catalog {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

// The offers the embedded catalog must sell, by ID.
var wantOffers = map[string]string{
	"DZH318Z0BQ3Q:0001": "Azure Reserved VM Instances D2s v5 (West Europe)",
	"DZH318Z0BQ3Q:0002": "Azure Reserved VM Instances D4s v5 (West Europe)",
	"DZH318Z0BQ4K:0001": "Azure SQL Database reserved capacity, General Purpose Gen5 vCore (West Europe)",
	"CNTSOPRJHUB1:0001": "Contoso Project Hub",
	"FBRKMBACKUP1:0001": "Fabrikam Secure Backup, EU",
	"NWNDANLYTCS1:0001": "Northwind Analytics (metered)",
	"DG7GMGF0D7FV:0005": "Windows Server 2022 Standard - 16 Core License Pack (perpetual)",
	"DG7GMGF0FKZV:0002": "SQL Server 2022 Standard - 2 Core (software subscription)",
	"DG7GMGF0CQ4M:0001": "Windows 7 Extended Security Updates 2020",
	"DG7GMGF0BXM1:0001": "SUSE Linux Enterprise Server Priority - Azure software plan",
	"DG7GMGF0BXM5:0001": "Red Hat Enterprise Linux - Azure software plan",
	"CFQ7TTC0LCHC:0007": "Microsoft 365 Business Premium Trial",
	"CFQ7TTC0LFLX:0007": "Microsoft 365 E5 Trial",
	"CFQ7TTC0LHSF:0001": "Microsoft 365 Multi-Geo Capabilities",
	"CFQ7TTC0MM8R:0002": "Microsoft 365 Copilot",
	"CFQ7TTC0LH1G:0001": "Exchange Online Archiving for Exchange Online",
	"CFQ7TTC0LH18:0001": "Microsoft 365 Business Basic",
	"CFQ7TTC0LDPB:0001": "Microsoft 365 Business Standard",
	"CFQ7TTC0LCHC:0002": "Microsoft 365 Business Premium",
	"CFQ7TTC0LFLZ:0001": "Microsoft 365 E3",
	"CFQ7TTC0LFLX:0001": "Microsoft 365 E5",
	"CFQ7TTC0LF8Q:0001": "Office 365 E1",
	"CFQ7TTC0LF8R:0001": "Office 365 E3",
	"CFQ7TTC0LF8S:0001": "Office 365 E5",
	"CFQ7TTC0LFK5:0001": "Enterprise Mobility + Security E3",
	"CFQ7TTC0LFK4:0001": "Enterprise Mobility + Security E5",
	"CFQ7TTC0LGTX:0001": "Windows Enterprise E3",
	"CFQ7TTC0LGZW:0001": "Windows Enterprise E5",
	"CFQ7TTC0MCH6:0001": "Microsoft Defender for Endpoint P1",
	"CFQ7TTC0LGTH:0001": "Microsoft Defender for Endpoint P2",
	"CFQ7TTC0LFH2:0001": "Dynamics 365 Team Members",
	"CFQ7TTC0LH0S:0001": "Project Online Essentials",
	"CFQ7TTC0HDB1:0002": "Project Plan 3",
	"CFQ7TTC0HD33:0002": "Visio Plan 2",
	"CFQ7TTC0LH16:0001": "Exchange Online (Plan 1)",
	"CFQ7TTC0L3PB:0001": "Power BI Pro",
	"CFQ7TTC0RQ7K:0001": "Microsoft Teams Essentials",
	"CFQ7TTC0LHPM:0001": "Microsoft 365 A3 for faculty",
	"CFQ7TTC0LHXM:0001": "Office 365 G3 GCC",
	"CFQ7TTC0LCHC:0005": "Microsoft 365 Business Premium (Nonprofit Staff Pricing)",
	"CFQ7TTC0LCHC:0006": "Microsoft 365 Business Premium (Nonprofit Grant)",
	"CFQ7TTC0LH18:0005": "Microsoft 365 Business Basic (Nonprofit Grant)",
	"DZH318Z0BPS6:0001": "Azure plan",
	"LEGACYO365E3:0001": "Office 365 E3 (legacy)",
	"LEGACYEXCHP1:0001": "Exchange Online (Plan 1) (legacy)",
	"LEGACYARCHIV:0001": "Exchange Online Archiving (legacy)",
}

func TestDefaultCatalogParses(t *testing.T) {
	c := mustDefault(t)
	if c.Version != "2026-11-01" {
		t.Errorf("version = %q", c.Version)
	}
	if len(c.Offers) != len(wantOffers) {
		t.Errorf("default catalog has %d offers, want %d", len(c.Offers), len(wantOffers))
	}
	for id, name := range wantOffers {
		o, ok := c.Offer(id)
		if !ok {
			t.Errorf("offer %s (%s) missing", id, name)
			continue
		}
		if o.Name != name {
			t.Errorf("offer %s name = %q, want %q", id, o.Name, name)
		}
	}
	wantCur := map[string]int{"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "AUD": 2, "BRL": 2}
	if len(c.Currencies) != len(wantCur) {
		t.Errorf("currencies = %v", c.Currencies)
	}
	for code, exp := range wantCur {
		if cur, ok := c.Currency(code); !ok || cur.Exponent != exp {
			t.Errorf("currency %s = %+v, %v; want exponent %d", code, cur, ok, exp)
		}
	}
	if !slices.Equal(c.Policy.TaxInclusiveCountries, []string{"AU", "BR"}) {
		t.Errorf("tax_inclusive_countries = %v", c.Policy.TaxInclusiveCountries)
	}
	if !slices.Equal(c.Policy.Segments, []string{"commercial", "education", "government", "nonprofit"}) {
		t.Errorf("segments = %v", c.Policy.Segments)
	}
}

// Every license offer of the default catalog sells P1M/monthly,
// P1Y/monthly and P1Y/annual (free grants: P1Y only), and the prices keep
// their shape in every currency: month-to-month costs more than an annual
// term billed monthly, which costs more than a twelfth of the annual
// price; a P3Y year costs what a P1Y year costs.
func TestDefaultCatalogPlansAndPrices(t *testing.T) {
	c := mustDefault(t)
	var onePerCustomer, usage, p3y int
	for i := range c.Offers {
		o := &c.Offers[i]
		if o.CommerceType != CommerceTypeNew && o.CommerceType != CommerceTypeLegacy {
			continue // marketplace, software and reservation offers have their own tests
		}
		if o.Publisher != "microsoft" || o.CancelWindowHours != 168 {
			t.Errorf("%s: commerce %q publisher %q window %d", o.ID, o.CommerceType, o.Publisher, o.CancelWindowHours)
		}
		if o.Trial != nil { // trials are checked by validate_trials.go's tests
			continue
		}
		if o.OnePerCustomer {
			onePerCustomer++
		}
		if o.BillingType == BillingTypeUsage {
			usage++
			if o.MinQuantity != 0 || o.MaxQuantity != 0 || len(o.Plans) != 1 {
				t.Errorf("%s: usage offer quantities %d..%d, %d plans", o.ID, o.MinQuantity, o.MaxQuantity, len(o.Plans))
			}
			if p, ok := o.Plan(TermP1M, BillingMonthly); !ok || p.Prices["USD"] != 0 {
				t.Errorf("%s: usage offer needs P1M/monthly at 0, got %+v", o.ID, p)
			}
			continue
		}
		if o.MinQuantity != 1 || o.MaxQuantity < 10 {
			t.Errorf("%s: quantities %d..%d", o.ID, o.MinQuantity, o.MaxQuantity)
		}
		y1m, ok1 := o.Plan(TermP1Y, BillingMonthly)
		y1a, ok2 := o.Plan(TermP1Y, BillingAnnual)
		if !ok1 || !ok2 {
			t.Errorf("%s: missing a P1Y plan", o.ID)
			continue
		}
		if o.Free {
			continue
		}
		m1, ok := o.Plan(TermP1M, BillingMonthly)
		if !ok {
			t.Errorf("%s: missing P1M/monthly", o.ID)
			continue
		}
		p3a, hasP3Y := o.Plan(TermP3Y, BillingAnnual)
		p3t, _ := o.Plan(TermP3Y, BillingTriennial)
		if hasP3Y {
			p3y++
		}
		for code := range c.Currencies {
			if !(m1.Prices[code] > y1m.Prices[code] && y1m.Prices[code]*12 > y1a.Prices[code]) {
				t.Errorf("%s %s: P1M %d, P1Y monthly %d, P1Y annual %d out of shape",
					o.ID, code, m1.Prices[code], y1m.Prices[code], y1a.Prices[code])
			}
			if hasP3Y && (p3a.Prices[code] != y1a.Prices[code] || p3t == nil || p3t.Prices[code] != 3*y1a.Prices[code]) {
				t.Errorf("%s %s: P3Y prices out of shape", o.ID, code)
			}
		}
	}
	if onePerCustomer == 0 || usage == 0 || p3y == 0 {
		t.Errorf("one-per-customer offers %d, usage offers %d, offers with P3Y %d; want each > 0", onePerCustomer, usage, p3y)
	}
}

func TestDefaultCatalogBusinessBasicPrices(t *testing.T) {
	c := mustDefault(t)
	o, _ := c.Offer("CFQ7TTC0LH18:0001")
	for _, tc := range []struct {
		term, freq, cur string
		want            int64
	}{
		{TermP1Y, BillingAnnual, "USD", 7200}, // USD 72.00 a year
		{TermP1Y, BillingMonthly, "USD", 630}, // 6.00 + 5% monthly billing
		{TermP1M, BillingMonthly, "USD", 720}, // 6.00 + 20% month-to-month
		{TermP1Y, BillingAnnual, "JPY", 10800},
		{TermP1Y, BillingMonthly, "JPY", 945},
	} {
		p, ok := o.Plan(tc.term, tc.freq)
		if !ok {
			t.Fatalf("no %s/%s plan", tc.term, tc.freq)
		}
		if got, ok := p.Price(tc.cur); !ok || got != tc.want {
			t.Errorf("%s/%s %s = %d, %v; want %d", tc.term, tc.freq, tc.cur, got, ok, tc.want)
		}
	}
}

// ORD-2, ORD-3: the one-per-customer and segment-restricted offers.
func TestRule_ORD_2_ORD_3_DefaultCatalogRestrictions(t *testing.T) {
	c := mustDefault(t)
	for _, tc := range []struct {
		id             string
		onePerCustomer bool
		soldTo         []string
		notSoldTo      []string
	}{
		{"CFQ7TTC0LH18:0001", false, []string{"commercial", "education", "nonprofit"}, []string{"government"}},
		{"CFQ7TTC0LHPM:0001", false, []string{"education"}, []string{"commercial", "government", "nonprofit"}},
		{"CFQ7TTC0LHXM:0001", false, []string{"government"}, []string{"commercial", "education", "nonprofit"}},
		{"CFQ7TTC0LCHC:0005", false, []string{"nonprofit"}, []string{"commercial", "education", "government"}},
		{"CFQ7TTC0LCHC:0006", true, []string{"nonprofit"}, []string{"commercial", "education", "government"}},
		{"CFQ7TTC0LH18:0005", true, []string{"nonprofit"}, []string{"commercial"}},
		{"DZH318Z0BPS6:0001", true, []string{"commercial", "education", "government", "nonprofit"}, nil},
	} {
		o, ok := c.Offer(tc.id)
		if !ok {
			t.Fatalf("offer %s missing", tc.id)
		}
		if o.OnePerCustomer != tc.onePerCustomer {
			t.Errorf("%s one_per_customer = %v", tc.id, o.OnePerCustomer)
		}
		for _, s := range tc.soldTo {
			if !o.SoldTo(s) {
				t.Errorf("%s not sold to %s", tc.id, s)
			}
		}
		for _, s := range tc.notSoldTo {
			if o.SoldTo(s) {
				t.Errorf("%s sold to %s", tc.id, s)
			}
		}
	}
	grant, _ := c.Offer("CFQ7TTC0LCHC:0006")
	if !grant.Free || grant.MaxQuantity != 10 {
		t.Errorf("Business Premium grant: free %v, max %d", grant.Free, grant.MaxQuantity)
	}
}

func TestLookups(t *testing.T) {
	c := mustDefault(t)
	if _, ok := c.Offer("CFQ7TTC0XXXX:0001"); ok {
		t.Error("unknown offer found")
	}
	if _, ok := c.Offer(""); ok {
		t.Error("empty offer ID found")
	}
	o, ok := c.Offer("CFQ7TTC0LFLZ:0001")
	if !ok {
		t.Fatal("Microsoft 365 E3 missing")
	}
	if p, ok := o.Plan(TermP3Y, BillingTriennial); !ok || p.Term != TermP3Y || p.BillingFrequency != BillingTriennial {
		t.Errorf("P3Y/triennial = %+v, %v", p, ok)
	}
	if _, ok := o.Plan(TermP1M, BillingAnnual); ok {
		t.Error("P1M/annual found")
	}
	bb, _ := c.Offer("CFQ7TTC0LH18:0001")
	if _, ok := bb.Plan(TermP3Y, BillingAnnual); ok {
		t.Error("Business Basic sells P3Y")
	}
	p, _ := bb.Plan(TermP1Y, BillingAnnual)
	if _, ok := p.Price("CHF"); ok {
		t.Error("CHF price found")
	}
	if _, ok := c.Currency("CHF"); ok {
		t.Error("CHF currency found")
	}
	// CAN-1: the window is 168 hours, GEN-1: exactly, not calendar days.
	if got := o.CancelWindow(); got != 168*time.Hour {
		t.Errorf("CancelWindow = %v", got)
	}
	// ORD-11
	for country, want := range map[string]bool{"AU": true, "BR": true, "US": false, "DE": false, "JP": false, "au": false, "": false} {
		if got := c.Policy.TaxInclusive(country); got != want {
			t.Errorf("TaxInclusive(%q) = %v", country, got)
		}
	}
	for seg, want := range map[string]bool{"commercial": true, "education": true, "government": true, "nonprofit": true, "military": false, "Commercial": false} {
		if got := c.Policy.KnownSegment(seg); got != want {
			t.Errorf("KnownSegment(%q) = %v", seg, got)
		}
	}
	if o.SoldTo("") || o.SoldTo("Commercial") {
		t.Error("SoldTo matches an empty or case-variant segment")
	}
}

// The lookup points at the catalog's own offer, so the index and the slice
// agree.
func TestIndexPointsIntoOffers(t *testing.T) {
	c := mustDefault(t)
	for i := range c.Offers {
		o, ok := c.Offer(c.Offers[i].ID)
		if !ok || o != &c.Offers[i] {
			t.Errorf("Offer(%s) does not return offers[%d]", c.Offers[i].ID, i)
		}
	}
}

// GEN-4: terms, billing frequencies and the allowed pairs.
func TestRule_GEN_4_TermsAndFrequencies(t *testing.T) {
	if got := Terms(); !slices.Equal(got, []string{"P1M", "P1Y", "P3Y"}) {
		t.Errorf("Terms = %v", got)
	}
	if got := BillingFrequencies(); !slices.Equal(got, []string{"monthly", "annual", "triennial", "one_time"}) {
		t.Errorf("BillingFrequencies = %v", got)
	}
	// The returned slices are copies.
	Terms()[0] = "x"
	FrequenciesFor(TermP1Y)[0] = "x"
	if Terms()[0] != "P1M" || FrequenciesFor(TermP1Y)[0] != "monthly" {
		t.Error("allowed sets can be modified through a returned slice")
	}
	allowed := map[string][]string{
		"P1M": {"monthly"},
		"P1Y": {"monthly", "annual"},
		"P3Y": {"monthly", "annual", "triennial"},
	}
	for _, term := range append(Terms(), "P2Y", "", "p1m") {
		for _, freq := range append(BillingFrequencies(), "weekly", "", "Monthly") {
			want := slices.Contains(allowed[term], freq)
			if got := ValidPair(term, freq); got != want {
				t.Errorf("ValidPair(%q, %q) = %v, want %v", term, freq, got, want)
			}
		}
		if got := FrequenciesFor(term); !slices.Equal(got, allowed[term]) {
			t.Errorf("FrequenciesFor(%q) = %v", term, got)
		}
	}
	if !ValidTerm("P3Y") || ValidTerm("P3M") || !ValidBillingFrequency("one_time") || ValidBillingFrequency("yearly") {
		t.Error("ValidTerm/ValidBillingFrequency")
	}
	if !ValidBillingType("usage") || ValidBillingType("Usage") || !SupportedCommerceType("new_commerce") || !SupportedCommerceType("legacy") || !SupportedCommerceType("software") ||
		!SupportedCommerceType("marketplace_saas") || !SupportedCommerceType("azure_reservation") || SupportedCommerceType("ea_license") {
		t.Error("ValidBillingType/SupportedCommerceType")
	}
	for id, want := range map[string]bool{
		"CFQ7TTC0LH18:0001": true, "DZH318Z0BPS6:0001": true, "cfq7ttc0lh18:0001": false,
		"CFQ7TTC0LH18:001": false, "CFQ7TTC0LH1:0001": false, "CFQ7TTC0LH18-0001": false,
		"CFQ7TTC0LH18:000B": false, " CFQ7TTC0LH18:0001": false, "CFQ7TTC0LH18:0001\n": false,
	} {
		if got := ValidOfferID(id); got != want {
			t.Errorf("ValidOfferID(%q) = %v", id, got)
		}
	}
	if got := slices.Sorted(slices.Values(CommerceTypes())); strings.Join(got, ",") != "azure_reservation,legacy,marketplace_saas,new_commerce,software" ||
		strings.Join(BillingTypes(), ",") != "license,usage" {
		t.Error("CommerceTypes/BillingTypes")
	}
}
