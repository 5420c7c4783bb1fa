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
	return g.buyTyped(k, c, now, offers, 5, g.Model.BuySoftware)
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
