package catalog

import (
	"strings"
	"testing"
)

const (
	premiumID = "CFQ7TTC0LCHC:0002"
	trialID   = "CFQ7TTC0LCHC:0007"
	geoID     = "CFQ7TTC0LHSF:0001"
	copilotID = "CFQ7TTC0MM8R:0002"
	archiveID = "CFQ7TTC0LH1G:0001"
	trialE    = `offer "CFQ7TTC0LCHC:0007" (Microsoft 365 Business Premium Trial)`
	geoE      = `offer "CFQ7TTC0LHSF:0001" (Microsoft 365 Multi-Geo Capabilities)`
	copilotE  = `offer "CFQ7TTC0MM8R:0002" (Microsoft 365 Copilot)`
	archiveE  = `offer "CFQ7TTC0LH1G:0001" (Exchange Online Archiving)`
)

func prices(usd int64) map[string]int64 { return map[string]int64{"USD": usd, "JPY": usd * 3 / 2} }

func licenseOffer(id, name string, m1, y1m, y1a int64) Offer {
	return Offer{
		ID: id, Name: name, Publisher: "microsoft", CommerceType: "new_commerce", BillingType: "license",
		Segments: []string{"commercial"}, MinQuantity: 1, MaxQuantity: 300, CancelWindowHours: 168,
		Plans: []Plan{
			{Term: "P1M", BillingFrequency: "monthly", Prices: prices(m1)},
			{Term: "P1Y", BillingFrequency: "monthly", Prices: prices(y1m)},
			{Term: "P1Y", BillingFrequency: "annual", Prices: prices(y1a)},
		},
	}
}

// withTrialsAndAddons is small() plus a paid offer, its trial and one
// add-on of each kind: a valid catalog.
func withTrialsAndAddons() *Catalog {
	c := small()
	premium := licenseOffer(premiumID, "Microsoft 365 Business Premium", 2640, 2310, 26400)
	trial := Offer{
		ID: trialID, Name: "Microsoft 365 Business Premium Trial", Publisher: "microsoft",
		CommerceType: "new_commerce", BillingType: "license", Free: true,
		Segments: []string{"commercial"}, MinQuantity: 25, MaxQuantity: 25, CancelWindowHours: 168,
		Plans: []Plan{{Term: "P1M", BillingFrequency: "monthly", Prices: prices(0)}},
		Trial: &TrialSpec{PaidOfferID: premiumID, Licenses: 25, Term: "P1M", ConvertTerm: "P1Y", ConvertBillingFrequency: "monthly"},
	}
	geo := licenseOffer(geoID, "Microsoft 365 Multi-Geo Capabilities", 240, 210, 2400)
	geo.Addon = &AddonSpec{Kind: AddonMultiGeo, BaseOfferIDs: []string{premiumID}, MinPercentOfBase: 5}
	copilot := licenseOffer(copilotID, "Microsoft 365 Copilot", 3600, 3150, 36000)
	copilot.Addon = &AddonSpec{Kind: AddonCopilot, BaseOfferIDs: []string{bbID, premiumID}, MaxOfBase: true}
	archive := licenseOffer(archiveID, "Exchange Online Archiving", 360, 315, 3600)
	archive.Addon = &AddonSpec{Kind: AddonCoterminous, BaseOfferIDs: []string{bbID}}
	c.Offers = append(c.Offers, premium, trial, geo, copilot, archive)
	return c
}

func TestTrialsAndAddonsCatalogIsValid(t *testing.T) {
	c, err := Parse(encode(t, withTrialsAndAddons()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tr, _ := c.Offer(trialID)
	if tr.Trial == nil || tr.Trial.PaidOfferID != premiumID || tr.Trial.Licenses != 25 {
		t.Fatalf("trial spec %+v", tr.Trial)
	}
	geo, _ := c.Offer(geoID)
	if geo.Addon == nil || geo.Addon.MinPercentOfBase != 5 {
		t.Fatalf("add-on spec %+v", geo.Addon)
	}
}

// TRI-1, ORD-7..ORD-9: every row breaks one thing about a trial or an
// add-on and expects exactly one problem naming the entry and field.
func TestRule_TRI_1_ORD_7_ORD_8_ORD_9_CatalogProblems(t *testing.T) {
	find := func(c *Catalog, id string) *Offer {
		for i := range c.Offers {
			if c.Offers[i].ID == id {
				return &c.Offers[i]
			}
		}
		t.Fatalf("no offer %s", id)
		return nil
	}
	trial := func(c *Catalog) *Offer { return find(c, trialID) }
	geo := func(c *Catalog) *Offer { return find(c, geoID) }
	copilot := func(c *Catalog) *Offer { return find(c, copilotID) }
	archive := func(c *Catalog) *Offer { return find(c, archiveID) }
	for _, tc := range []struct {
		name   string
		mutate func(c *Catalog)
		entry  string
		field  string
		msg    string
	}{
		{"TRI-1 paid offer missing", func(c *Catalog) { trial(c).Trial.PaidOfferID = "CFQ7TTC0XXXX:0001" }, trialE, "trial.paid_offer_id", `"CFQ7TTC0XXXX:0001" is not an offer of the catalog`},
		{"TRI-1 paid offer empty", func(c *Catalog) { trial(c).Trial.PaidOfferID = "" }, trialE, "trial.paid_offer_id", "must not be empty"},
		{"TRI-1 paid offer is itself", func(c *Catalog) { trial(c).Trial.PaidOfferID = trialID }, trialE, "trial.paid_offer_id", "cannot convert to itself"},
		{"TRI-1 paid offer is a trial", func(c *Catalog) {
			other := *trial(c)
			other.ID, other.Name = "CFQ7TTC0LCHC:0008", "Other Trial"
			other.Trial = &TrialSpec{PaidOfferID: premiumID, Licenses: 25, Term: "P1M", ConvertTerm: "P1Y", ConvertBillingFrequency: "monthly"}
			c.Offers = append(c.Offers, other)
			trial(c).Trial.PaidOfferID = other.ID
		}, trialE, "trial.paid_offer_id", "is a trial, not a paid offer"},
		{"TRI-1 paid offer is an add-on", func(c *Catalog) { trial(c).Trial.PaidOfferID = copilotID }, trialE, "trial.paid_offer_id", "is an add-on"},
		{"TRI-1 paid offer usage-based", func(c *Catalog) { trial(c).Trial.PaidOfferID = "DZH318Z0BPS6:0001" }, trialE, "trial.paid_offer_id", "is not license-based"},
		{"TRI-1 licenses 0", func(c *Catalog) { trial(c).Trial.Licenses = 0 }, trialE, "trial.licenses", "must be > 0 (TRI-1: 25), got 0"},
		{"TRI-1 quantity bounds differ from licenses", func(c *Catalog) { trial(c).MinQuantity = 1 }, trialE, "trial.licenses", "min_quantity (1) and max_quantity (25) must both equal trial.licenses (25)"},
		{"TRI-1 term unknown", func(c *Catalog) { trial(c).Trial.Term = "P2M" }, trialE, "trial.term", `"P2M" is not a term`},
		{"TRI-1 plan with another term", func(c *Catalog) {
			trial(c).Plans = append(trial(c).Plans, Plan{Term: "P1Y", BillingFrequency: "annual", Prices: prices(0)})
		}, trialE, "plans[1].term", "a trial sells only its trial.term P1M, not P1Y"},
		{"TRI-1 convert term unknown", func(c *Catalog) { trial(c).Trial.ConvertTerm = "P5Y" }, trialE, "trial.convert_term", `"P5Y" is not a term`},
		{"TRI-1 convert pair invalid", func(c *Catalog) { trial(c).Trial.ConvertTerm, trial(c).Trial.ConvertBillingFrequency = "P1M", "annual" }, trialE, "trial.convert_billing_frequency", `"annual" is not allowed with term P1M`},
		{"TRI-1 paid offer does not sell the convert plan", func(c *Catalog) {
			trial(c).Trial.ConvertTerm, trial(c).Trial.ConvertBillingFrequency = "P3Y", "triennial"
		}, trialE, "trial.convert_term", "does not sell P3Y billed triennial"},
		{"ORD-10 trial not free", func(c *Catalog) {
			trial(c).Free = false
			trial(c).Plans[0].Prices = prices(100)
		}, trialE, "free", "a trial offer must be marked free"},
		{"ORD-10 trial priced", func(c *Catalog) { trial(c).Plans[0].Prices["USD"] = 1 }, trialE, `plans[0].prices["USD"]`, "must be 0: the offer is marked free"},
		{"TRI-1 trial and add-on", func(c *Catalog) {
			trial(c).Addon = &AddonSpec{Kind: AddonCopilot, BaseOfferIDs: []string{premiumID}}
		}, trialE, "addon", "both a trial and an add-on"},
		{"ORD-7 kind unknown", func(c *Catalog) { copilot(c).Addon.Kind = "booster" }, copilotE, "addon.kind", `"booster" is not an add-on kind (allowed: multi_geo, copilot, coterminous)`},
		{"ORD-7 min percent 0", func(c *Catalog) { geo(c).Addon.MinPercentOfBase = 0 }, geoE, "addon.min_percent_of_base", "must be 1..100 for a multi_geo add-on (ORD-7: 5), got 0"},
		{"ORD-7 min percent 101", func(c *Catalog) { geo(c).Addon.MinPercentOfBase = 101 }, geoE, "addon.min_percent_of_base", "got 101"},
		{"ORD-7 min percent on copilot", func(c *Catalog) { copilot(c).Addon.MinPercentOfBase = 5 }, copilotE, "addon.min_percent_of_base", "only a multi_geo add-on"},
		{"ORD-8 max of base on multi-geo", func(c *Catalog) { geo(c).Addon.MaxOfBase = true }, geoE, "addon.max_of_base", "only a copilot add-on"},
		{"ORD-8 max of base on coterminous", func(c *Catalog) { archive(c).Addon.MaxOfBase = true }, archiveE, "addon.max_of_base", "only a copilot add-on"},
		{"ORD-9 no base", func(c *Catalog) { archive(c).Addon.BaseOfferIDs = nil }, archiveE, "addon.base_offer_ids", "must not be empty"},
		{"ORD-8 base missing", func(c *Catalog) { copilot(c).Addon.BaseOfferIDs[1] = "CFQ7TTC0XXXX:0001" }, copilotE, "addon.base_offer_ids[1]", "is not an offer of the catalog"},
		{"ORD-8 base duplicate", func(c *Catalog) { copilot(c).Addon.BaseOfferIDs[1] = bbID }, copilotE, "addon.base_offer_ids[1]", "duplicate of addon.base_offer_ids[0]"},
		{"ORD-8 base is an add-on", func(c *Catalog) { copilot(c).Addon.BaseOfferIDs[1] = geoID }, copilotE, "addon.base_offer_ids[1]", "is an add-on; a base must not be one"},
		{"ORD-8 base is itself", func(c *Catalog) { copilot(c).Addon.BaseOfferIDs[1] = copilotID }, copilotE, "addon.base_offer_ids[1]", "cannot be its own base"},
		{"ORD-8 base is a trial", func(c *Catalog) { copilot(c).Addon.BaseOfferIDs[1] = trialID }, copilotE, "addon.base_offer_ids[1]", "is a trial"},
		{"ORD-7 base usage-based", func(c *Catalog) { geo(c).Addon.BaseOfferIDs = []string{"DZH318Z0BPS6:0001"} }, geoE, "addon.base_offer_ids[0]", "is not license-based"},
		{"ORD-9 coterminous shares no plan with its base", func(c *Catalog) {
			archive(c).Plans = []Plan{{Term: "P3Y", BillingFrequency: "triennial", Prices: prices(10800)}}
		}, archiveE, "addon.base_offer_ids[0]", "has no plan (term and billing frequency) in common"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withTrialsAndAddons()
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

// The embedded catalog ships the two trials and the three add-ons, with
// Partner Center's numbers: 25 licenses for P1M converting to P1Y billed
// monthly (TRI-1), multi-geo at 5 % (ORD-7), Copilot capped at the base
// (ORD-8).
func TestRule_TRI_1_ORD_7_ORD_8_ORD_9_DefaultCatalog(t *testing.T) {
	c := mustDefault(t)
	for id, paid := range map[string]string{"CFQ7TTC0LCHC:0007": "CFQ7TTC0LCHC:0002", "CFQ7TTC0LFLX:0007": "CFQ7TTC0LFLX:0001"} {
		o, ok := c.Offer(id)
		if !ok || o.Trial == nil {
			t.Fatalf("trial %s missing", id)
		}
		tr := o.Trial
		if tr.PaidOfferID != paid || tr.Licenses != 25 || tr.Term != TermP1M || tr.ConvertTerm != TermP1Y || tr.ConvertBillingFrequency != BillingMonthly || !o.Free {
			t.Errorf("trial %s: %+v free %v", id, tr, o.Free)
		}
	}
	kinds := map[string]int{}
	for i := range c.Offers {
		if a := c.Offers[i].Addon; a != nil {
			kinds[a.Kind]++
			switch a.Kind {
			case AddonMultiGeo:
				if a.MinPercentOfBase != 5 {
					t.Errorf("multi-geo minimum %d %%", a.MinPercentOfBase)
				}
			case AddonCopilot:
				if !a.MaxOfBase || len(a.BaseOfferIDs) < 8 {
					t.Errorf("copilot %+v", a)
				}
			}
		}
	}
	if kinds[AddonMultiGeo] != 1 || kinds[AddonCopilot] != 1 || kinds[AddonCoterminous] != 2 { // one new-commerce, one legacy (ORD-9)
		t.Errorf("add-on kinds %v", kinds)
	}
}
