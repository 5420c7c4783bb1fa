package simulator

import (
	"slices"
	"sort"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the license subscription kinds (see kinds in generator.go):
// purchases, trials, quantity changes, suspension, auto-renewal,
// cancellation and upgrades of new-commerce license subscriptions.

func (g *Generator) tryBuy(_ string, c *model.Customer, now time.Time) (Action, bool, error) {
	if len(c.Subs) >= g.MaxSubscriptions {
		return Action{}, false, nil
	}
	a, err := g.buy(c, now)
	return a, err == nil, err
}

func (g *Generator) tryTrial(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if len(c.Subs) >= g.MaxSubscriptions {
		return Action{}, false, nil
	}
	for _, o := range g.trials {
		if c.TrialsTaken[o.ID] {
			continue
		}
		cmd := g.command(c, messages.CmdOrderPlaced, nil)
		order := "O-" + cmd.ID
		s, out, err := g.Model.BuyTrial(c, now, order, "L1", o.ID)
		if err != nil {
			return Action{}, false, err
		}
		cmd.Data = &messages.OrderPlacedData{OrderID: order, Lines: []messages.OrderLine{{LineID: "L1", OfferID: o.ID, Term: o.Trial.Term, BillingFrequency: "monthly"}}}
		return Action{Customer: c, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
	}
	return Action{}, false, nil
}

func (g *Generator) tryIncrease(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, func(s *model.Sub) bool { return active(s) && s.Qty < g.maxQty(s.Offer) })
	if s == nil {
		return Action{}, false, nil
	}
	q := min(s.Qty+1+g.rng.IntN(5), g.maxQty(s.Offer))
	return g.act(k, c, s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
}

func (g *Generator) tryDecrease(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, func(s *model.Sub) bool { return active(s) && s.Qty > 1 && s.Reducible(now) > 0 })
	if s == nil {
		return Action{}, false, nil
	}
	n := 1 + g.rng.IntN(min(s.Reducible(now), s.Qty-1))
	q := s.Qty - n
	return g.act(k, c, s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
}

// tryDecreaseClosed removes more than the licenses still in their window
// (QTY-2's rejection).
func (g *Generator) tryDecreaseClosed(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, func(s *model.Sub) bool { return active(s) && s.Qty > s.Reducible(now)+1 })
	if s == nil {
		return Action{}, false, nil
	}
	q := s.Qty - s.Reducible(now) - 1
	return g.act(k, c, s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
}

func (g *Generator) trySuspend(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, active)
	if s == nil {
		return Action{}, false, nil
	}
	return g.act(k, c, s, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s.ID, Reason: messages.ReasonNonPayment}, g.Model.Suspend(s))
}

func (g *Generator) tryReactivate(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, func(s *model.Sub) bool { return s.Status == model.Suspended })
	if s == nil {
		return Action{}, false, nil
	}
	return g.act(k, c, s, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s.ID}, g.Model.Reactivate(s))
}

// tryAutoRenew is autorenew_on and autorenew_off.
func (g *Generator) tryAutoRenew(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	on := k == "autorenew_on"
	s := g.pick(c, now, func(s *model.Sub) bool { return active(s) && s.AutoRenew != on })
	if s == nil {
		return Action{}, false, nil
	}
	return g.act(k, c, s, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s.ID, Enabled: &on}, g.Model.SetAutoRenew(s, on))
}

// tryCancel is cancel (inside the window, CAN-1) and cancel_closed
// (outside it, rejected).
func (g *Generator) tryCancel(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	in := k == "cancel"
	s := g.pick(c, now, func(s *model.Sub) bool { return s.InWindow(now) == in })
	if s == nil {
		return Action{}, false, nil
	}
	return g.act(k, c, s, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, g.Model.Cancel(s, now))
}

// tryUpgrade upgrades every license of a subscription in place (UPG-3).
func (g *Generator) tryUpgrade(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, func(s *model.Sub) bool {
		return active(s) && s.Partner == c.Partner && len(g.upgradeTargets(c, s)) > 0
	})
	if s == nil {
		return Action{}, false, nil
	}
	targets := g.upgradeTargets(c, s)
	target := targets[g.rng.IntN(len(targets))]
	out, err := g.Model.UpgradeAll(s, now, target)
	if err != nil {
		return Action{}, false, err
	}
	return g.act(k, c, s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: target}, out)
}

func (g *Generator) buy(c *model.Customer, now time.Time) (Action, error) {
	o := g.offers[g.rng.IntN(len(g.offers))]
	plans := make([]catalog.Plan, 0, len(o.Plans))
	for _, p := range o.Plans {
		if _, ok := p.Prices[c.Currency]; ok {
			plans = append(plans, p)
		}
	}
	p := plans[g.rng.IntN(len(plans))]
	q := 1 + g.rng.IntN(min(20, o.MaxQuantity))
	cmd := g.command(c, messages.CmdOrderPlaced, nil)
	order := "O-" + cmd.ID
	s, out, err := g.Model.Buy(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q)
	if err != nil {
		return Action{}, err
	}
	cmd.Data = &messages.OrderPlacedData{OrderID: order, Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency}}}
	return Action{Customer: c, Kind: "buy", Sub: s, Expected: out, Command: cmd}, nil
}

func (g *Generator) maxQty(offer string) int {
	o, ok := g.Catalog.Offer(offer)
	if !ok {
		return 0
	}
	return min(o.MaxQuantity, 300)
}

// upgradeTargets are the offers s can be upgraded to in full, at once
// (UPG-1, UPG-2): on the catalog's path, not in the unsupported table, sold
// on s's plan in s's currency, taking s's quantity.
func (g *Generator) upgradeTargets(c *model.Customer, s *model.Sub) []string {
	o, ok := g.Catalog.Offer(s.Offer)
	if !ok {
		return nil
	}
	var out []string
	for _, id := range o.UpgradePaths {
		if g.unsupported(s.Offer, id) {
			continue
		}
		t, ok := g.Catalog.Offer(id)
		if !ok || t.OnePerCustomer || t.MaxQuantity < s.Qty || !slices.Contains(t.Segments, "commercial") {
			continue
		}
		if _, ok := g.Model.Price(id, s.Term, s.Freq, c.Currency); ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (g *Generator) unsupported(from, to string) bool {
	for _, p := range g.Catalog.Policy.UnsupportedUpgrades {
		if p.From == from && p.To == to {
			return true
		}
	}
	return false
}
