package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builder of the in_renewal kind (see kinds in generator.go): a command
// for a subscription whose renewal is pending (REN-2's processing window,
// 00:00-00:30 UTC the day after its term's end date with the catalog's
// policy; the steps at 00:17 land in it). The ordinary kinds may pick such
// a subscription too (model.Sub.Changeable); this kind makes sure every
// REN-4 case happens: quantity changes, cancellations and upgrades parked
// and decided when the renewal completes, auto-renew, suspend, reactivate,
// scheduled changes and scheduled upgrades rejected renewal_pending.

// inRenewal is one command the kind can send, with its relative weight:
// mostly the parked ones, which move money.
type inRenewal struct {
	weight int
	build  func(g *Generator, k string, c *model.Customer, s *model.Sub, now time.Time) (Action, bool, error)
}

var inRenewalCommands = []inRenewal{
	{3, (*Generator).renewingIncrease},
	{2, (*Generator).renewingDecrease},
	{2, (*Generator).renewingCancel},
	{2, (*Generator).renewingUpgrade},
	{1, (*Generator).renewingAutoRenew},
	{1, (*Generator).renewingSuspend},
	{1, (*Generator).renewingReactivate},
	{1, (*Generator).renewingSchedule},
}

// tryInRenewal picks a subscription with a pending renewal and nothing
// parked for it yet (the processor parks every later command for it
// behind the first, a case the model covers but the one command per
// customer per step never reaches), then one of the commands above; one
// that does not apply falls back to the next.
func (g *Generator) tryInRenewal(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pick(c, now, func(s *model.Sub) bool { return s.Renewing() && !s.HasParked() })
	if s == nil {
		return Action{}, false, nil
	}
	total := 0
	for _, b := range inRenewalCommands {
		total += b.weight
	}
	r, start := g.rng.IntN(total), 0
	for i, b := range inRenewalCommands {
		if r < b.weight {
			start = i
			break
		}
		r -= b.weight
	}
	for i := range inRenewalCommands {
		b := inRenewalCommands[(start+i)%len(inRenewalCommands)]
		if a, ok, err := b.build(g, k, c, s, now); err != nil || ok {
			return a, ok, err
		}
	}
	return Action{}, false, nil
}

func (g *Generator) renewingIncrease(k string, c *model.Customer, s *model.Sub, now time.Time) (Action, bool, error) {
	if s.Qty >= g.maxQty(s.Offer) {
		return Action{}, false, nil
	}
	q := min(s.Qty+1+g.rng.IntN(5), g.maxQty(s.Offer))
	return g.act(k, c, s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
}

// renewingDecrease removes licences whatever their window now: when the
// renewal completes every licence counts as added then (QTY-2).
func (g *Generator) renewingDecrease(k string, c *model.Customer, s *model.Sub, now time.Time) (Action, bool, error) {
	if s.Qty <= 1 {
		return Action{}, false, nil
	}
	q := s.Qty - 1 - g.rng.IntN(s.Qty-1)
	return g.act(k, c, s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
}

// renewingCancel cancels whatever the old term's window: the new term's
// opens when the renewal completes (REN-2, CAN-1).
func (g *Generator) renewingCancel(k string, c *model.Customer, s *model.Sub, now time.Time) (Action, bool, error) {
	return g.act(k, c, s, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, g.Model.Cancel(s, now))
}

func (g *Generator) renewingUpgrade(k string, c *model.Customer, s *model.Sub, now time.Time) (Action, bool, error) {
	targets := g.upgradeTargets(c, s)
	if s.Partner != c.Partner || len(targets) == 0 {
		return Action{}, false, nil
	}
	target := targets[g.rng.IntN(len(targets))]
	out, err := g.Model.UpgradeAll(s, now, target)
	if err != nil {
		return Action{}, false, err
	}
	return g.act(k, c, s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: target}, out)
}

func (g *Generator) renewingAutoRenew(k string, c *model.Customer, s *model.Sub, _ time.Time) (Action, bool, error) {
	on := g.rng.IntN(2) == 0
	return g.act(k, c, s, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s.ID, Enabled: &on}, g.Model.SetAutoRenew(s, on))
}

func (g *Generator) renewingSuspend(k string, c *model.Customer, s *model.Sub, _ time.Time) (Action, bool, error) {
	return g.act(k, c, s, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s.ID, Reason: messages.ReasonNonPayment}, g.Model.Suspend(s))
}

// renewingReactivate reactivates an active subscription: REN-4 answers
// before the check that it is suspended.
func (g *Generator) renewingReactivate(k string, c *model.Customer, s *model.Sub, _ time.Time) (Action, bool, error) {
	return g.act(k, c, s, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s.ID}, g.Model.Reactivate(s))
}

// renewingSchedule sends a scheduled change (a quantity for the next
// term), its removal, or an upgrade scheduled for the renewal (UPG-7):
// read-only while the renewal is pending.
func (g *Generator) renewingSchedule(k string, c *model.Customer, s *model.Sub, _ time.Time) (Action, bool, error) {
	out, ok := g.Model.RenewalSetting(s)
	if !ok {
		return Action{}, false, nil
	}
	switch targets := g.upgradeTargets(c, s); {
	case len(targets) > 0 && g.rng.IntN(3) == 0:
		return g.act(k, c, s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID,
			TargetOfferID: targets[g.rng.IntN(len(targets))], When: "renewal"}, out)
	case g.rng.IntN(2) == 0:
		q := max(1, s.Qty-1)
		return g.act(k, c, s, messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: s.ID, Quantity: &q}, out)
	}
	return g.act(k, c, s, messages.CmdScheduleDelete, &messages.ScheduleDeleteData{SubscriptionID: s.ID}, out)
}
