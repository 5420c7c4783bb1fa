package simulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
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

// DefaultMix is a reseller's ordinary day: mostly purchases and license
// changes, some suspensions, cancellations in and out of the window, a few
// upgrades, trials and transfers to another partner.
var DefaultMix = Mix{
	"buy": 18, "trial": 3, "increase": 25, "decrease": 10, "decrease_closed": 3,
	"suspend": 6, "reactivate": 6, "autorenew_on": 4, "autorenew_off": 3,
	"cancel": 6, "cancel_closed": 4, "upgrade": 4, "transfer": 1,
}

// mixKinds is the order kinds are tried in.
var mixKinds = []string{"buy", "trial", "increase", "decrease", "decrease_closed", "suspend", "reactivate",
	"autorenew_on", "autorenew_off", "cancel", "cancel_closed", "upgrade", "transfer"}

// ParseMix reads "buy=20,increase=30,..."; kinds not named keep weight 0.
func ParseMix(s string) (Mix, error) {
	if s == "" {
		return DefaultMix, nil
	}
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || !slices.Contains(mixKinds, k) {
			return nil, fmt.Errorf("mix entry %q: want kind=weight with kind one of %s", part, strings.Join(mixKinds, ", "))
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
	return &model.Customer{ID: id, Partner: g.Partner, Country: c.code, Currency: c.currency}
}

func (g *Generator) command(c *model.Customer, typ messages.CommandType, data any) messages.Command {
	g.seq[c.ID]++
	return messages.Command{ID: fmt.Sprintf("%s-%d", c.ID, g.seq[c.ID]), Type: typ, CustomerID: c.ID, Data: data}
}

// Next returns the customer's next action at now.
func (g *Generator) Next(c *model.Customer, now time.Time) (Action, error) {
	if !c.Created {
		return Action{Customer: c, Kind: "create", Expected: g.Model.CreateCustomer(c),
			Command: g.command(c, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
				CompanyName: "Simulated " + c.ID, Segment: "commercial", Country: c.Country, Currency: c.Currency})}, nil
	}
	if a, ok, err := g.continueTransfer(c, now); err != nil || ok {
		return a, err
	}
	total := 0
	for _, k := range mixKinds {
		total += g.Mix[k]
	}
	if total == 0 {
		return Action{}, fmt.Errorf("the mix has no weight")
	}
	r := g.rng.IntN(total)
	start := 0
	for i, k := range mixKinds {
		if r < g.Mix[k] {
			start = i
			break
		}
		r -= g.Mix[k]
	}
	for i := range mixKinds {
		k := mixKinds[(start+i)%len(mixKinds)]
		if g.Mix[k] == 0 {
			continue
		}
		if a, ok, err := g.try(k, c, now); err != nil || ok {
			return a, err
		}
	}
	return g.buy(c, now)
}

// try builds an action of kind k for c if one applies.
func (g *Generator) try(k string, c *model.Customer, now time.Time) (Action, bool, error) {
	pick := func(ok func(*model.Sub) bool) *model.Sub {
		var cands []*model.Sub
		for _, s := range c.Subs {
			if s.Changeable(now) && ok(s) {
				cands = append(cands, s)
			}
		}
		if len(cands) == 0 {
			return nil
		}
		return cands[g.rng.IntN(len(cands))]
	}
	active := func(s *model.Sub) bool { return s.Status == model.Active }
	act := func(s *model.Sub, typ messages.CommandType, data any, out model.Outcome) (Action, bool, error) {
		return Action{Customer: c, Partner: s.Partner, Kind: k, Sub: s, Expected: out, Command: g.command(c, typ, data)}, true, nil
	}
	switch k {
	case "buy":
		if len(c.Subs) >= g.MaxSubscriptions {
			return Action{}, false, nil
		}
		a, err := g.buy(c, now)
		return a, err == nil, err
	case "trial":
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
	case "increase":
		if s := pick(func(s *model.Sub) bool { return active(s) && s.Qty < g.maxQty(s.Offer) }); s != nil {
			q := min(s.Qty+1+g.rng.IntN(5), g.maxQty(s.Offer))
			return act(s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
		}
	case "decrease":
		if s := pick(func(s *model.Sub) bool { return active(s) && s.Qty > 1 && s.Reducible(now) > 0 }); s != nil {
			n := 1 + g.rng.IntN(min(s.Reducible(now), s.Qty-1))
			q := s.Qty - n
			return act(s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
		}
	case "decrease_closed": // QTY-2: more than the licenses still in their window
		if s := pick(func(s *model.Sub) bool { return active(s) && s.Qty > s.Reducible(now)+1 }); s != nil {
			q := s.Qty - s.Reducible(now) - 1
			return act(s, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, g.Model.ChangeQuantity(s, now, q))
		}
	case "suspend":
		if s := pick(active); s != nil {
			return act(s, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s.ID, Reason: messages.ReasonNonPayment}, g.Model.Suspend(s))
		}
	case "reactivate":
		if s := pick(func(s *model.Sub) bool { return s.Status == model.Suspended }); s != nil {
			return act(s, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s.ID}, g.Model.Reactivate(s))
		}
	case "autorenew_on", "autorenew_off":
		on := k == "autorenew_on"
		if s := pick(func(s *model.Sub) bool { return active(s) && s.AutoRenew != on }); s != nil {
			return act(s, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s.ID, Enabled: &on}, g.Model.SetAutoRenew(s, on))
		}
	case "cancel", "cancel_closed":
		in := k == "cancel"
		if s := pick(func(s *model.Sub) bool { return s.InWindow(now) == in }); s != nil {
			return act(s, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, g.Model.Cancel(s, now))
		}
	case "upgrade":
		var targets []string
		s := pick(func(s *model.Sub) bool {
			targets = g.upgradeTargets(c, s)
			return active(s) && s.Partner == c.Partner && len(targets) > 0
		})
		if s != nil {
			targets = g.upgradeTargets(c, s)
			target := targets[g.rng.IntN(len(targets))]
			out, err := g.Model.UpgradeAll(s, now, target)
			if err != nil {
				return Action{}, false, err
			}
			return act(s, messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: target}, out)
		}
	case "transfer":
		if s := pick(func(s *model.Sub) bool { return transferable(c, s, now) }); s != nil && g.transfers[c.ID] == nil {
			return g.startTransfer(c, s), true, nil
		}
	}
	return Action{}, false, nil
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
