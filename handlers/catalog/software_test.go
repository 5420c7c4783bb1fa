package catalog

import (
	"strings"
	"testing"
)

const (
	swPerpetualID = "DG7GMGF0D7FV:0005"
	swSubID       = "DG7GMGF0FKZV:0002"
	swPerpetual   = `offer "DG7GMGF0D7FV:0005" (Windows Server 2022 Standard)`
	swSub         = `offer "DG7GMGF0FKZV:0002" (SQL Server 2022 Standard)`
)

// swSmall is small() with the software policy, a perpetual offer and a
// software subscription offer.
func swSmall() *Catalog {
	c := small()
	c.Policy.Software = SoftwarePolicy{CancelWindowDays: 60, DownloadLinkValidityHours: 336, DownloadLinkMaxDownloads: 50, ActivityLogMaxEntries: 1000}
	c.Offers = append(c.Offers,
		Offer{ID: swPerpetualID, Name: "Windows Server 2022 Standard", Publisher: "microsoft",
			CommerceType: CommerceTypeSoftware, BillingType: "license", Segments: []string{"commercial"},
			MinQuantity: 1, MaxQuantity: 100,
			Software: &SoftwareSpec{Perpetual: true, Cancellable: true, ActivationKeys: true, Downloads: true},
			Plans:    []Plan{{Term: TermPerpetual, BillingFrequency: BillingOneTime, Prices: map[string]int64{"USD": 106900, "JPY": 160350}}}},
		Offer{ID: swSubID, Name: "SQL Server 2022 Standard", Publisher: "microsoft",
			CommerceType: CommerceTypeSoftware, BillingType: "license", Segments: []string{"commercial"},
			MinQuantity: 1, MaxQuantity: 100,
			Software: &SoftwareSpec{Cancellable: true, ActivationKeys: true, Downloads: true},
			Plans: []Plan{
				{Term: "P1Y", BillingFrequency: BillingOneTime, Prices: map[string]int64{"USD": 185900, "JPY": 278850}},
				{Term: "P1Y", BillingFrequency: "annual", Prices: map[string]int64{"USD": 185900, "JPY": 278850}},
				{Term: "P3Y", BillingFrequency: BillingOneTime, Prices: map[string]int64{"USD": 557700, "JPY": 836550}},
				{Term: "P3Y", BillingFrequency: "triennial", Prices: map[string]int64{"USD": 557700, "JPY": 836550}},
			}},
	)
	return c
}

func swPerp(c *Catalog) *Offer     { return &c.Offers[2] }
func swSubOffer(c *Catalog) *Offer { return &c.Offers[3] }
func swBasic(c *Catalog) *Offer    { return &c.Offers[0] }

func TestRule_GEN_5_SoftwareCatalogIsValid(t *testing.T) {
	c, err := Parse(encode(t, swSmall()))
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.Offer(swPerpetualID)
	if p, ok := o.Plan(TermPerpetual, BillingOneTime); !ok || p.Prices["USD"] != 106900 {
		t.Fatalf("perpetual plan %+v %v", p, ok)
	}
	if !SupportedCommerceType(CommerceTypeSoftware) || ValidTerm(TermPerpetual) {
		t.Error("software is a commerce type; perpetual is a term of software offers only")
	}
}

// The default catalog sells Partner Center's software products with their
// exceptions and the policy's numbers.
func TestRule_CAN_4_DefaultCatalogSoftware(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy.Software
	if p.CancelWindowDays != 60 || p.DownloadLinkValidityHours != 336 || p.DownloadLinkMaxDownloads != 50 || p.ActivityLogMaxEntries != 1000 {
		t.Errorf("software policy %+v", p)
	}
	for id, want := range map[string]SoftwareSpec{
		"DG7GMGF0D7FV:0005": {Perpetual: true, Cancellable: true, ActivationKeys: true, Downloads: true},
		"DG7GMGF0FKZV:0002": {Cancellable: true, ActivationKeys: true, Downloads: true},
		"DG7GMGF0CQ4M:0001": {CancelException: SoftwareSupportRequestRequired, ActivationKeys: true},
		"DG7GMGF0BXM1:0001": {CancelException: SoftwareNotCancellable},
		"DG7GMGF0BXM5:0001": {CancelException: SoftwareNotCancellable},
	} {
		o, ok := c.Offer(id)
		if !ok || o.CommerceType != CommerceTypeSoftware || o.Software == nil || *o.Software != want {
			t.Errorf("%s: %v %+v", id, ok, o)
		}
	}
	for _, name := range map[string]string{"DG7GMGF0CQ4M:0001": "Windows 7 Extended Security Updates", "DG7GMGF0BXM1:0001": "SUSE", "DG7GMGF0BXM5:0001": "Red Hat"} {
		found := false
		for _, o := range c.Offers {
			found = found || o.CommerceType == CommerceTypeSoftware && strings.Contains(o.Name, name)
		}
		if !found {
			t.Errorf("no software offer named %q", name)
		}
	}
}

// Each row breaks one thing and expects exactly that problem.
func TestSoftwareValidationProblems(t *testing.T) {
	for _, tc := range []struct {
		name         string
		mutate       func(c *Catalog)
		entry, field string
		msg          string
	}{
		{"CAN-4 policy window missing", func(c *Catalog) { c.Policy.Software.CancelWindowDays = 0 }, "", "policy.software.cancel_window_days", "must be 1..365 (CAN-4: 60)"},
		{"CAN-4 policy window over a year", func(c *Catalog) { c.Policy.Software.CancelWindowDays = 366 }, "", "policy.software.cancel_window_days", "not 366"},
		{"SW-1 link validity missing", func(c *Catalog) { c.Policy.Software.DownloadLinkValidityHours = 0 }, "", "policy.software.download_link_validity_hours", "SW-1: 336"},
		{"SW-1 link downloads missing", func(c *Catalog) { c.Policy.Software.DownloadLinkMaxDownloads = 0 }, "", "policy.software.download_link_max_downloads", "SW-1: 50"},
		{"SW-2 activity log bound missing", func(c *Catalog) { c.Policy.Software.ActivityLogMaxEntries = 0 }, "", "policy.software.activity_log_max_entries", "must be 1..2000"},
		{"SW-2 activity log bound too large", func(c *Catalog) { c.Policy.Software.ActivityLogMaxEntries = 2001 }, "", "policy.software.activity_log_max_entries", "not 2001"},
		{"CAN-4 offer window is policy", func(c *Catalog) { swPerp(c).CancelWindowHours = 1440 }, swPerpetual, "cancel_window_hours", "must be absent for a software offer"},
		{"CAN-4 exception without reason", func(c *Catalog) { swSubOffer(c).Software.Cancellable = false }, swSub, "software.cancel_exception",
			`must say why: support_request_required or not_cancellable (CAN-4), got ""`},
		{"CAN-4 unknown exception", func(c *Catalog) {
			swSubOffer(c).Software.Cancellable, swSubOffer(c).Software.CancelException = false, "call_us"
		}, swSub, "software.cancel_exception", `got "call_us"`},
		{"CAN-4 exception on a cancellable offer", func(c *Catalog) { swSubOffer(c).Software.CancelException = SoftwareNotCancellable }, swSub, "software.cancel_exception", "must be empty for a cancellable offer"},
		{"GEN-5 software offer without spec", func(c *Catalog) { swSubOffer(c).Software = nil }, swSub, "software", "needs a software spec"},
		{"GEN-5 spec on another offer", func(c *Catalog) { swBasic(c).Software = &SoftwareSpec{Cancellable: true} }, bb, "software", "only a software offer"},
		{"GEN-5 usage software", func(c *Catalog) {
			o := swSubOffer(c)
			o.BillingType, o.MinQuantity, o.MaxQuantity = "usage", 0, 0
		}, swSub, "billing_type", "sold by license"},
		{"GEN-5 software with upgrade paths", func(c *Catalog) {
			enterprise := *swSubOffer(c)
			enterprise.ID, enterprise.Name = "DG7GMGF0FKZV:0009", "SQL Server 2022 Enterprise"
			c.Offers = append(c.Offers, enterprise)
			swSubOffer(c).UpgradePaths = []string{enterprise.ID}
		}, swSub, "software", "cannot be a trial, an add-on or have upgrade paths"},
		{"GEN-4 perpetual sold with a term", func(c *Catalog) { swPerp(c).Plans[0].Term = "P1Y" }, swPerpetual, "plans[0]", "perpetual software is sold with term perpetual billed one_time, not P1Y one_time"},
		{"GEN-4 perpetual billed annually", func(c *Catalog) { swPerp(c).Plans[0].BillingFrequency = "annual" }, swPerpetual, "plans[0]", "not perpetual annual"},
		{"GEN-4 software subscription sold perpetual", func(c *Catalog) { swSubOffer(c).Plans[0].Term = TermPerpetual }, swSub, "plans[0]", "not perpetual one_time"},
		{"GEN-4 software subscription billed monthly", func(c *Catalog) { swSubOffer(c).Plans[1].BillingFrequency = "monthly" }, swSub, "plans[1]", "not P1Y monthly"},
		{"GEN-4 software subscription P1M", func(c *Catalog) {
			swSubOffer(c).Plans[1].Term, swSubOffer(c).Plans[1].BillingFrequency = "P1M", "monthly"
		}, swSub, "plans[1]", "not P1M monthly"},
		{"GEN-4 perpetual term on a new-commerce offer", func(c *Catalog) { swBasic(c).Plans[0].Term = TermPerpetual }, bb, "plans[0].term", `"perpetual" is not a term`},
		{"GEN-4 one_time on a new-commerce offer", func(c *Catalog) { swBasic(c).Plans[2].BillingFrequency = BillingOneTime }, bb, "plans[2].billing_frequency", "one_time is not allowed with term P1Y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := swSmall()
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

// A catalog without software offers needs no software policy.
func TestSoftwarePolicyOnlyWhenSellingSoftware(t *testing.T) {
	if _, err := Parse(encode(t, small())); err != nil {
		t.Fatal(err)
	}
}
