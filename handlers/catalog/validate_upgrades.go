package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// UpgradesTo reports whether target is on the offer's upgrade paths
// (UPG-1, Partner Center's ProductSkuConversion column). It does not
// consult policy.unsupported_upgrades: see Policy.UpgradeUnsupported.
func (o *Offer) UpgradesTo(target string) bool { return slices.Contains(o.UpgradePaths, target) }

// UpgradeUnsupported reports whether policy.unsupported_upgrades lists the
// upgrade from -> to (UPG-2). The table wins over the offers' upgrade
// paths: a pair in both is not supported.
func (p Policy) UpgradeUnsupported(from, to string) bool {
	return slices.Contains(p.UnsupportedUpgrades, UpgradePair{From: from, To: to})
}

// validateUpgrades checks the upgrade paths of every offer (UPG-1) and the
// table of unsupported upgrades (UPG-2):
//
//   - every path names an existing offer, not the offer itself, and at most
//     once;
//   - the target has the same commerce type (GEN-5) and billing type
//     (ORD-6), is not a trial offer (an upgrade goes from a paid
//     subscription to a paid subscription; trials convert, TRI-2), and
//     sells at least one of the source's plans (term and billing
//     frequency), or no subscription could ever be upgraded along it;
//   - the paths form no cycle: in a cycle one of the upgrades is a
//     downgrade, and UPG-1 allows none. A cycle is reported once, at the
//     path that closes it (depth-first in file order);
//   - every pair of policy.unsupported_upgrades names two different
//     existing offers, at most once.
//
// Decision: a pair that is both on an upgrade path and in the unsupported
// table is not a problem. That is exactly what Partner Center's table
// describes ("upgrade paths you might expect but that are not supported",
// for example EMS E3 -> EMS E5), the table wins (the rules reject the
// upgrade with upgrade_not_supported, UPG-2), and keeping the path lets an
// operator re-enable it by deleting one table row when the programme starts
// supporting it.
func (c *Catalog) validateUpgrades(ps *problemList, index map[string]int) {
	for i := range c.Offers {
		o := &c.Offers[i]
		if len(o.UpgradePaths) == 0 {
			continue
		}
		ps.Entry = offerEntry(i, o)
		seen := map[string]int{}
		for j, to := range o.UpgradePaths {
			field := fmt.Sprintf("upgrade_paths[%d]", j)
			k, known := index[to]
			if prev, dup := seen[to]; dup {
				ps.Add(field, "duplicate of upgrade_paths[%d] (%s)", prev, to)
				continue
			}
			seen[to] = j
			switch {
			case strings.TrimSpace(to) == "":
				ps.Add(field, "must not be empty")
			case to == o.ID:
				ps.Add(field, "an offer cannot be upgraded to itself (UPG-1)")
			case !known:
				ps.Add(field, "%q is not an offer in the catalog (UPG-1)", to)
			default:
				c.validateUpgradeTarget(ps, field, o, &c.Offers[k])
			}
		}
	}
	ps.Entry = ""
	c.validateUpgradeCycles(ps, index)
	ps.Entry = ""
	c.Policy.validateUnsupportedUpgrades(ps, index)
}

func (c *Catalog) validateUpgradeTarget(ps *problemList, field string, o, t *Offer) {
	switch {
	case t.CommerceType != o.CommerceType:
		ps.Add(field, "%q (%s) is %s, not %s: an upgrade stays within one commerce type (GEN-5)",
			t.ID, t.Name, t.CommerceType, o.CommerceType)
	case t.BillingType != o.BillingType:
		ps.Add(field, "%q (%s) is %s-based, not %s-based: an upgrade moves licenses (ORD-6)",
			t.ID, t.Name, t.BillingType, o.BillingType)
	case t.Trial != nil:
		ps.Add(field, "%q (%s) is a trial offer: an upgrade goes from a paid subscription to a paid one (UPG-1; trials convert, TRI-2)",
			t.ID, t.Name)
	case !sharesPlan(o, t):
		ps.Add(field, "%q (%s) sells none of this offer's plans (term and billing frequency), so no subscription could be upgraded to it",
			t.ID, t.Name)
	}
}

// sharesPlan reports whether t sells at least one of o's term and
// billing-frequency combinations.
func sharesPlan(o, t *Offer) bool {
	for _, p := range o.Plans {
		if _, ok := t.Plan(p.Term, p.BillingFrequency); ok {
			return true
		}
	}
	return false
}

// validateUpgradeCycles reports every back edge of a depth-first walk of
// the upgrade paths, offers and paths in file order: each is a path that
// closes a cycle, and so makes one of the cycle's upgrades a downgrade.
func (c *Catalog) validateUpgradeCycles(ps *problemList, index map[string]int) {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, len(c.Offers))
	var stack []int
	var visit func(u int)
	visit = func(u int) {
		color[u] = grey
		stack = append(stack, u)
		o := &c.Offers[u]
		for j, to := range o.UpgradePaths {
			v, known := index[to]
			if !known || v == u {
				continue // reported above
			}
			switch color[v] {
			case grey:
				start := slices.Index(stack, v)
				var names []string
				for _, w := range stack[start:] {
					names = append(names, c.Offers[w].ID)
				}
				names = append(names, to)
				ps.Entry = offerEntry(u, o)
				ps.Add(fmt.Sprintf("upgrade_paths[%d]", j),
					"closes a cycle of upgrade paths (%s): one of these upgrades is a downgrade, and UPG-1 allows none",
					strings.Join(names, " -> "))
			case white:
				visit(v)
			}
		}
		stack = stack[:len(stack)-1]
		color[u] = black
	}
	for i := range c.Offers {
		if color[i] == white {
			visit(i)
		}
	}
}

func (p *Policy) validateUnsupportedUpgrades(ps *problemList, index map[string]int) {
	seen := map[UpgradePair]int{}
	for k, pair := range p.UnsupportedUpgrades {
		field := fmt.Sprintf("policy.unsupported_upgrades[%d]", k)
		ok := true
		for _, end := range []struct{ name, id string }{{"from", pair.From}, {"to", pair.To}} {
			if _, known := index[end.id]; !known || strings.TrimSpace(end.id) == "" {
				ps.Add(field+"."+end.name, "%q is not an offer in the catalog (UPG-2)", end.id)
				ok = false
			}
		}
		if !ok {
			continue
		}
		if pair.From == pair.To {
			ps.Add(field, "from and to are the same offer (%s)", pair.From)
			continue
		}
		if prev, dup := seen[pair]; dup {
			ps.Add(field, "duplicate of policy.unsupported_upgrades[%d] (%s -> %s)", prev, pair.From, pair.To)
			continue
		}
		seen[pair] = k
	}
}
