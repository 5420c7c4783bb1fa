package simulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Mix weighs the kinds of commands the load generator sends to customers
// that already exist. A kind that does not apply to the customer picked
// (nothing to reactivate, no window open) falls back to the next one that
// does, so the weights are targets, not exact shares.
type Mix map[string]int

// kind is one kind of command the load generator sends: its name in a
// Mix, its weight in DefaultMix, and its builder, which returns the
// action for the customer at now, or false when the kind does not apply
// to it (nothing to reactivate, no window open, ...).
type kind struct {
	name   string
	weight int
	build  func(g *Generator, k string, c *model.Customer, now time.Time) (Action, bool, error)
}

// kinds is every kind, in the order they are tried when the one drawn does
// not apply. The weights are a reseller's ordinary day: mostly purchases
// and license changes, some suspensions, cancellations in and out of the
// window, a few upgrades, trials and transfers to another partner, a few
// Azure reservations bought, cancelled and exchanged. A new
// kind is a row here and its builder in a file of its area (gen_*.go,
// transfer.go).
var kinds = []kind{
	{"buy", 18, (*Generator).tryBuy},
	// The other commerce types (gen_addons.go, gen_legacy.go,
	// gen_marketplace.go, gen_software.go).
	{"addon_buy", 2, (*Generator).tryAddonBuy},
	{"addon_change", 3, (*Generator).tryAddonChange},
	{"legacy_buy", 1, (*Generator).tryLegacyBuy},
	{"legacy_change", 3, (*Generator).tryLegacyChange},
	{"marketplace_change", 2, (*Generator).tryMarketplaceChange},
	{"marketplace_buy", 1, (*Generator).tryMarketplaceBuy},
	{"software_cancel", 2, (*Generator).trySoftwareCancel},
	{"software_buy", 1, (*Generator).trySoftwareBuy},
	// Expected rejections last, after kinds that nearly always apply, so
	// that they are seldom the fallback of a kind that did not apply; the
	// block follows buy, which seldom fails, so that it is seldom the
	// fallback of the ordinary kinds either.
	{"addon_limit", 1, (*Generator).tryAddonLimit},
	{"marketplace_unavailable", 1, (*Generator).tryMarketplaceUnavailable},
	{"trial", 3, (*Generator).tryTrial},
	// in_renewal applies only at a step inside a renewal's processing
	// window (00:17) to a customer with a renewal pending: its weight is
	// high for how rarely it applies, and when it does not, increase,
	// the commonest kind, is tried next.
	{"in_renewal", 8, (*Generator).tryInRenewal},
	{"increase", 25, (*Generator).tryIncrease},
	{"decrease", 10, (*Generator).tryDecrease},
	{"decrease_closed", 3, (*Generator).tryDecreaseClosed},
	{"suspend", 6, (*Generator).trySuspend},
	{"reactivate", 6, (*Generator).tryReactivate},
	{"autorenew_on", 4, (*Generator).tryAutoRenew},
	{"autorenew_off", 3, (*Generator).tryAutoRenew},
	{"cancel", 6, (*Generator).tryCancel},
	{"cancel_closed", 4, (*Generator).tryCancel},
	{"upgrade", 4, (*Generator).tryUpgrade},
	{"transfer", 1, (*Generator).tryTransfer},
	{"schedule_set", 3, (*Generator).trySchedule},
	{"schedule_delete", 1, (*Generator).tryScheduleDelete},
	{"schedule_refused", 1, (*Generator).tryScheduleRefused},
	{"upgrade_renewal", 1, (*Generator).tryUpgradeAtRenewal},
	{"trial_convert", 2, (*Generator).tryTrialConvert},
	{"trial_convert_into", 2, (*Generator).tryTrialConvertInto},
	{"trial_schedule", 2, (*Generator).tryTrialSchedule},
	{"upgrade_partial", 2, (*Generator).tryUpgradePartial},
	{"upgrade_into", 3, (*Generator).tryUpgradeInto},
	{"upgrade_into_refused", 1, (*Generator).tryUpgradeIntoRefused},
	{"trial_convert_short", 1, (*Generator).tryTrialConvertShort},
	{"reservation_buy", 2, (*Generator).tryReservationBuy},
	{"reservation_cap", 1, (*Generator).tryReservationCap},
	{"reservation_forbidden", 1, (*Generator).tryReservationForbidden},
	{"reservation_cancel", 2, (*Generator).tryReservationCancel},
	{"reservation_cancel_early", 2, (*Generator).tryReservationCancel},
	{"reservation_exchange", 2, (*Generator).tryReservationExchange},
	{"reservation_unavailable", 1, (*Generator).tryReservationUnavailable},
	// Transfers that end otherwise than completed (transfer.go): declined
	// or expired relationship requests, withdrawn, rejected or expired
	// transfer requests, each then tried once more and refused.
	{"relationship_declined", 1, (*Generator).tryTransfer},
	{"relationship_expired", 1, (*Generator).tryTransfer},
	{"transfer_withdrawn", 1, (*Generator).tryTransfer},
	{"transfer_rejected", 1, (*Generator).tryTransfer},
	{"transfer_expired", 1, (*Generator).tryTransfer},
	// Bases under their add-ons (gen_addon_bases.go): ORD-7/ORD-8
	// rejections of base decreases and cancellations, co-terminous
	// add-ons cancelled with their base (ORD-9).
	{"addon_base", 2, (*Generator).tryAddonBase},
}

// DefaultMix is every kind at its default weight.
var DefaultMix = defaultMix()

func defaultMix() Mix {
	m := Mix{}
	for _, k := range kinds {
		m[k.name] = k.weight
	}
	return m
}

func kindNames() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	return names
}

// ParseMix reads "buy=20,increase=30,..."; kinds not named keep weight 0.
func ParseMix(s string) (Mix, error) {
	if s == "" {
		return DefaultMix, nil
	}
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || !slices.Contains(kindNames(), k) {
			return nil, fmt.Errorf("mix entry %q: want kind=weight with kind one of %s", part, strings.Join(kindNames(), ", "))
		}
		m[k] = n
	}
	return m, nil
}

// country is where a generated customer lives and pays.
type country struct{ code, currency string }

var countries = []country{{"US", "USD"}, {"DE", "EUR"}, {"GB", "GBP"}, {"JP", "JPY"}, {"AU", "AUD"}, {"FR", "EUR"}}

// Generator picks the next command of each customer from the model's view
// of it, following the mix.
type Generator struct {
	Model   *model.Model
	Catalog *catalog.Catalog
	Mix     Mix
	Partner string
	// Target is the partner subscriptions are transferred to (TRF-1).
	Target string
	// MaxSubscriptions keeps customers below ORD-12's limit.
	MaxSubscriptions int
	rng              *rand.Rand
	offers           []*catalog.Offer // paid new-commerce license offers sold to commercial customers
	trials           []*catalog.Offer
	seq              map[string]int
	transfers        map[string]*transferSaga // by customer ID
	newCustomers     int                      // made by NewCustomer (gen_reservations.go)
}

// NewGenerator prepares the offers the mix buys from the catalog.
func NewGenerator(m *model.Model, cat *catalog.Catalog, mix Mix, partner string, seed uint64) *Generator {
	g := &Generator{Model: m, Catalog: cat, Mix: mix, Partner: partner, Target: TransferTarget(partner), MaxSubscriptions: 30,
		rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), seq: map[string]int{}, transfers: map[string]*transferSaga{}}
	for i := range cat.Offers {
		o := &cat.Offers[i]
		if o.CommerceType != "new_commerce" || o.BillingType != "license" || o.OnePerCustomer ||
			o.Addon != nil || !slices.Contains(o.Segments, "commercial") || (o.Trial == nil && o.MinQuantity > 1) {
			continue
		}
		switch {
		case o.Trial != nil:
			g.trials = append(g.trials, o)
		case !o.Free:
			g.offers = append(g.offers, o)
		}
	}
	return g
}

// NewCustomer returns a customer not yet created, and its create command.
func (g *Generator) NewCustomer(id string) *model.Customer {
	c := countries[g.rng.IntN(len(countries))]
	if rc, ok := g.reservationCustomer(); ok {
		c = rc
	}
	cust := &model.Customer{ID: id, Partner: g.Partner, Country: c.code, Currency: c.currency}
	if g.rng.IntN(3) == 0 { // some state their first billing date (SUS-2's retention)
		cust.FirstBillingGap = 1 + g.rng.IntN(45)
	}
	return cust
}

func (g *Generator) command(c *model.Customer, typ messages.CommandType, data any) messages.Command {
	g.seq[c.ID]++
	return messages.Command{ID: fmt.Sprintf("%s-%d", c.ID, g.seq[c.ID]), Type: typ, CustomerID: c.ID, Data: data}
}

// Next returns the customer's next action at now.
func (g *Generator) Next(c *model.Customer, now time.Time) (Action, error) {
	if !c.Created {
		data := &messages.CustomerCreatedData{CompanyName: "Simulated " + c.ID, Segment: "commercial", Country: c.Country, Currency: c.Currency,
			TestClockID: c.TestClock}
		if c.FirstBillingGap > 0 {
			data.FirstBillingDate = now.UTC().AddDate(0, 0, c.FirstBillingGap).Format(time.DateOnly)
		}
		return Action{Customer: c, Kind: "create", Expected: g.Model.CreateCustomer(c),
			Command: g.command(c, messages.CmdCustomerCreated, data)}, nil
	}
	if a, ok, err := g.continueTransfer(c, now); err != nil || ok {
		return a, err
	}
	if a, ok, err := g.onlyUnavailable(c, now); err != nil || ok {
		return a, err
	}
	total := 0
	for _, k := range kinds {
		total += g.Mix[k.name]
	}
	if total == 0 {
		return Action{}, fmt.Errorf("the mix has no weight")
	}
	r := g.rng.IntN(total)
	start := 0
	for i, k := range kinds {
		if r < g.Mix[k.name] {
			start = i
			break
		}
		r -= g.Mix[k.name]
	}
	for i := range kinds {
		k := kinds[(start+i)%len(kinds)]
		if g.Mix[k.name] == 0 {
			continue
		}
		if a, ok, err := k.build(g, k.name, c, now); err != nil || ok {
			return a, err
		}
	}
	return g.buy(c, now)
}

// pick draws one of the customer's subscriptions the generator may change
// at now (model.Sub.Changeable) for which ok holds, or nil.
func (g *Generator) pick(c *model.Customer, now time.Time, ok func(*model.Sub) bool) *model.Sub {
	var cands []*model.Sub
	for _, s := range c.Subs {
		// A renewal that applies a scheduled change may make a command
		// parked for it invalid (a parked upgrade whose target the
		// scheduled upgrade already reached): the model does not predict
		// that, so such a subscription is left alone until it renewed. The
		// other commerce types have kinds of their own (gen_types.go).
		if s.Changeable(now) && !(s.Renewing() && s.Scheduled != nil) && s.Ext == nil && ok(s) {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	return cands[g.rng.IntN(len(cands))]
}

// act is the action of kind k sending a command about s, with the model's
// prediction of it.
func (g *Generator) act(k string, c *model.Customer, s *model.Sub, typ messages.CommandType, data any, out model.Outcome) (Action, bool, error) {
	return Action{Customer: c, Partner: s.Partner, Kind: k, Sub: s, Expected: out, Command: g.command(c, typ, data)}, true, nil
}

func active(s *model.Sub) bool { return s.Status == model.Active }
