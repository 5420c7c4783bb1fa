package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the legacy kinds (GEN-5, SUS-2, REN-1): legacy license
// offers bought, then changed like any subscription — suspended (not
// billed, data deletion date), reactivated (the rest of an unbilled period
// charged), auto-renew turned off (locked), quantity, cancellation. Legacy
// add-ons are bought by addon_buy.

func (g *Generator) tryLegacyBuy(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if g.full(c) {
		return Action{}, false, nil
	}
	offers := g.catalogOffers(c, func(o *catalog.Offer) bool {
		return o.CommerceType == model.TypeLegacy && o.Addon == nil && o.BillingType == "license" && !o.OnePerCustomer
	})
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	return g.buyTyped(k, c, now, offers, 20, g.Model.BuyLegacy)
}

func (g *Generator) tryLegacyChange(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	// Half the time a suspended one whose current period went unbilled is
	// reactivated (SUS-2's charge for the rest of the period), which the
	// random draw below seldom reaches.
	if s := g.pickTyped(c, func(s *model.Sub) bool {
		return s.Is(model.TypeLegacy) && s.Status == model.Suspended && s.Ext.Unbilled && s.Changeable(now)
	}); s != nil && g.rng.IntN(2) == 0 {
		return g.act(k, c, s, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s.ID}, g.Model.ReactivateTyped(s, now))
	}
	// A third of the time a monthly-billed active one is suspended, so that
	// a period starts unbilled before it comes back.
	if s := g.pickTyped(c, func(s *model.Sub) bool {
		return s.Is(model.TypeLegacy) && s.Status == model.Active && s.Freq == "monthly" && s.Changeable(now)
	}); s != nil && g.rng.IntN(3) == 0 {
		return g.act(k, c, s, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s.ID, Reason: messages.ReasonNonPayment},
			g.Model.SuspendTyped(c, s, now))
	}
	// A suspended one whose period was billed is mostly left to wait for
	// its next period, so that reactivations land in unbilled ones.
	wait := g.rng.IntN(4) > 0
	return g.tryChange(k, c, g.pickTyped(c, func(s *model.Sub) bool {
		return s.Is(model.TypeLegacy) && !(wait && s.Status == model.Suspended && !s.Ext.Unbilled)
	}), now)
}
