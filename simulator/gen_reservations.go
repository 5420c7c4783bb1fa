package simulator

import (
	"fmt"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Builders of the Azure reservation kinds (see kinds in generator.go):
// purchases of every plan the catalog sells, cancellations (CAN-5) early
// and late, exchanges (CAN-6, chains of them), the refund cap provoked
// with large reservations, roles without the right (ROL-1) and customers
// in a market where reservations are not sold (ORD-5).

// unavailableMarket is the billing country of the customers created for
// the reservation_unavailable kind (ORD-5): Réunion, billed in EUR. The
// generator's own countries are all markets where reservations are sold.
var unavailableMarket = country{"RE", "EUR"}

// unavailableShare: the first customer and then one in this many is
// created in unavailableMarket when the mix has reservation_unavailable.
const unavailableShare = 100

// orderRoles may place an order with a reservation line: a subscription
// role (the order) that is also a reservation role (the line), ROL-1.
var orderRoles = []messages.Role{messages.RoleAdminAgent, messages.RoleHelpdeskAgent, messages.RoleSalesAgent}

// reservationRoles may cancel or exchange a reservation (ROL-1).
var reservationRoles = []messages.Role{messages.RoleAdminAgent, messages.RoleGlobalAdmin, messages.RoleHelpdeskAgent,
	messages.RoleSalesAgent, messages.RoleUserManagementAdmin}

// reservationCustomer picks the country of a new customer: now and then
// one in an unavailable market, when the mix provokes ORD-5.
func (g *Generator) reservationCustomer() (country, bool) {
	g.newCustomers++
	if g.Mix["reservation_unavailable"] == 0 || (g.newCustomers-1)%unavailableShare != 0 {
		return country{}, false
	}
	return unavailableMarket, true
}

// onlyUnavailable: a customer in an unavailable market is there for
// ORD-5 alone; it sends nothing else.
func (g *Generator) onlyUnavailable(c *model.Customer, now time.Time) (Action, bool, error) {
	if !g.Model.UnavailableMarket(c.Country) {
		return Action{}, false, nil
	}
	return g.tryReservationUnavailable("reservation_unavailable", c, now)
}

func (g *Generator) reservationOffers() []*catalog.Offer {
	var out []*catalog.Offer
	for i := range g.Catalog.Offers {
		o := &g.Catalog.Offers[i]
		if o.CommerceType == catalog.CommerceTypeReservation && o.Reservation != nil && slices.Contains(o.Segments, "commercial") {
			out = append(out, o)
		}
	}
	return out
}

// reservationPlans are the offer's plans priced in currency.
func reservationPlans(o *catalog.Offer, currency string) []catalog.Plan {
	var out []catalog.Plan
	for _, p := range o.Plans {
		if _, ok := p.Prices[currency]; ok {
			out = append(out, p)
		}
	}
	return out
}

func pickRole(g *Generator, roles []messages.Role) messages.Role {
	return roles[g.rng.IntN(len(roles))]
}

// reservationLine is an order line of a reservation: scope single with an
// Azure subscription GUID, or shared (RES-1).
func (g *Generator) reservationLine(o *catalog.Offer, p catalog.Plan, q int) messages.OrderLine {
	line := messages.OrderLine{LineID: "L1", OfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency,
		Scope: messages.ScopeShared}
	if g.rng.IntN(2) == 0 {
		a, b := g.rng.Uint64(), g.rng.Uint64()
		line.Scope = messages.ScopeSingle
		line.AzureSubscriptionID = fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a), uint16(a>>32), uint16(a>>48)&0xfff,
			0x8000|uint16(b)&0x3fff, b>>16&0xffffffffffff)
	}
	return line
}

// buyReservation orders qty of offer o on plan p in role.
func (g *Generator) buyReservation(k string, c *model.Customer, now time.Time, o *catalog.Offer, p catalog.Plan, q int, role messages.Role) (Action, bool, error) {
	cmd := g.command(c, messages.CmdOrderPlaced, nil)
	order := "O-" + cmd.ID
	s, out, err := g.Model.BuyReservation(c, now, order, "L1", o.ID, p.Term, p.BillingFrequency, q, string(role))
	if err != nil {
		return Action{}, false, err
	}
	cmd.Data = &messages.OrderPlacedData{OrderID: order, Lines: []messages.OrderLine{g.reservationLine(o, p, q)}}
	return Action{Customer: c, Role: role, Kind: k, Sub: s, Expected: out, Command: cmd}, true, nil
}

// tryReservationBuy buys 1-5 instances of a reservation on any plan sold
// in the customer's currency (RES-1, ORD-14).
func (g *Generator) tryReservationBuy(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	offers := g.reservationOffers()
	if len(c.Subs) >= g.MaxSubscriptions || len(offers) == 0 {
		return Action{}, false, nil
	}
	o := offers[g.rng.IntN(len(offers))]
	plans := reservationPlans(o, c.Currency)
	if len(plans) == 0 {
		return Action{}, false, nil
	}
	q := min(1+g.rng.IntN(5), o.MaxQuantity)
	return g.buyReservation(k, c, now, o, plans[g.rng.IntN(len(plans))], q, pickRole(g, orderRoles))
}

// pickReservation draws one of the customer's live reservations for which
// ok holds.
func (g *Generator) pickReservation(c *model.Customer, now time.Time, ok func(*model.Sub) bool) *model.Sub {
	var cands []*model.Sub
	for _, s := range c.Subs {
		if s.ReservationLive(now) && ok(s) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[g.rng.IntN(len(cands))]
}

func (g *Generator) cancelReservation(k string, c *model.Customer, now time.Time, s *model.Sub, role messages.Role) (Action, bool, error) {
	used := g.rng.IntN(2) == 0
	return Action{Customer: c, Partner: s.Partner, Role: role, Kind: k, Sub: s,
		Expected: g.Model.CancelReservation(c, s, now, used, string(role)),
		Command:  g.command(c, messages.CmdReservationCancel, &messages.ReservationCancelData{SubscriptionID: s.ID, Used: &used})}, true, nil
}

// tryReservationCancel cancels any live reservation, used or not (CAN-5);
// reservation_cancel_early only one inside its chain's full-refund days.
func (g *Generator) tryReservationCancel(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	early := k == "reservation_cancel_early"
	s := g.pickReservation(c, now, func(s *model.Sub) bool { return !early || s.WithinFullRefundDays(now) })
	if s == nil {
		return Action{}, false, nil
	}
	return g.cancelReservation(k, c, now, s, pickRole(g, reservationRoles))
}

// tryReservationExchange exchanges a live reservation (bought or itself
// exchanged: chains) for 1-5 instances of a reservation of the same
// resource type on any plan (CAN-6).
func (g *Generator) tryReservationExchange(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	s := g.pickReservation(c, now, func(*model.Sub) bool { return true })
	if s == nil {
		return Action{}, false, nil
	}
	var targets []*catalog.Offer
	for _, o := range g.reservationOffers() {
		if o.Reservation.ResourceType == s.Res.ResourceType && len(reservationPlans(o, c.Currency)) > 0 {
			targets = append(targets, o)
		}
	}
	if len(targets) == 0 {
		return Action{}, false, nil
	}
	o := targets[g.rng.IntN(len(targets))]
	plans := reservationPlans(o, c.Currency)
	p := plans[g.rng.IntN(len(plans))]
	q := min(1+g.rng.IntN(5), o.MaxQuantity)
	role := pickRole(g, reservationRoles)
	n, out, err := g.Model.ExchangeReservation(c, s, now, o.ID, p.Term, p.BillingFrequency, q, string(role))
	if err != nil {
		return Action{}, false, err
	}
	return Action{Customer: c, Partner: s.Partner, Role: role, Kind: k, Sub: s, Created: n, Expected: out,
		Command: g.command(c, messages.CmdReservationExchange, &messages.ReservationExchangeData{SubscriptionID: s.ID,
			TargetOfferID: o.ID, Quantity: &q, Term: p.Term, BillingFrequency: p.BillingFrequency})}, true, nil
}

// tryReservationCap provokes CAN-5's refund cap: it cancels a reservation
// whose refund would pass the customer's headroom (rejected, stating the
// headroom), or buys one large enough that it will: instances of the
// dearest up-front plan worth twice the cap.
func (g *Generator) tryReservationCap(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	used := false
	if s := g.pickReservation(c, now, func(s *model.Sub) bool {
		credit, _ := g.Model.ReservationCredit(s, now, used)
		return g.Model.PassesCap(c, now, credit)
	}); s != nil {
		role := pickRole(g, reservationRoles)
		return Action{Customer: c, Partner: s.Partner, Role: role, Kind: k, Sub: s,
			Expected: g.Model.CancelReservation(c, s, now, used, string(role)),
			Command:  g.command(c, messages.CmdReservationCancel, &messages.ReservationCancelData{SubscriptionID: s.ID, Used: &used})}, true, nil
	}
	if len(c.Subs) >= g.MaxSubscriptions {
		return Action{}, false, nil
	}
	var best *catalog.Offer
	var plan catalog.Plan
	for _, o := range g.reservationOffers() {
		for _, p := range reservationPlans(o, c.Currency) {
			if p.BillingFrequency == catalog.BillingOneTime && (best == nil || p.Prices[c.Currency] > plan.Prices[c.Currency]) {
				best, plan = o, p
			}
		}
	}
	if best == nil {
		return Action{}, false, nil
	}
	q := 1
	for q < best.MaxQuantity && g.Model.CapCounted(c.Currency, plan.Prices[c.Currency]*int64(q)) <= 2*g.Catalog.Policy.Reservations.RefundCapMinor {
		q++
	}
	return g.buyReservation(k, c, now, best, plan, q, pickRole(g, orderRoles))
}

// tryReservationForbidden sends a reservation command in a role that may
// not manage reservations (ROL-1): a billing admin's order of one (the
// order role is right, the line's is not), or its cancellation.
func (g *Generator) tryReservationForbidden(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if s := g.pickReservation(c, now, func(*model.Sub) bool { return true }); s != nil && g.rng.IntN(2) == 0 {
		return g.cancelReservation(k, c, now, s, messages.RoleBillingAdmin)
	}
	offers := g.reservationOffers()
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	o := offers[g.rng.IntN(len(offers))]
	plans := reservationPlans(o, c.Currency)
	if len(plans) == 0 {
		return Action{}, false, nil
	}
	return g.buyReservation(k, c, now, o, plans[g.rng.IntN(len(plans))], 1, messages.RoleBillingAdmin)
}

// tryReservationUnavailable orders a reservation for a customer in a
// market where none is sold (ORD-5); it applies to those customers only.
func (g *Generator) tryReservationUnavailable(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	if !g.Model.UnavailableMarket(c.Country) {
		return Action{}, false, nil
	}
	offers := g.reservationOffers()
	if len(offers) == 0 {
		return Action{}, false, nil
	}
	o := offers[g.rng.IntN(len(offers))]
	plans := reservationPlans(o, c.Currency)
	if len(plans) == 0 {
		return Action{}, false, nil
	}
	return g.buyReservation(k, c, now, o, plans[g.rng.IntN(len(plans))], 1+g.rng.IntN(3), pickRole(g, orderRoles))
}
