package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// Add-on kinds (ORD-7..ORD-9).
const (
	// AddonMultiGeo needs at least MinPercentOfBase % of the customer's
	// base licenses (ORD-7).
	AddonMultiGeo = "multi_geo"
	// AddonCopilot allows at most the customer's base licenses (ORD-8).
	AddonCopilot = "copilot"
	// AddonCoterminous is attached to one active base subscription and
	// ends with it (ORD-9).
	AddonCoterminous = "coterminous"
)

// AddonKinds returns the add-on kinds. The slice is the caller's to keep.
func AddonKinds() []string { return []string{AddonMultiGeo, AddonCopilot, AddonCoterminous} }

// validateAddons checks every add-on offer (ORD-7..ORD-9):
//
//   - addon.kind is multi_geo, copilot or coterminous and the offer is
//     license-based;
//   - addon.base_offer_ids is not empty, without duplicates, and names
//     license-based offers of the catalog that are neither add-ons (no
//     add-on on an add-on) nor trials (trial licenses are not owned
//     licenses and do not count as a base);
//   - min_percent_of_base is 1..100 for multi_geo and absent otherwise;
//   - max_of_base is set only for copilot;
//   - a coterminous add-on shares at least one plan (term and billing
//     frequency) with each base, since it takes its base's (ORD-9).
func (c *Catalog) validateAddons(ps *problemList, index map[string]int) {
	for i := range c.Offers {
		o := &c.Offers[i]
		a := o.Addon
		if a == nil {
			continue
		}
		ps.Entry = offerEntry(i, o)
		kindOK := slices.Contains(AddonKinds(), a.Kind)
		if !kindOK {
			ps.Add("addon.kind", "%q is not an add-on kind (allowed: %s)", a.Kind, strings.Join(AddonKinds(), ", "))
		}
		if o.BillingType != BillingTypeLicense {
			ps.Add("addon", "an add-on must be license-based, not %q", o.BillingType)
		}
		switch {
		case !kindOK: // the kind's own limits cannot be judged
		case a.Kind == AddonMultiGeo && (a.MinPercentOfBase < 1 || a.MinPercentOfBase > 100):
			ps.Add("addon.min_percent_of_base", "must be 1..100 for a multi_geo add-on (ORD-7: 5), got %d", a.MinPercentOfBase)
		case a.Kind != AddonMultiGeo && a.MinPercentOfBase != 0:
			ps.Add("addon.min_percent_of_base", "only a multi_geo add-on has a minimum share of its base (ORD-7)")
		}
		if kindOK && a.MaxOfBase && a.Kind != AddonCopilot {
			ps.Add("addon.max_of_base", "only a copilot add-on is capped at its base licenses (ORD-8)")
		}
		if len(a.BaseOfferIDs) == 0 {
			ps.Add("addon.base_offer_ids", "must not be empty: an add-on needs a compatible base offer")
		}
		seen := map[string]int{}
		for k, id := range a.BaseOfferIDs {
			field := fmt.Sprintf("addon.base_offer_ids[%d]", k)
			if j, dup := seen[id]; dup {
				ps.Add(field, "duplicate of addon.base_offer_ids[%d] (%s)", j, id)
				continue
			}
			seen[id] = k
			j, ok := index[id]
			if !ok {
				ps.Add(field, "%q is not an offer of the catalog", id)
				continue
			}
			base := &c.Offers[j]
			switch {
			case base.ID == o.ID:
				ps.Add(field, "an add-on cannot be its own base")
			case base.Addon != nil:
				ps.Add(field, "%s (%s) is an add-on; a base must not be one", id, base.Name)
			case base.Trial != nil:
				ps.Add(field, "%s (%s) is a trial; trial licenses do not count as a base", id, base.Name)
			case base.BillingType != BillingTypeLicense:
				ps.Add(field, "%s (%s) is not license-based", id, base.Name)
			case a.Kind == AddonCoterminous && !addonSharesPlan(o, base):
				ps.Add(field, "%s (%s) has no plan (term and billing frequency) in common with the add-on, which takes its base's (ORD-9)", id, base.Name)
			}
		}
	}
	ps.Entry = ""
}

func addonSharesPlan(a, b *Offer) bool {
	for _, p := range a.Plans {
		if _, ok := b.Plan(p.Term, p.BillingFrequency); ok {
			return true
		}
	}
	return false
}
