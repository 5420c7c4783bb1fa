package simulator

import (
	"math"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the add-on kinds (ORD-7, ORD-8, ORD-9, SUS-5): every add-on
// offer of the catalog sold to commercial customers, bought on one of the
// partner's own active bases (named on the line), their limits provoked
// on purpose, and changes to add-ons and their bases.

// addonOffers are the catalog's add-on offers the customer can buy.
func (g *Generator) addonOffers(c *model.Customer) []*catalog.Offer {
	return g.catalogOffers(c, func(o *catalog.Offer) bool { return o.Addon != nil && o.BillingType == "license" })
}

// bases are the customer's own subscriptions an add-on of o may be bought
// on now: active, changeable (not renewing, within the term), of a
// compatible offer, through the customer's partner, not being
// transferred.
func (g *Generator) bases(c *model.Customer, o *catalog.Offer, now time.Time) []*model.Sub {
	var out []*model.Sub
	for _, s := range c.Subs {
		if s.Status == model.Active && !s.Trial && s.Partner == c.Partner && s.Changeable(now) && !s.Renewing() && !s.HasParked() &&
			slices.Contains(o.Addon.BaseOfferIDs, s.Offer) && !g.inTransfer(c, s) {
			out = append(out, s)
		}
	}
	return out
}

func (g *Generator) inTransfer(c *model.Customer, s *model.Sub) bool {
	t := g.transfers[c.ID]
	return t != nil && !t.done && t.sub == s
}

// tryAddonBuy buys an add-on the customer may have: a co-terminous one
// (ORD-9) of 1-10 licences, a multi-geo one (ORD-7) of at least its
// minimum, a Copilot one (ORD-8) within its maximum.
func (g *Generator) tryAddonBuy(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if g.full(c) {
		return Action{}, false, nil
	}
	offers := g.addonOffers(c)
	first := g.rng.IntN(max(len(offers), 1))
	for i := range offers {
		o := offers[(first+i)%len(offers)]
		bases := g.bases(c, o, now)
		if len(bases) == 0 {
			continue
		}
		base := bases[g.rng.IntN(len(bases))]
		line := messages.OrderLine{OfferID: o.ID, BaseSubscriptionID: base.ID}
		var (
			s   *model.Sub
			out model.Outcome
			err error
		)
		if o.Addon.Kind == model.AddonCoterminous {
			if _, ok := g.Model.Price(o.ID, base.Term, base.Freq, c.Currency); !ok {
				continue
			}
			q := 1 + g.rng.IntN(10)
			line.Quantity = &q
			cmd, order := g.order(c, line)
			if s, out, err = g.Model.BuyCoterminous(c, now, order, "L1", o.ID, q, base); err != nil {
				return Action{}, false, err
			}
			return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
		}
		_, lo, hi := g.Model.AddonLimit(c, o.ID)
		if hi < lo {
			continue
		}
		q := lo + g.rng.IntN(min(hi-lo+1, 5))
		plans := g.plansOf(c, o)
		p := plans[g.rng.IntN(len(plans))]
		line.Quantity, line.Term, line.BillingFrequency = &q, p.Term, p.BillingFrequency
		cmd, order := g.order(c, line)
		if s, out, err = g.Model.BuyAddon(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q, base); err != nil {
			return Action{}, false, err
		}
		return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
	}
	return Action{}, false, nil
}

// tryAddonLimit provokes ORD-7's and ORD-8's rejections: a multi-geo line
// one licence under the minimum, a Copilot line one over the maximum, a
// Copilot line without any base licence. Nothing is bought.
func (g *Generator) tryAddonLimit(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	offers := g.addonOffers(c)
	first := g.rng.IntN(max(len(offers), 1))
	for i := range offers {
		o := offers[(first+i)%len(offers)]
		if o.Addon.Kind == model.AddonCoterminous {
			continue
		}
		base, lo, hi := g.Model.AddonLimit(c, o.ID)
		var q int
		switch {
		case base == 0 && g.rng.IntN(32) == 0: // rarely: most customers without a base try this kind first
			q = 1
		case o.Addon.Kind == model.AddonMultiGeo && lo >= 2 && c.Licenses([]string{o.ID}) == 0:
			q = lo - 1
		case o.Addon.Kind == model.AddonCopilot && hi < math.MaxInt && hi+1 <= o.MaxQuantity:
			q = max(hi+1, 1)
		default:
			continue
		}
		p := g.plansOf(c, o)[0]
		line := messages.OrderLine{OfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency}
		if bs := g.bases(c, o, now); len(bs) > 0 {
			line.BaseSubscriptionID = bs[0].ID
		}
		cmd, order := g.order(c, line)
		_, out, err := g.Model.BuyAddon(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q, nil)
		if err != nil {
			return Action{}, false, err
		}
		return Action{Customer: c, Kind: k, Expected: out, Command: cmd}, true, nil
	}
	return Action{}, false, nil
}

// tryAddonChange changes an add-on or a base carrying add-ons: its
// quantity, suspension (SUS-5: the base takes its add-ons with it),
// reactivation (an add-on alone while its base is suspended is rejected),
// auto-renew or cancellation.
func (g *Generator) tryAddonChange(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	// Half the time an add-on suspended with its base, alone: SUS-5's
	// rejection, which the random draw below seldom reaches.
	if s := g.pickTyped(c, func(s *model.Sub) bool {
		return s.IsAddon() && s.Status == model.Suspended && s.Ext.Base.Status == model.Suspended && s.Changeable(now)
	}); s != nil && g.rng.IntN(2) == 0 {
		return g.act(k, c, s, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s.ID}, g.Model.ReactivateTyped(s, now))
	}
	s := g.pickTyped(c, func(s *model.Sub) bool {
		return !s.Is(model.TypeLegacy) && (s.IsAddon() || len(s.LiveAddons()) > 0)
	})
	return g.tryChange(k, c, s, now)
}
