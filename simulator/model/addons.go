package model

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
)

// Add-ons (ORD-7, ORD-8, ORD-9, SUS-5), as the catalog describes them
// (offer.addon: kind, base offers, minimum share, maximum).

// AddonSpec is the catalog's add-on description of an offer, nil when the
// offer is not an add-on.
func (m *Model) AddonSpec(offer string) *catalog.AddonSpec {
	if o, ok := m.cat.Offer(offer); ok {
		return o.Addon
	}
	return nil
}

// Licenses counts the customer's licences of the offers that count for
// ORD-7 and ORD-8: active or suspended, not trials, through any partner.
func (c *Customer) Licenses(offers []string) int {
	n := 0
	for _, s := range c.Subs {
		if s.Live() && !s.Trial && slices.Contains(offers, s.Offer) {
			n += s.Qty
		}
	}
	return n
}

// AddonLimit is the range of quantities an order line of a multi-geo or
// Copilot add-on may have now (ORD-7, ORD-8): at least lo, at most hi
// (math.MaxInt: no maximum; below 1 when the customer already holds as
// many add-on licences as base licences, or more, after bases ended);
// base is the customer's base licences.
//
// ORD-7: held + q ≥ ⌈base × min% / 100⌉, the minimum rounded up. ORD-8:
// held + q ≤ base. held are the add-on's licences the customer already
// holds (active or suspended, any partner).
func (m *Model) AddonLimit(c *Customer, offer string) (base, lo, hi int) {
	a := m.AddonSpec(offer)
	base, held := c.Licenses(a.BaseOfferIDs), c.Licenses([]string{offer})
	lo, hi = 1, math.MaxInt
	switch a.Kind {
	case AddonMultiGeo:
		minimum := (base*a.MinPercentOfBase + 99) / 100
		lo = max(minimum-held, 1)
	case AddonCopilot:
		if a.MaxOfBase {
			hi = base - held
		}
	}
	return base, lo, hi
}

// BuyAddon is a one-line order of a multi-geo or Copilot add-on of q
// licences naming its base (the ordering partner's active subscription of
// a compatible offer): rejected when the customer holds no base licences
// (addon_requires_base) or q is outside AddonLimit (addon_below_minimum,
// addon_above_maximum); otherwise an ordinary purchase (ORD-14) with its
// own term, linked to the base for SUS-5.
func (m *Model) BuyAddon(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, q int, base *Sub) (*Sub, Outcome, error) {
	b, lo, hi := m.AddonLimit(c, offer)
	switch {
	case b == 0:
		return nil, Outcome{Rejected: RejectAddonRequiresBase}, nil
	case q < lo:
		return nil, Outcome{Rejected: RejectAddonBelowMinimum}, nil
	case q > hi:
		return nil, Outcome{Rejected: RejectAddonAboveMaximum}, nil
	}
	s, out, err := m.Buy(c, now, orderID, lineID, offer, term, freq, q)
	if err != nil {
		return nil, Outcome{}, err
	}
	link(s, base, m.AddonSpec(offer).Kind)
	return s, out, nil
}

func link(s, base *Sub, kind string) {
	s.ext().Addon, s.Ext.Base = kind, base
	base.ext().Addons = append(base.Ext.Addons, s)
}

// BuyCoterminous is ORD-9: a co-terminous add-on of q licences on base
// (the ordering partner's active, changeable subscription of a compatible
// offer), on the base's term and billing frequency at the add-on's price
// for that plan. It takes the base's term dates and current billing
// period, covers that period from today's date to its end, and is charged
// those days at the whole period's day value (today included: the
// add-on's first day is the day it is bought); later changes in that
// period count its days from the purchase instant (the day book's tail).
func (m *Model) BuyCoterminous(c *Customer, now time.Time, orderID, lineID, offer string, q int, base *Sub) (*Sub, Outcome, error) {
	unit, ok := m.Price(offer, base.Term, base.Freq, c.Currency)
	if !ok {
		return nil, Outcome{}, fmt.Errorf("model: no price for %s %s %s %s", offer, base.Term, base.Freq, c.Currency)
	}
	window := time.Duration(m.windowHours(offer)) * time.Hour
	s := &Sub{
		Customer: c.ID, Partner: c.Partner, OrderID: orderID, LineID: lineID, Offer: offer, Term: base.Term, Freq: base.Freq,
		Currency: c.Currency, Qty: q, Unit: unit, Status: Active, AutoRenew: true, WindowHours: m.windowHours(offer),
		TermStart: base.TermStart, TermEnd: base.TermEnd, CancelUntil: now.Add(window),
		PeriodStart: base.PeriodStart, PeriodEnd: base.PeriodEnd,
	}
	if s.Ext == nil && base.Ext != nil && base.Ext.Type != "" {
		s.ext().Type = base.Ext.Type // a legacy add-on of a legacy base
	}
	if o, ok := m.cat.Offer(offer); ok && o.CommerceType != "new_commerce" {
		s.ext().Type = o.CommerceType
	}
	s.book = openBook(s.PeriodStart, s.PeriodEnd, now)
	s.book.from = min(max(s.book.dayIndex(now), 0), s.book.days-1)
	charge := s.book.withPeriod(q, unit, now, now.Add(window))
	link(s, base, AddonCoterminous)
	c.hold(s)
	return s, Outcome{Bills: []Bill{prorated(bill(Charge, ReasonPurchase, RuleAddonCoterminous, s, roundHalfUp(charge),
		fmt.Sprintf("order %s: %d × %s co-terminous with %s, %s..%s", orderID, q, offer, base, now.Format(time.RFC3339), s.PeriodEnd.Format(time.DateOnly))))}}, nil
}

// SuspendTyped suspends s (SUS-1) and, SUS-5, every active add-on linked
// to it, after it, by subscription ID. A new-commerce subscription turns
// auto-renew off and is still billed (SUS-3, SUS-4); a legacy one keeps
// auto-renew, is not billed from its next period on and gets its data
// deletion instant (SUS-2). No money.
func (m *Model) SuspendTyped(c *Customer, s *Sub, now time.Time) Outcome {
	m.suspendOne(c, s, now, false)
	for _, a := range s.LiveAddons() {
		if a.Status == Active {
			m.suspendOne(c, a, now, true)
		}
	}
	return Outcome{}
}

func (m *Model) suspendOne(c *Customer, s *Sub, now time.Time, withBase bool) {
	s.Status = Suspended
	if s.Ext != nil {
		s.Ext.WithBase = withBase
	}
	if s.Is(TypeLegacy) {
		s.Ext.DeleteAt = now.Add(time.Duration(m.retentionDays(c)) * day)
		return
	}
	s.AutoRenew = false
}

// ReactivateTyped is SUS-6 with SUS-2 and SUS-5: a legacy subscription
// only before its data deletion instant (data_deleted), an add-on only
// while its base is not suspended (base_subscription_suspended); then the
// add-ons suspended with it come back too, those still within their term
// (legacy: before their deletion instant), after it by subscription ID.
// A legacy subscription whose current period was not billed pays the
// rest of it (legacy.go); no other money.
func (m *Model) ReactivateTyped(s *Sub, now time.Time) Outcome {
	if s.Is(TypeLegacy) && !now.Before(s.Ext.DeleteAt) {
		return Outcome{Rejected: RejectDataDeleted}
	}
	if s.Ext != nil && s.Ext.Base != nil && s.Ext.Base.Status == Suspended {
		return Outcome{Rejected: RejectBaseSuspended}
	}
	var out Outcome
	out.Bills = append(out.Bills, m.reactivateOne(s, now)...)
	for _, a := range s.LiveAddons() {
		if a.Status != Suspended || !a.Ext.WithBase {
			continue
		}
		if a.Is(TypeLegacy) && !now.Before(a.Ext.DeleteAt) || !a.Is(TypeLegacy) && !now.Before(a.termEndsAt()) {
			continue
		}
		out.Bills = append(out.Bills, m.reactivateOne(a, now)...)
	}
	return out
}

func (m *Model) reactivateOne(s *Sub, now time.Time) []Bill {
	s.Status = Active
	if s.Ext == nil {
		return nil
	}
	s.Ext.WithBase = false
	if s.Is(TypeLegacy) {
		return m.reactivateLegacy(s, now)
	}
	return nil
}
