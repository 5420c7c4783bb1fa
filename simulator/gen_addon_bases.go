package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// tryAddonBase changes a base under its add-ons, where they bind:
//
//   - a decrease of a Copilot base that would leave fewer base licences
//     than Copilot licences, or a cancellation of the last multi-geo base
//     (ORD-8, ORD-7: rejected base_needed_by_addon);
//   - otherwise, for a customer whose Copilot licences are below their
//     base licences, Copilot up to the maximum, so that a later decrease
//     binds;
//   - otherwise a cancellation, in its window, of a base carrying
//     co-terminous add-ons, which cancels them with it (ORD-9);
//   - otherwise a co-terminous add-on on a base still in its window, for
//     a later cancellation to take along.
//
// The model predicts each (a rejection, a purchase, the base's credit and
// every add-on's own credit).
func (g *Generator) tryAddonBase(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	own := func(s *model.Sub) bool {
		return s.ID != "" && s.Status == model.Active && !s.Trial && s.Partner == c.Partner && s.Changeable(now) &&
			!s.Renewing() && !s.HasParked() && !g.inTransfer(c, s)
	}
	for _, o := range g.addonOffers(c) {
		a := o.Addon
		held := c.Licenses([]string{o.ID})
		base := c.Licenses(a.BaseOfferIDs)
		if held == 0 {
			continue
		}
		for _, s := range c.Subs {
			if !own(s) || !contains(a.BaseOfferIDs, s.Offer) {
				continue
			}
			switch {
			case a.Kind == model.AddonCopilot && a.MaxOfBase && s.Qty > 1 && base-(s.Qty-1) < held:
				q := held - (base - s.Qty) - 1 // the largest count that still binds
				if q >= s.Qty || q < g.minQty(s.Offer) {
					continue
				}
				return g.act(k, c, s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q},
					g.Model.ChangeQuantity(s, now, q))
			case a.Kind == model.AddonMultiGeo && s.Qty == base && s.InWindow(now):
				return g.act(k, c, s, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, g.Model.CancelTyped(s, now))
			}
		}
	}
	if act, ok, err := g.fillCopilot(k, c, now); ok || err != nil {
		return act, ok, err
	}
	for _, s := range c.Subs {
		if own(s) && s.InWindow(now) && hasCoterminous(s) {
			return g.act(k, c, s, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, g.Model.CancelTyped(s, now))
		}
	}
	return g.coterminousInWindow(k, c, now)
}

// coterminousInWindow buys a co-terminous add-on on a base still in its
// cancellation window, so that a later cancellation of the base takes it
// along (ORD-9).
func (g *Generator) coterminousInWindow(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if g.full(c) {
		return Action{}, false, nil
	}
	for _, o := range g.addonOffers(c) {
		if o.Addon.Kind != model.AddonCoterminous {
			continue
		}
		for _, base := range g.bases(c, o, now) {
			if !base.InWindow(now) || hasCoterminous(base) {
				continue
			}
			if _, ok := g.Model.Price(o.ID, base.Term, base.Freq, c.Currency); !ok {
				continue
			}
			q := 1 + g.rng.IntN(10)
			cmd, order := g.order(c, messages.OrderLine{OfferID: o.ID, Quantity: &q, BaseSubscriptionID: base.ID})
			s, out, err := g.Model.BuyCoterminous(c, now, order, "L1", o.ID, q, base)
			if err != nil {
				return Action{}, false, err
			}
			return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
		}
	}
	return Action{}, false, nil
}

// fillCopilot buys Copilot licences up to the customer's base licences.
func (g *Generator) fillCopilot(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if g.full(c) {
		return Action{}, false, nil
	}
	for _, o := range g.addonOffers(c) {
		if o.Addon.Kind != model.AddonCopilot || c.Licenses([]string{o.ID}) == 0 {
			continue
		}
		_, lo, hi := g.Model.AddonLimit(c, o.ID)
		bases := g.bases(c, o, now)
		if hi < lo || hi > o.MaxQuantity || len(bases) == 0 {
			continue
		}
		q := hi
		p := g.plansOf(c, o)[0]
		cmd, order := g.order(c, messages.OrderLine{OfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency, BaseSubscriptionID: bases[0].ID})
		s, out, err := g.Model.BuyAddon(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q, bases[0])
		if err != nil {
			return Action{}, false, err
		}
		return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
	}
	return Action{}, false, nil
}

func hasCoterminous(s *model.Sub) bool {
	for _, a := range s.LiveAddons() {
		if a.Ext.Addon == model.AddonCoterminous && a.TermEnd.Equal(s.TermEnd) {
			return true
		}
	}
	return false
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// minQty is the offer's least licence count (ORD-6).
func (g *Generator) minQty(offer string) int {
	if o, ok := g.Catalog.Offer(offer); ok {
		return max(o.MinQuantity, 1)
	}
	return 1
}
