package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the marketplace SaaS kinds (ORD-4, ORD-13, CAN-3): the
// offers the partner may buy for the customer, bought and changed
// (cancelled inside and after CAN-3's window, licences added and removed,
// suspended); the offers it may not buy, ordered on purpose and rejected
// with ORD-4's reason.

func (g *Generator) marketplaceOffers(c *model.Customer, available bool) []*catalog.Offer {
	return g.catalogOffers(c, func(o *catalog.Offer) bool {
		return o.CommerceType == model.TypeMarketplace && (g.Model.Unavailable(c, c.Partner, o.ID) == "") == available &&
			(!available || o.BillingType == "license" && !o.OnePerCustomer)
	})
}

func (g *Generator) tryMarketplaceBuy(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	offers := g.marketplaceOffers(c, true)
	if g.full(c) || len(offers) == 0 {
		return Action{}, false, nil
	}
	return g.buyTyped(k, c, now, offers, 20, g.Model.BuyMarketplace)
}

// tryMarketplaceUnavailable orders an offer ORD-4 keeps from the partner
// (usage-based ones without a quantity).
func (g *Generator) tryMarketplaceUnavailable(k string, c *model.Customer, _ time.Time) (Action, bool, error) {
	offers := g.marketplaceOffers(c, false)
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	o := offers[g.rng.IntN(len(offers))]
	p := g.plansOf(c, o)[0]
	line := messages.OrderLine{OfferID: o.ID, Term: p.Term, BillingFrequency: p.BillingFrequency}
	if o.BillingType == "license" {
		q := 1
		line.Quantity = &q
	}
	cmd, _ := g.order(c, line)
	return Action{Customer: c, Kind: k, Expected: model.Outcome{Rejected: g.Model.Unavailable(c, c.Partner, o.ID)}, Command: cmd}, true, nil
}

func (g *Generator) tryMarketplaceChange(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	// Half the time one inside CAN-3's window is cancelled (its full
	// refund), which the random draw below seldom reaches.
	if s := g.pickTyped(c, func(s *model.Sub) bool {
		return s.Is(model.TypeMarketplace) && s.Changeable(now) && s.InWindow(now)
	}); s != nil && g.rng.IntN(2) == 0 {
		return g.act(k, c, s, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, g.Model.CancelTyped(s, now))
	}
	return g.tryChange(k, c, g.pickTyped(c, func(s *model.Sub) bool { return s.Is(model.TypeMarketplace) }), now)
}
