package catalog

import (
	"strings"
	"testing"
)

const (
	bsID = "CFQ7TTC0LDPB:0001"
	bpID = "CFQ7TTC0LCHC:0002"
	bs   = `offer "CFQ7TTC0LDPB:0001" (Microsoft 365 Business Standard)`
)

// withUpgrades is small() plus Business Standard and Business Premium on
// Business Basic's upgrade paths, Standard -> Premium, and the pair
// Standard -> Premium also in the unsupported table (the table wins; not a
// problem).
func withUpgrades() *Catalog {
	c := small()
	plans := func(mult int64) []Plan {
		return []Plan{
			{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 720 * mult, "JPY": 1080 * mult}},
			{Term: "P1Y", BillingFrequency: "annual", Prices: map[string]int64{"USD": 7200 * mult, "JPY": 10800 * mult}},
		}
	}
	lic := func(id, name string, mult int64, paths ...string) Offer {
		return Offer{ID: id, Name: name, Publisher: "microsoft", CommerceType: "new_commerce", BillingType: "license",
			Segments: []string{"commercial"}, MinQuantity: 1, MaxQuantity: 300, CancelWindowHours: 168,
			UpgradePaths: paths, Plans: plans(mult)}
	}
	c.Offers[0].UpgradePaths = []string{bsID, bpID}
	c.Offers = append(c.Offers,
		lic(bsID, "Microsoft 365 Business Standard", 2, bpID),
		lic(bpID, "Microsoft 365 Business Premium", 3))
	c.Policy.UnsupportedUpgrades = []UpgradePair{{From: bsID, To: bpID}}
	return c
}

func TestUpgradeCatalogIsValid(t *testing.T) {
	c, err := Parse(encode(t, withUpgrades()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	basic, _ := c.Offer(bbID)
	standard, _ := c.Offer(bsID)
	if !basic.UpgradesTo(bsID) || !basic.UpgradesTo(bpID) || basic.UpgradesTo(bbID) || !standard.UpgradesTo(bpID) || standard.UpgradesTo(bbID) {
		t.Error("UpgradesTo disagrees with upgrade_paths")
	}
	// UPG-2: the table wins over a path; the pair is reported unsupported.
	if !c.Policy.UpgradeUnsupported(bsID, bpID) || c.Policy.UpgradeUnsupported(bbID, bsID) || c.Policy.UpgradeUnsupported(bpID, bsID) {
		t.Error("UpgradeUnsupported disagrees with policy.unsupported_upgrades")
	}
}

// Every row breaks one thing and expects exactly that problem (UPG-1,
// UPG-2).
func TestUpgradeValidationProblems(t *testing.T) {
	basic := func(c *Catalog) *Offer { return &c.Offers[0] }
	standard := func(c *Catalog) *Offer { return &c.Offers[2] }
	for _, tc := range []struct {
		name   string
		mutate func(c *Catalog)
		entry  string
		field  string
		msg    string
	}{
		{"UPG-1 path to an unknown offer", func(c *Catalog) { basic(c).UpgradePaths[1] = "CFQ7TTC0ZZZZ:0001" }, bb, "upgrade_paths[1]", `"CFQ7TTC0ZZZZ:0001" is not an offer in the catalog`},
		{"UPG-1 path empty", func(c *Catalog) { basic(c).UpgradePaths[0] = "" }, bb, "upgrade_paths[0]", "must not be empty"},
		{"UPG-1 path to itself", func(c *Catalog) { basic(c).UpgradePaths = append(basic(c).UpgradePaths, bbID) }, bb, "upgrade_paths[2]", "cannot be upgraded to itself"},
		{"UPG-1 duplicate path", func(c *Catalog) { basic(c).UpgradePaths = append(basic(c).UpgradePaths, bsID) }, bb, "upgrade_paths[2]", "duplicate of upgrade_paths[0] (" + bsID + ")"},
		{"ORD-6 path to a usage-based offer", func(c *Catalog) { basic(c).UpgradePaths[1] = "DZH318Z0BPS6:0001" }, bb, "upgrade_paths[1]", "is usage-based, not license-based"},
		{"UPG-1 target sells none of the source's plans", func(c *Catalog) {
			standard(c).Plans = []Plan{{Term: "P3Y", BillingFrequency: "triennial", Prices: map[string]int64{"USD": 43200, "JPY": 64800}}}
			standard(c).UpgradePaths = nil
		}, bb, "upgrade_paths[0]", "sells none of this offer's plans"},
		{"UPG-1 cycle is a downgrade", func(c *Catalog) { standard(c).UpgradePaths = append(standard(c).UpgradePaths, bbID) }, bs, "upgrade_paths[1]",
			"closes a cycle of upgrade paths (" + bbID + " -> " + bsID + " -> " + bbID + ")"},
		{"UPG-2 unknown from", func(c *Catalog) { c.Policy.UnsupportedUpgrades[0].From = "CFQ7TTC0ZZZZ:0001" }, "", "policy.unsupported_upgrades[0].from", `"CFQ7TTC0ZZZZ:0001" is not an offer in the catalog (UPG-2)`},
		{"UPG-2 unknown to", func(c *Catalog) { c.Policy.UnsupportedUpgrades[0].To = "" }, "", "policy.unsupported_upgrades[0].to", `"" is not an offer in the catalog (UPG-2)`},
		{"UPG-2 same offer", func(c *Catalog) { c.Policy.UnsupportedUpgrades[0].To = bsID }, "", "policy.unsupported_upgrades[0]", "from and to are the same offer"},
		{"UPG-2 duplicate pair", func(c *Catalog) {
			c.Policy.UnsupportedUpgrades = append(c.Policy.UnsupportedUpgrades, UpgradePair{From: bbID, To: bsID}, UpgradePair{From: bsID, To: bpID})
		}, "", "policy.unsupported_upgrades[2]", "duplicate of policy.unsupported_upgrades[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withUpgrades()
			tc.mutate(c)
			got, err := Parse(encode(t, c))
			if err == nil {
				t.Fatalf("Parse accepted the catalog: %+v", got)
			}
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

// GEN-5 and the trial check cannot be broken alone in this version (only
// new_commerce is supported, and trial offers have checks of their own):
// the upgrade problem is among those reported.
func TestUpgradeValidationCommerceTypeAndTrialTarget(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(c *Catalog)
		msg    string
	}{
		{"GEN-5 other commerce type", func(c *Catalog) { c.Offers[2].CommerceType = "legacy" }, "an upgrade stays within one commerce type (GEN-5)"},
		{"UPG-1 trial target", func(c *Catalog) {
			c.Offers[2].Trial = &TrialSpec{PaidOfferID: bpID, Licenses: 25, Term: "P1M", ConvertTerm: "P1Y", ConvertBillingFrequency: "annual"}
		}, "is a trial offer: an upgrade goes from a paid subscription to a paid one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := withUpgrades()
			tc.mutate(c)
			_, err := Parse(encode(t, c))
			for _, p := range problemsOf(err) {
				if p.Entry == bb && p.Field == "upgrade_paths[0]" && strings.Contains(p.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no upgrade_paths[0] problem %q in:\n%v", tc.msg, err)
		})
	}
}

// The embedded catalog's upgrade paths and Partner Center's unsupported table
// (UPG-1, UPG-2), as far as its offers go.
func TestDefaultCatalogUpgrades(t *testing.T) {
	c := mustDefault(t)
	const (
		basic, standard, premium = "CFQ7TTC0LH18:0001", "CFQ7TTC0LDPB:0001", "CFQ7TTC0LCHC:0002"
		m365E3, m365E5           = "CFQ7TTC0LFLZ:0001", "CFQ7TTC0LFLX:0001"
		o365E1, o365E3, o365E5   = "CFQ7TTC0LF8Q:0001", "CFQ7TTC0LF8R:0001", "CFQ7TTC0LF8S:0001"
		emsE3, emsE5             = "CFQ7TTC0LFK5:0001", "CFQ7TTC0LFK4:0001"
		winE3, winE5             = "CFQ7TTC0LGTX:0001", "CFQ7TTC0LGZW:0001"
		defP1, defP2             = "CFQ7TTC0MCH6:0001", "CFQ7TTC0LGTH:0001"
		teamMembers, projectEss  = "CFQ7TTC0LFH2:0001", "CFQ7TTC0LH0S:0001"
		project3, exchange1      = "CFQ7TTC0HDB1:0002", "CFQ7TTC0LH16:0001"
	)
	for _, p := range [][2]string{
		{basic, standard}, {basic, premium}, {basic, m365E3}, {basic, m365E5},
		{standard, premium}, {standard, m365E5}, {premium, m365E3}, {premium, m365E5},
		{o365E1, o365E3}, {o365E1, m365E5}, {o365E3, o365E5}, {o365E3, m365E3}, {m365E3, m365E5},
		{winE3, winE5}, {projectEss, project3}, {exchange1, o365E3},
	} {
		if o, ok := c.Offer(p[0]); !ok || !o.UpgradesTo(p[1]) || c.Policy.UpgradeUnsupported(p[0], p[1]) {
			t.Errorf("%s -> %s should be a supported upgrade", p[0], p[1])
		}
	}
	unsupported := [][2]string{
		{emsE3, emsE5}, {emsE5, m365E5}, {winE3, m365E5}, {winE5, m365E5}, {projectEss, teamMembers}, {defP1, defP2},
	}
	if len(c.Policy.UnsupportedUpgrades) != len(unsupported) {
		t.Errorf("unsupported_upgrades = %v", c.Policy.UnsupportedUpgrades)
	}
	for _, p := range unsupported {
		if !c.Policy.UpgradeUnsupported(p[0], p[1]) {
			t.Errorf("%s -> %s should be in policy.unsupported_upgrades", p[0], p[1])
		}
		// Each is also on a path: exactly the "expected but unsupported"
		// upgrades Partner Center lists.
		if o, _ := c.Offer(p[0]); !o.UpgradesTo(p[1]) {
			t.Errorf("%s -> %s should be on an upgrade path too", p[0], p[1])
		}
	}
	// No downgrades: nothing leads back to Business Basic from above it.
	for _, from := range []string{standard, premium, m365E3, m365E5} {
		if o, _ := c.Offer(from); o.UpgradesTo(basic) {
			t.Errorf("%s -> Business Basic is a downgrade", from)
		}
	}
}
