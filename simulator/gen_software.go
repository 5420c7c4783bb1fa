package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the software kinds (CAN-4): every software offer sold to
// commercial customers bought on one-line orders, and orders cancelled
// (software.cancel, admin agent, ROL-1) inside and after the window and
// for the products the catalog excepts.

func (g *Generator) trySoftwareBuy(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	offers := g.catalogOffers(c, func(o *catalog.Offer) bool { return o.CommerceType == model.TypeSoftware && o.Software != nil })
	if g.full(c) || len(offers) == 0 {
		return Action{}, false, nil
	}
	o := offers[g.rng.IntN(len(offers))]
	plans := g.plansOf(c, o)
	p := plans[g.rng.IntN(len(plans))]
	q := 1 + g.rng.IntN(min(5, o.MaxQuantity))
	cmd, order := g.order(c, messages.OrderLine{OfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency})
	s, out, err := g.Model.BuySoftware(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q)
	if err != nil {
		return Action{}, false, err
	}
	return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
}

// trySoftwareCancel cancels the order of one of the customer's live
// software items, whatever its window or exception says.
func (g *Generator) trySoftwareCancel(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pickTyped(c, func(s *model.Sub) bool { return s.Is(model.TypeSoftware) })
	// Two times in three, one that can still be cancelled if there is one
	// (old purchases and exceptions would otherwise dominate).
	if open := g.pickTyped(c, func(s *model.Sub) bool {
		return s.Is(model.TypeSoftware) && s.Ext.Exception == "" && now.Before(s.Ext.SoftwareUntil)
	}); open != nil && g.rng.IntN(3) > 0 {
		s = open
	}
	if s == nil {
		return Action{}, false, nil
	}
	return g.act(k, c, s, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: s.OrderID},
		g.Model.CancelSoftware([]*model.Sub{s}, now))
}
