package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	hubID = "CNTSOPRJHUB9:0001"
	hub   = `offer "CNTSOPRJHUB9:0001" (Contoso Project Hub)`
	mtrID = "NWNDANLYTCS9:0001"
	mtr   = `offer "NWNDANLYTCS9:0001" (Northwind Analytics (metered))`
)

// withMarketplace is small() plus CAN-3's policy, a license-based ISV SaaS
// offer and a metered one that cannot be transacted (ORD-4).
func withMarketplace() *Catalog {
	c := small()
	c.Policy.Marketplace = MarketplacePolicy{CancelWindowHoursMonthly: 24, CancelWindowHoursAnnual: 336}
	c.Offers = append(c.Offers,
		Offer{
			ID: hubID, Name: "Contoso Project Hub", Publisher: "contoso-isv",
			CommerceType: CommerceTypeMarketplace, BillingType: BillingTypeLicense,
			Segments: []string{"commercial"}, MinQuantity: 1, MaxQuantity: 1000,
			Marketplace: &MarketplaceSpec{
				SetupURL:         "https://projecthub.contoso-isv.example/csp/setup?lang=en",
				BillingCountries: []string{"US", "DE"}, SoldThroughCSP: true, Transactable: true,
				ExclusivePartnerIDs: []string{"P-A"},
			},
			Plans: []Plan{
				{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 1200, "JPY": 1800}},
				{Term: "P1Y", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 1050, "JPY": 1575}},
				{Term: "P1Y", BillingFrequency: "annual", Prices: map[string]int64{"USD": 12000, "JPY": 18000}},
			},
		},
		Offer{
			ID: mtrID, Name: "Northwind Analytics (metered)", Publisher: "northwind-isv",
			CommerceType: CommerceTypeMarketplace, BillingType: BillingTypeUsage,
			Segments: []string{"commercial"},
			Marketplace: &MarketplaceSpec{
				SetupURL: "https://analytics.northwind-isv.example/activate", BillingCountries: []string{"US"},
				SoldThroughCSP: true, Transactable: false,
			},
			Plans: []Plan{{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 0, "JPY": 0}}},
		})
	return c
}

func TestMarketplaceCatalogIsValid(t *testing.T) {
	c, err := Parse(encode(t, withMarketplace()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	o, ok := c.Offer(hubID)
	if !ok || o.Marketplace == nil || o.CancelWindowHours != 0 {
		t.Fatalf("offer %+v", o)
	}
	if !SupportedCommerceType(CommerceTypeMarketplace) {
		t.Error("marketplace_saas is not supported")
	}
}

// Every row breaks one thing of a marketplace offer or its policy and
// expects exactly one problem, naming the entry and the field.
func TestRule_ORD_4_ORD_13_CAN_3_MarketplaceCatalogProblems(t *testing.T) {
	hubOf := func(c *Catalog) *Offer { return &c.Offers[2] }
	mtrOf := func(c *Catalog) *Offer { return &c.Offers[3] }
	for _, tc := range []struct {
		name   string
		mutate func(c *Catalog)
		entry  string
		field  string
		msg    string
	}{
		{"CAN-3 monthly window missing", func(c *Catalog) { c.Policy.Marketplace.CancelWindowHoursMonthly = 0 }, "", "policy.marketplace.cancel_window_hours_monthly", "must be 1..648"},
		{"CAN-3 annual window missing", func(c *Catalog) { c.Policy.Marketplace.CancelWindowHoursAnnual = 0 }, "", "policy.marketplace.cancel_window_hours_annual", "must be 1..648 (CAN-3, Partner Center: 336)"},
		{"CAN-3 window past the shortest billing period", func(c *Catalog) { c.Policy.Marketplace.CancelWindowHoursMonthly = 649 }, "", "policy.marketplace.cancel_window_hours_monthly", "not 649"},
		{"CAN-3 offer window set", func(c *Catalog) { hubOf(c).CancelWindowHours = 168 }, hub, "cancel_window_hours", "must be absent for a marketplace SaaS offer"},
		{"CAN-3 P3Y term", func(c *Catalog) {
			hubOf(c).Plans = append(hubOf(c).Plans, Plan{Term: "P3Y", BillingFrequency: "annual", Prices: map[string]int64{"USD": 12000, "JPY": 18000}})
		}, hub, "plans[3].term", "P1M or P1Y"},
		{"GEN-5 publisher microsoft", func(c *Catalog) { hubOf(c).Publisher = "microsoft" }, hub, "publisher", "published by an ISV"},
		{"GEN-5 marketplace spec missing", func(c *Catalog) { hubOf(c).Marketplace = nil }, hub, "marketplace", "required for a marketplace_saas offer"},
		{"GEN-5 marketplace spec on a new-commerce offer", func(c *Catalog) {
			c.Offers[0].Marketplace = &MarketplaceSpec{SetupURL: "https://x.example/", BillingCountries: []string{"US"}}
		}, bb, "marketplace", "only a marketplace_saas offer"},
		{"GEN-5 add-on", func(c *Catalog) {
			hubOf(c).Addon = &AddonSpec{Kind: AddonCoterminous, BaseOfferIDs: []string{bbID}}
		}, hub, "addon", "cannot be an add-on"},
		{"ORD-4 metered offer transactable", func(c *Catalog) { mtrOf(c).Marketplace.Transactable = true }, mtr, "marketplace.transactable", "metered"},
		{"ORD-4 no billing country", func(c *Catalog) { hubOf(c).Marketplace.BillingCountries = nil }, hub, "marketplace.billing_countries", "must not be empty"},
		{"ORD-4 billing country malformed", func(c *Catalog) { hubOf(c).Marketplace.BillingCountries = []string{"US", "deu"} }, hub, "marketplace.billing_countries[1]", "ISO 3166-1 alpha-2"},
		{"ORD-4 billing country duplicate", func(c *Catalog) { hubOf(c).Marketplace.BillingCountries = []string{"US", "DE", "US"} }, hub, "marketplace.billing_countries[2]", "duplicate of marketplace.billing_countries[0]"},
		{"ORD-4 exclusive partner malformed", func(c *Catalog) { hubOf(c).Marketplace.ExclusivePartnerIDs = []string{"P.A"} }, hub, "marketplace.exclusive_partner_ids[0]", "must be a partner ID"},
		{"ORD-4 exclusive partner duplicate", func(c *Catalog) { hubOf(c).Marketplace.ExclusivePartnerIDs = []string{"P-A", "P-A"} }, hub, "marketplace.exclusive_partner_ids[1]", "duplicate"},
		{"ORD-13 setup URL not https", func(c *Catalog) { hubOf(c).Marketplace.SetupURL = "http://projecthub.contoso-isv.example/setup" }, hub, "marketplace.setup_url", "absolute https URL"},
		{"ORD-13 setup URL relative", func(c *Catalog) { hubOf(c).Marketplace.SetupURL = "/setup" }, hub, "marketplace.setup_url", "absolute https URL"},
		{"ORD-13 setup URL empty", func(c *Catalog) { hubOf(c).Marketplace.SetupURL = "" }, hub, "marketplace.setup_url", "absolute https URL"},
		{"ORD-13 setup URL with fragment", func(c *Catalog) { hubOf(c).Marketplace.SetupURL = "https://x.example/setup#top" }, hub, "marketplace.setup_url", "fragment"},
		{"ORD-13 setup URL sets subscription_id", func(c *Catalog) {
			hubOf(c).Marketplace.SetupURL = "https://x.example/setup?subscription_id=1"
		}, hub, "marketplace.setup_url", "the processor adds it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withMarketplace()
			tc.mutate(c)
			_, err := Parse(encode(t, c))
			ps := problemsOf(err)
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%v", len(ps), err)
			}
			p := ps[0]
			if p.Entry != tc.entry || p.Field != tc.field || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("problem = {Entry: %q, Field: %q, Message: %q}\nwant    {Entry: %q, Field: %q, Message: ~%q}",
					p.Entry, p.Field, p.Message, tc.entry, tc.field, tc.msg)
			}
		})
	}
}

// GEN-5: a marketplace offer cannot be a trial nor have upgrade paths
// (the trial and upgrade checks add their own problems), and a missing policy names both windows once, even
// with two marketplace offers.
func TestMarketplaceTrialAndMissingPolicy(t *testing.T) {
	c := withMarketplace()
	c.Offers[2].Trial = &TrialSpec{PaidOfferID: bbID, Licenses: 25, Term: "P1M", ConvertTerm: "P1Y", ConvertBillingFrequency: "monthly"}
	_, err := Parse(encode(t, c))
	if !slices.ContainsFunc(problemsOf(err), func(p *Problem) bool {
		return p.Entry == hub && p.Field == "trial" && strings.Contains(p.Message, "cannot be a trial")
	}) {
		t.Errorf("no trial problem in %v", err)
	}
	c = withMarketplace()
	c.Offers[2].UpgradePaths = []string{mtrID}
	_, err = Parse(encode(t, c))
	if !slices.ContainsFunc(problemsOf(err), func(p *Problem) bool {
		return p.Entry == hub && p.Field == "upgrade_paths" && strings.Contains(p.Message, "no upgrade paths")
	}) {
		t.Errorf("no upgrade_paths problem in %v", err)
	}
	c = withMarketplace()
	c.Policy.Marketplace = MarketplacePolicy{}
	_, err = Parse(encode(t, c))
	var fields []string
	for _, p := range problemsOf(err) {
		if p.Entry != "" {
			t.Errorf("policy problem under entry %q", p.Entry)
		}
		fields = append(fields, p.Field)
	}
	if !slices.Equal(fields, []string{"policy.marketplace.cancel_window_hours_monthly", "policy.marketplace.cancel_window_hours_annual"}) {
		t.Errorf("problems %v", err)
	}
}

// CAN-3: a catalog without marketplace offers may leave the policy out;
// the windows follow the term.
func TestRule_CAN_3_MarketplacePolicyWindows(t *testing.T) {
	if _, err := Parse(encode(t, small())); err != nil {
		t.Fatalf("a catalog without marketplace offers needs no marketplace policy: %v", err)
	}
	p := MarketplacePolicy{CancelWindowHoursMonthly: 24, CancelWindowHoursAnnual: 336}
	for term, want := range map[string]time.Duration{"P1M": 24 * time.Hour, "P1Y": 14 * 24 * time.Hour, "P3Y": 0, "": 0} {
		if got := p.CancelWindow(term); got != want {
			t.Errorf("CancelWindow(%q) = %v, want %v", term, got, want)
		}
	}
}

// ORD-4: the availability predicates.
func TestRule_ORD_4_MarketplaceSpecPredicates(t *testing.T) {
	m := &MarketplaceSpec{BillingCountries: []string{"US", "DE"}}
	if !m.OpenTo("P-A") || !m.SupportsCountry("DE") || m.SupportsCountry("FR") || m.SupportsCountry("us") {
		t.Error("open offer")
	}
	m.ExclusivePartnerIDs = []string{"P-A"}
	if !m.OpenTo("P-A") || m.OpenTo("P-B") {
		t.Error("exclusive offer")
	}
}

// The shipped catalog sells marketplace SaaS with Partner Center's windows and
// ORD-12's limit.
func TestRule_ORD_4_ORD_12_CAN_3_DefaultCatalogMarketplace(t *testing.T) {
	c := mustDefault(t)
	if c.Policy.Marketplace.CancelWindowHoursMonthly != 24 || c.Policy.Marketplace.CancelWindowHoursAnnual != 336 {
		t.Errorf("marketplace policy %+v, want 24 and 336 hours (Partner Center)", c.Policy.Marketplace)
	}
	if c.Policy.MaxSubscriptionsPerCustomer != 250 {
		t.Errorf("max_subscriptions_per_customer = %d, want 250", c.Policy.MaxSubscriptionsPerCustomer)
	}
	var transactable, listedOnly, exclusive int
	for i := range c.Offers {
		o := &c.Offers[i]
		if o.CommerceType != CommerceTypeMarketplace {
			continue
		}
		if o.Publisher == "microsoft" || o.Marketplace == nil || !strings.HasPrefix(o.Marketplace.SetupURL, "https://") {
			t.Errorf("%s: %+v", o.ID, o)
			continue
		}
		switch {
		case o.Marketplace.Transactable && o.BillingType == BillingTypeLicense:
			transactable++
		case !o.Marketplace.Transactable && o.BillingType == BillingTypeUsage:
			listedOnly++
		}
		if len(o.Marketplace.ExclusivePartnerIDs) > 0 {
			exclusive++
		}
		for _, p := range o.Plans {
			if !slices.Contains([]string{TermP1M, TermP1Y}, p.Term) {
				t.Errorf("%s: term %s", o.ID, p.Term)
			}
		}
	}
	if transactable < 2 || listedOnly < 1 || exclusive < 1 {
		t.Errorf("marketplace offers: %d transactable, %d metered listed only, %d exclusive", transactable, listedOnly, exclusive)
	}
}
