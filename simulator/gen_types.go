package simulator

import (
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Helpers of the kinds of the other commerce types (gen_addons.go,
// gen_legacy.go, gen_marketplace.go, gen_software.go). Their
// subscriptions carry a model.Ext and the ordinary kinds leave them alone
// (Generator.pick): every command on them comes from these kinds, which
// ask the model's functions of their type.

// catalogOffers are the catalog's offers sold to commercial customers in
// the customer's currency for which ok holds, in catalog order.
func (g *Generator) catalogOffers(c *model.Customer, ok func(*catalog.Offer) bool) []*catalog.Offer {
	var out []*catalog.Offer
	for i := range g.Catalog.Offers {
		o := &g.Catalog.Offers[i]
		if slices.Contains(o.Segments, "commercial") && len(g.plansOf(c, o)) > 0 && ok(o) {
			out = append(out, o)
		}
	}
	return out
}

// plansOf are the offer's plans priced in the customer's currency.
func (g *Generator) plansOf(c *model.Customer, o *catalog.Offer) []catalog.Plan {
	var out []catalog.Plan
	for _, p := range o.Plans {
		if _, ok := p.Prices[c.Currency]; ok {
			out = append(out, p)
		}
	}
	return out
}

// pickTyped draws one of the customer's subscriptions with a model.Ext
// that are known (their ID learned) and live, for which ok holds, or nil.
func (g *Generator) pickTyped(c *model.Customer, ok func(*model.Sub) bool) *model.Sub {
	var cands []*model.Sub
	for _, s := range c.Subs {
		// Not inside a pending renewal, nor behind commands parked for
		// one: the types' model functions do not predict REN-4 (the
		// in_renewal kind sends commands into renewals).
		if s.Ext != nil && s.ID != "" && s.Live() && !s.Renewing() && !s.HasParked() && ok(s) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[g.rng.IntN(len(cands))]
}

// order is a one-line order.placed of the customer, its order ID and line.
func (g *Generator) order(c *model.Customer, line messages.OrderLine) (messages.Command, string) {
	cmd := g.command(c, messages.CmdOrderPlaced, nil)
	order := "O-" + cmd.ID
	line.LineID = "L1"
	cmd.Data = &messages.OrderPlacedData{OrderID: order, Lines: []messages.OrderLine{line}}
	return cmd, order
}

// full tells whether the customer holds as many subscriptions as the
// generator lets it (ORD-12 stays out of reach).
func (g *Generator) full(c *model.Customer) bool { return len(c.Subs) >= g.MaxSubscriptions }

// change is one of the changes the *_change kinds send to a subscription
// of another type: the command and the model's prediction, applied to the
// model when chosen.
type change struct {
	typ  messages.CommandType
	data func() any
	out  func() model.Outcome
}

// changes offers the generic changes of a subscription s of another
// type at now (quantity, cancellation, suspension, reactivation,
// auto-renew), each predicted by the model functions of its type.
func (g *Generator) changes(c *model.Customer, s *model.Sub, now time.Time) []change {
	var out []change
	qty := func(q int) change {
		return change{messages.CmdQuantityChange, func() any { return &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q} },
			func() model.Outcome { return g.Model.ChangeQuantity(s, now, q) }}
	}
	changeable := s.Changeable(now) && !s.Renewing() && !s.HasParked()
	if changeable && s.Status == model.Active {
		if s.Qty < g.maxQty(s.Offer) {
			out = append(out, qty(min(s.Qty+1+g.rng.IntN(5), g.maxQty(s.Offer))))
		}
		if r := s.Reducible(now); r > 0 && s.Qty > 1 {
			out = append(out, qty(s.Qty-1-g.rng.IntN(min(r, s.Qty-1))))
		}
		out = append(out, change{messages.CmdSubscriptionSuspend,
			func() any { return &messages.SuspendData{SubscriptionID: s.ID, Reason: messages.ReasonNonPayment} },
			func() model.Outcome { return g.Model.SuspendTyped(c, s, now) }})
		on := !s.AutoRenew
		out = append(out, change{messages.CmdAutoRenewSet,
			func() any { return &messages.AutoRenewSetData{SubscriptionID: s.ID, Enabled: &on} },
			func() model.Outcome { return g.Model.SetAutoRenewTyped(s, on) }})
	}
	if changeable && s.Status == model.Suspended {
		out = append(out, change{messages.CmdSubscriptionReactivate,
			func() any { return &messages.ReactivateData{SubscriptionID: s.ID} },
			func() model.Outcome { return g.Model.ReactivateTyped(s, now) }})
	}
	if changeable {
		out = append(out, change{messages.CmdSubscriptionCancel,
			func() any { return &messages.CancelData{SubscriptionID: s.ID} },
			func() model.Outcome { return g.Model.CancelTyped(s, now) }})
	}
	return out
}

// tryChange sends one of s's changes, drawn at random.
func (g *Generator) tryChange(k string, c *model.Customer, s *model.Sub, now time.Time) (Action, bool, error) {
	if s == nil {
		return Action{}, false, nil
	}
	cs := g.changes(c, s, now)
	if len(cs) == 0 {
		return Action{}, false, nil
	}
	ch := cs[g.rng.IntN(len(cs))]
	return g.act(k, c, s, ch.typ, ch.data(), ch.out())
}

// typedBuy is the model function that buys one line of another commerce
// type (BuyLegacy, BuyMarketplace, BuySoftware).
type typedBuy func(c *model.Customer, now time.Time, orderID, lineID, offer, term, freq string, qty int) (*model.Sub, model.Outcome, error)

// buyTyped orders 1..maxQty licenses of one of offers, on one of its plans
// in the customer's currency, predicted by buy.
func (g *Generator) buyTyped(k string, c *model.Customer, now time.Time, offers []*catalog.Offer, maxQty int, buy typedBuy) (Action, bool, error) {
	o := offers[g.rng.IntN(len(offers))]
	plans := g.plansOf(c, o)
	p := plans[g.rng.IntN(len(plans))]
	q := 1 + g.rng.IntN(min(maxQty, o.MaxQuantity))
	cmd, order := g.order(c, messages.OrderLine{OfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency})
	s, out, err := buy(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q)
	if err != nil {
		return Action{}, false, err
	}
	return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
}
