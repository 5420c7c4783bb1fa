package simulator

import (
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the kinds that change a subscription's plan (see kinds in
// generator.go): scheduled changes applied at renewal (SCH-1..SCH-4,
// UPG-7), trial conversions now and at the trial's end (TRI-2..TRI-6),
// partial upgrades (UPG-4) and upgrades into an existing subscription
// (UPG-3, UPG-5). Each sends only what the model predicts; the amounts are
// in simulator/model (schedule.go, trials.go, upgrades.go).

// trySchedule stores a random change for the next renewal: a quantity, a
// plan the (scheduled) offer sells, a higher offer, or several at once.
func (g *Generator) trySchedule(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pickSteady(c, now, func(s *model.Sub) bool { return active(s) && s.AutoRenew })
	if s == nil {
		return Action{}, false, nil
	}
	ch, ok := g.randomSchedule(c, s)
	if !ok {
		return Action{}, false, nil
	}
	data := &messages.ScheduleSetData{SubscriptionID: s.ID, OfferID: ch.Offer, Term: ch.Term, BillingFrequency: ch.Freq}
	if ch.Qty != 0 {
		q := ch.Qty
		data.Quantity = &q
	}
	return g.act(k, c, s, messages.CmdScheduleSet, data, g.Model.SetSchedule(s, ch))
}

// randomSchedule draws a change whose merge with what s has stored the
// renewal can apply: an offer on s's upgrade paths (UPG-1, UPG-2), a plan
// it sells in the customer's currency, a quantity within its bounds.
func (g *Generator) randomSchedule(c *model.Customer, s *model.Sub) (model.Schedule, bool) {
	for range 4 {
		var ch model.Schedule
		what := g.rng.IntN(4)
		if what >= 2 {
			targets := g.pathTargets(s.Offer)
			if len(targets) == 0 {
				continue
			}
			ch.Offer = targets[g.rng.IntN(len(targets))]
		}
		offer, _, _, _ := s.Plan(s.Merged(ch))
		o, ok := g.Catalog.Offer(offer)
		if !ok {
			continue
		}
		if what == 0 || what == 3 || g.rng.IntN(3) == 0 {
			ch.Qty = o.MinQuantity + g.rng.IntN(min(o.MaxQuantity, 300)-o.MinQuantity+1)
		}
		if what == 1 || what == 3 {
			plans := g.plansIn(o, c.Currency)
			p := plans[g.rng.IntN(len(plans))]
			ch.Term, ch.Freq = p.Term, p.BillingFrequency
		}
		if g.renewable(c, s, s.Merged(ch)) {
			return ch, true
		}
	}
	return model.Schedule{}, false
}

// renewable tells whether a renewal of s can apply sc: the plan sold in
// the customer's currency and the quantity within the offer's bounds.
func (g *Generator) renewable(c *model.Customer, s *model.Sub, sc model.Schedule) bool {
	offer, term, freq, qty := s.Plan(sc)
	o, ok := g.Catalog.Offer(offer)
	if !ok || qty < o.MinQuantity || qty > o.MaxQuantity {
		return false
	}
	_, ok = g.Model.Price(offer, term, freq, c.Currency)
	return ok
}

// tryUpgradeAtRenewal schedules an upgrade of every license for the term
// end (UPG-7): stored as the scheduled offer, applied by the renewal.
func (g *Generator) tryUpgradeAtRenewal(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	var target string
	s := g.pickSteady(c, now, func(s *model.Sub) bool {
		if !active(s) || !s.AutoRenew || s.Partner != c.Partner {
			return false
		}
		for _, t := range g.pathTargets(s.Offer) {
			if g.renewable(c, s, s.Merged(model.Schedule{Offer: t})) {
				return true
			}
		}
		return false
	})
	if s == nil {
		return Action{}, false, nil
	}
	var ok []string
	for _, t := range g.pathTargets(s.Offer) {
		if g.renewable(c, s, s.Merged(model.Schedule{Offer: t})) {
			ok = append(ok, t)
		}
	}
	target = ok[g.rng.IntN(len(ok))]
	return g.act(k, c, s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: target, When: "renewal"},
		g.Model.SetSchedule(s, model.Schedule{Offer: target}))
}

func (g *Generator) tryScheduleDelete(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pickSteady(c, now, func(s *model.Sub) bool { return s.Scheduled != nil })
	if s == nil {
		return Action{}, false, nil
	}
	return g.act(k, c, s, messages.CmdScheduleDelete, &messages.ScheduleDeleteData{SubscriptionID: s.ID}, g.Model.DeleteSchedule(s))
}

// tryScheduleRefused schedules a change for a subscription that will not
// renew (auto-renew off): SCH-2's rejection.
func (g *Generator) tryScheduleRefused(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pickSteady(c, now, func(s *model.Sub) bool { return active(s) && !s.AutoRenew && s.Qty < g.maxQty(s.Offer) })
	if s == nil {
		return Action{}, false, nil
	}
	q := s.Qty + 1
	return g.act(k, c, s, messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: s.ID, Quantity: &q},
		g.Model.SetSchedule(s, model.Schedule{Qty: q}))
}

// pickTrial draws one of the customer's live trials, known to the
// generator, before its end.
func (g *Generator) pickTrial(c *model.Customer, now time.Time) *model.Sub {
	var cands []*model.Sub
	for _, s := range c.Subs {
		if s.Trial && s.Status == model.Active && s.ID != "" && now.Before(s.TermEnd.AddDate(0, 0, 1)) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[g.rng.IntN(len(cands))]
}

// conversionOffers are the offers a trial converts to (TRI-2): its paid
// SKU and the higher SKUs on that offer's upgrade paths, paid license
// offers sold to commercial customers.
func (g *Generator) conversionOffers(trial *model.Sub) []string {
	o, ok := g.Catalog.Offer(trial.Offer)
	if !ok || o.Trial == nil {
		return nil
	}
	out := []string{o.Trial.PaidOfferID}
	out = append(out, g.pathTargets(o.Trial.PaidOfferID)...)
	return out
}

// tryTrialConvert converts a trial now into a new subscription (TRI-5): a
// conversion offer, any plan it sells in the currency, at least the
// trial's licenses.
func (g *Generator) tryTrialConvert(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	trial := g.pickTrial(c, now)
	if trial == nil {
		return Action{}, false, nil
	}
	offers := g.conversionOffers(trial)
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	o, _ := g.Catalog.Offer(offers[g.rng.IntN(len(offers))])
	plans := g.plansIn(o, c.Currency)
	p := plans[g.rng.IntN(len(plans))]
	q := min(trial.Qty+g.rng.IntN(16), o.MaxQuantity)
	paid, out, err := g.Model.ConvertNow(c, trial, now, o.ID, p.Term, p.BillingFrequency, q)
	if err != nil {
		return Action{}, false, err
	}
	a, ok, err := g.act(k, c, trial, messages.CmdTrialConvert, &messages.TrialConvertData{SubscriptionID: trial.ID, TargetOfferID: o.ID,
		Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency, When: "now"}, out)
	a.Created = paid
	return a, ok, err
}

// conversionTargets are the customer's subscriptions a trial's q licenses
// can go into at now (TRI-4), and, when later is set, whose term ends
// strictly after the trial's (a scheduled conversion: the target does not
// renew at the trial's end).
func (g *Generator) conversionTargets(c *model.Customer, trial *model.Sub, now time.Time, q int, later bool) []*model.Sub {
	offers := g.conversionOffers(trial)
	var out []*model.Sub
	for _, t := range c.Subs {
		if slices.Contains(offers, t.Offer) && steady(t, now) && g.Model.CanTake(trial, t, t.Offer, t.Term, t.Freq, q) &&
			(!later || t.TermEnd.After(trial.TermEnd)) {
			out = append(out, t)
		}
	}
	return out
}

// tryTrialConvertShort converts a trial now into fewer licenses than it
// has: TRI-5's rejection.
func (g *Generator) tryTrialConvertShort(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	trial := g.pickTrial(c, now)
	if trial == nil || trial.Qty < 2 {
		return Action{}, false, nil
	}
	offers := g.conversionOffers(trial)
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	q := 1 + g.rng.IntN(trial.Qty-1)
	return g.act(k, c, trial, messages.CmdTrialConvert, &messages.TrialConvertData{SubscriptionID: trial.ID, TargetOfferID: offers[0],
		Quantity: &q, When: "now"}, g.Model.ConvertTooFew())
}

// tryTrialConvertInto converts a trial now into an existing subscription
// (TRI-5, TRI-4): its licenses are added to it.
func (g *Generator) tryTrialConvertInto(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	trial := g.pickTrial(c, now)
	if trial == nil {
		return Action{}, false, nil
	}
	targets := g.conversionTargets(c, trial, now, trial.Qty, false)
	if len(targets) == 0 {
		return Action{}, false, nil
	}
	t := targets[g.rng.IntN(len(targets))]
	return g.act(k, c, trial, messages.CmdTrialConvert, &messages.TrialConvertData{SubscriptionID: trial.ID, TargetSubscriptionID: t.ID, When: "now"},
		g.Model.ConvertInto(trial, t, now))
}

// tryTrialSchedule schedules a trial's conversion for its end (TRI-6):
// any number of licenses, into an existing subscription or a new one.
func (g *Generator) tryTrialSchedule(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	trial := g.pickTrial(c, now)
	if trial == nil || !trial.AutoRenew {
		return Action{}, false, nil
	}
	q := 1 + g.rng.IntN(trial.Qty+5)
	data := &messages.TrialConvertData{SubscriptionID: trial.ID, Quantity: &q, When: "trial_end"}
	if targets := g.conversionTargets(c, trial, now, q, true); len(targets) > 0 && g.rng.IntN(2) == 0 {
		t := targets[g.rng.IntN(len(targets))]
		data.TargetSubscriptionID = t.ID
		return g.act(k, c, trial, messages.CmdTrialConvert, data, g.Model.ScheduleConversion(trial, model.Conversion{Offer: t.Offer, Qty: q, Target: t}))
	}
	offers := g.conversionOffers(trial)
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	o, _ := g.Catalog.Offer(offers[g.rng.IntN(len(offers))])
	q = min(q, o.MaxQuantity)
	plans := g.plansIn(o, c.Currency)
	p := plans[g.rng.IntN(len(plans))]
	data.TargetOfferID, data.Term, data.BillingFrequency = o.ID, p.Term, p.BillingFrequency
	return g.act(k, c, trial, messages.CmdTrialConvert, data,
		g.Model.ScheduleConversion(trial, model.Conversion{Offer: o.ID, Qty: q, Term: p.Term, Freq: p.BillingFrequency}))
}

// tryUpgradePartial upgrades some of a subscription's licenses into a new
// subscription of a higher offer (UPG-4).
func (g *Generator) tryUpgradePartial(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pickSteady(c, now, func(s *model.Sub) bool {
		return active(s) && s.Qty >= 2 && s.Partner == c.Partner && len(g.upgradeTargets(c, s)) > 0
	})
	if s == nil {
		return Action{}, false, nil
	}
	targets := g.upgradeTargets(c, s)
	target := targets[g.rng.IntN(len(targets))]
	q := 1 + g.rng.IntN(s.Qty-1)
	n, out, err := g.Model.UpgradePartial(c, s, now, target, q)
	if err != nil {
		return Action{}, false, err
	}
	a, ok, err := g.act(k, c, s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: target, Quantity: &q}, out)
	a.Created = n
	return a, ok, err
}

// tryUpgradeInto upgrades all or some of a subscription's licenses into an
// existing subscription of a higher offer (UPG-3, UPG-4, UPG-5).
func (g *Generator) tryUpgradeInto(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	type pair struct{ s, t *model.Sub }
	var pairs []pair
	for _, s := range c.Subs {
		if !steady(s, now) || !active(s) || s.Partner != c.Partner {
			continue
		}
		offers := g.pathTargets(s.Offer)
		for _, t := range c.Subs {
			if slices.Contains(offers, t.Offer) && g.Model.CanReceive(s, t, now, 1) {
				pairs = append(pairs, pair{s, t})
			}
		}
	}
	if len(pairs) == 0 {
		return Action{}, false, nil
	}
	p := pairs[g.rng.IntN(len(pairs))]
	q := p.s.Qty
	if g.rng.IntN(2) == 0 && p.s.Qty > 1 {
		q = 1 + g.rng.IntN(p.s.Qty-1)
	}
	for q > 1 && !g.Model.CanReceive(p.s, p.t, now, q) {
		q /= 2
	}
	data := &messages.UpgradeData{SubscriptionID: p.s.ID, TargetOfferID: p.t.Offer, TargetSubscriptionID: p.t.ID}
	if q < p.s.Qty {
		data.Quantity = &q
	}
	return g.act(k, c, p.s, messages.CmdUpgrade, data, g.Model.UpgradeInto(p.s, p.t, now, q))
}

// tryUpgradeIntoRefused upgrades into an existing subscription that is
// eligible but for its own cancellation window: UPG-5's rejection.
func (g *Generator) tryUpgradeIntoRefused(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	for _, s := range c.Subs {
		if !steady(s, now) || !active(s) || s.Partner != c.Partner {
			continue
		}
		offers := g.pathTargets(s.Offer)
		for _, t := range c.Subs {
			if slices.Contains(offers, t.Offer) && t.InWindow(now) && steady(t, now) && g.Model.CanReceive(s, t, t.CancelUntil, 1) {
				return g.act(k, c, s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: t.Offer,
					TargetSubscriptionID: t.ID}, g.Model.UpgradeIntoRefused())
			}
		}
	}
	return Action{}, false, nil
}

// pathTargets are the offers on from's upgrade paths that the programme
// supports (UPG-1, UPG-2), paid license offers sold to commercial
// customers, not limited to one per customer.
func (g *Generator) pathTargets(from string) []string {
	o, ok := g.Catalog.Offer(from)
	if !ok {
		return nil
	}
	var out []string
	for _, id := range o.UpgradePaths {
		t, ok := g.Catalog.Offer(id)
		if !ok || g.unsupported(from, id) || t.OnePerCustomer || t.Trial != nil || t.Addon != nil || t.Free ||
			t.BillingType != "license" || !slices.Contains(t.Segments, "commercial") {
			continue
		}
		out = append(out, id)
	}
	return out
}

// plansIn are the offer's plans priced in currency.
func (g *Generator) plansIn(o *catalog.Offer, currency string) []catalog.Plan {
	var out []catalog.Plan
	for _, p := range o.Plans {
		if _, ok := p.Prices[currency]; ok {
			out = append(out, p)
		}
	}
	return out
}

// steady is a subscription these kinds may act on: changeable, and neither
// inside a pending renewal nor behind commands parked for one. Their
// commands would be parked or refused there (REN-4); the in_renewal kind
// (gen_renewal.go) is the one that sends commands into renewals, with the
// model's predictions for them.
func steady(s *model.Sub, now time.Time) bool {
	return s.Changeable(now) && !s.Renewing() && !s.HasParked()
}

// pickSteady is pick among steady subscriptions.
func (g *Generator) pickSteady(c *model.Customer, now time.Time, ok func(*model.Sub) bool) *model.Sub {
	return g.pick(c, now, func(s *model.Sub) bool { return steady(s, now) && ok(s) })
}
