package simulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// Scenario is a scripted customer story (simulator/scenarios/*.json): named
// customers and their commands at offsets from a start instant, each
// checked against the model like a load run's, plus what the story itself
// expects.
type Scenario struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	Start       time.Time          `json:"start"`
	Until       string             `json:"until,omitempty"`
	Customers   []ScenarioCustomer `json:"customers"`
	Steps       []ScenarioStep     `json:"steps"`
	// until is Until parsed (0: stop after the last step).
	until time.Duration
}

// ScenarioCustomer is created at the scenario's start, before any step.
type ScenarioCustomer struct {
	ID       string `json:"id"`
	Country  string `json:"country"`
	Currency string `json:"currency"`
}

// ScenarioStep is one command of the story. Which fields a step takes
// depends on Do (stepFields).
type ScenarioStep struct {
	At       string `json:"at"`
	Customer string `json:"customer"`
	Do       string `json:"do"`
	Offer    string `json:"offer,omitempty"`
	Term     string `json:"term,omitempty"`
	Billing  string `json:"billing,omitempty"`
	Quantity *int   `json:"quantity,omitempty"`
	As       string `json:"as,omitempty"`
	Sub      string `json:"sub,omitempty"`
	Enabled  *bool  `json:"enabled,omitempty"`
	Target   string `json:"target,omitempty"`
	// Expect is the rejection code the story expects; absent or "" means
	// accepted.
	Expect *string `json:"expect,omitempty"`
	// offset is At parsed.
	offset time.Duration
}

// stepFields lists, per kind of step, the optional fields it requires
// (required) and the ones it may carry (allowed); any other set field is an
// error, so a typo'd story fails at load rather than running differently.
var stepFields = map[string]struct{ required, allowed []string }{
	"buy":        {required: []string{"offer", "term", "billing", "quantity"}, allowed: []string{"as"}},
	"trial":      {required: []string{"offer"}, allowed: []string{"as"}},
	"quantity":   {required: []string{"sub", "quantity"}},
	"suspend":    {required: []string{"sub"}},
	"reactivate": {required: []string{"sub"}},
	"autorenew":  {required: []string{"sub", "enabled"}},
	"cancel":     {required: []string{"sub"}},
	"upgrade":    {required: []string{"sub", "target"}},
}

// LoadScenario reads and validates a scenario file strictly: unknown
// fields, malformed offsets, fields a step's kind does not take, and
// references to customers or subscriptions the story has not introduced
// are errors naming the step (steps[i], 0-based) and the field.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc, err := parseScenario(b)
	if err != nil {
		return nil, fmt.Errorf("scenario %s: %w", path, err)
	}
	return sc, nil
}

func parseScenario(b []byte) (*Scenario, error) {
	// Customers and steps are decoded one by one so that an unknown field
	// is reported with the index of the entry holding it.
	var raw struct {
		Name        string            `json:"name"`
		Description string            `json:"description"`
		Start       time.Time         `json:"start"`
		Until       string            `json:"until,omitempty"`
		Customers   []json.RawMessage `json:"customers"`
		Steps       []json.RawMessage `json:"steps"`
	}
	if err := strictDecode(b, &raw); err != nil {
		return nil, err
	}
	sc := &Scenario{Name: raw.Name, Description: raw.Description, Start: raw.Start, Until: raw.Until}
	if sc.Name == "" {
		return nil, errors.New("name: required")
	}
	if sc.Start.IsZero() {
		return nil, errors.New("start: required (RFC 3339)")
	}
	if len(raw.Customers) == 0 || len(raw.Steps) == 0 {
		return nil, errors.New("customers and steps: at least one of each is required")
	}
	customers := map[string]bool{}
	for i, m := range raw.Customers {
		var c ScenarioCustomer
		if err := strictDecode(m, &c); err != nil {
			return nil, fmt.Errorf("customers[%d]: %w", i, err)
		}
		switch {
		case c.ID == "":
			return nil, fmt.Errorf("customers[%d].id: required", i)
		case customers[c.ID]:
			return nil, fmt.Errorf("customers[%d].id: %q declared twice", i, c.ID)
		case len(c.Country) != 2:
			return nil, fmt.Errorf("customers[%d].country: want a two-letter code, got %q", i, c.Country)
		case len(c.Currency) != 3:
			return nil, fmt.Errorf("customers[%d].currency: want a three-letter code, got %q", i, c.Currency)
		}
		customers[c.ID] = true
		sc.Customers = append(sc.Customers, c)
	}
	for i, m := range raw.Steps {
		var s ScenarioStep
		if err := strictDecode(m, &s); err != nil {
			return nil, fmt.Errorf("steps[%d]: %w", i, err)
		}
		if err := s.validate(customers); err != nil {
			return nil, fmt.Errorf("steps[%d].%w", i, err)
		}
		sc.Steps = append(sc.Steps, s)
	}
	if err := sc.checkReferences(); err != nil {
		return nil, err
	}
	if sc.Until != "" {
		d, err := parseOffset(sc.Until)
		if err != nil {
			return nil, fmt.Errorf("until: %w", err)
		}
		if last := sc.Steps[sc.order()[len(sc.Steps)-1]].offset; d < last {
			return nil, fmt.Errorf("until: %s is before the last step (%s)", sc.Until, last)
		}
		sc.until = d
	}
	return sc, nil
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// validate checks one step on its own; the error starts with the field's
// name (the caller prefixes the step).
func (s *ScenarioStep) validate(customers map[string]bool) error {
	off, err := parseOffset(s.At)
	if err != nil {
		return fmt.Errorf("at: %w", err)
	}
	s.offset = off
	if !customers[s.Customer] {
		return fmt.Errorf("customer: %q is not among the scenario's customers", s.Customer)
	}
	if s.Do == "create" {
		return errors.New("do: customers are created at the start, before any step; no create step is needed")
	}
	spec, ok := stepFields[s.Do]
	if !ok {
		kinds := make([]string, 0, len(stepFields))
		for k := range stepFields {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		return fmt.Errorf("do: %q is not one of %s", s.Do, strings.Join(kinds, ", "))
	}
	set := map[string]bool{"offer": s.Offer != "", "term": s.Term != "", "billing": s.Billing != "",
		"quantity": s.Quantity != nil, "as": s.As != "", "sub": s.Sub != "", "enabled": s.Enabled != nil, "target": s.Target != ""}
	for _, f := range spec.required {
		if !set[f] {
			return fmt.Errorf("%s: required for %s", f, s.Do)
		}
	}
	for _, f := range []string{"offer", "term", "billing", "quantity", "as", "sub", "enabled", "target"} {
		if set[f] && !slices.Contains(spec.required, f) && !slices.Contains(spec.allowed, f) {
			return fmt.Errorf("%s: not used by %s", f, s.Do)
		}
	}
	if s.Quantity != nil && *s.Quantity < 1 {
		return fmt.Errorf("quantity: want at least 1, got %d", *s.Quantity)
	}
	return nil
}

// checkReferences: every "as" names one subscription, and every "sub"
// names one bought by the same customer at an earlier instant (its
// processor ID is only known once the purchase's events are in).
func (sc *Scenario) checkReferences() error {
	type named struct {
		step     int
		customer string
		at       time.Duration
	}
	names := map[string]named{}
	for i, s := range sc.Steps {
		if s.As == "" {
			continue
		}
		if prev, dup := names[s.As]; dup {
			return fmt.Errorf("steps[%d].as: %q already names the subscription of steps[%d]", i, s.As, prev.step)
		}
		names[s.As] = named{i, s.Customer, s.offset}
	}
	for i, s := range sc.Steps {
		if s.Sub == "" {
			continue
		}
		n, ok := names[s.Sub]
		switch {
		case !ok:
			return fmt.Errorf("steps[%d].sub: unknown subscription %q (no step names it with \"as\")", i, s.Sub)
		case n.customer != s.Customer:
			return fmt.Errorf("steps[%d].sub: %q is customer %s's subscription, not %s's", i, s.Sub, n.customer, s.Customer)
		case s.offset <= n.at:
			return fmt.Errorf("steps[%d].sub: %q is bought at %s (steps[%d]); refer to it at a later instant", i, s.Sub, sc.Steps[n.step].At, n.step)
		}
	}
	return nil
}

// parseOffset reads a Go duration optionally preceded by whole days:
// "30d", "26h30m", "365d14h".
func parseOffset(s string) (time.Duration, error) {
	var d time.Duration
	rest := strings.TrimSpace(s)
	if rest == "" {
		return 0, errors.New("empty offset")
	}
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		days, err := strconv.Atoi(rest[:i])
		if err != nil || days < 0 {
			return 0, fmt.Errorf("bad offset %q: want whole days before \"d\"", s)
		}
		d, rest = time.Duration(days)*24*time.Hour, rest[i+1:]
	}
	if rest != "" {
		v, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("bad offset %q: %v", s, err)
		}
		d += v
	}
	if d < 0 {
		return 0, fmt.Errorf("bad offset %q: negative", s)
	}
	return d, nil
}

// order is the steps' indexes in the order they run: by offset, file order
// within an instant.
func (sc *Scenario) order() []int {
	idx := make([]int, len(sc.Steps))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return sc.Steps[idx[a]].offset < sc.Steps[idx[b]].offset })
	return idx
}

func (s *ScenarioStep) label(i int) string {
	l := fmt.Sprintf("steps[%d] %s %s %s", i, s.At, s.Customer, s.Do)
	if s.Sub != "" {
		l += " " + s.Sub
	}
	if s.As != "" {
		l += " as " + s.As
	}
	return l
}

// RunScenario plays the story against the processor: the customers are
// created at the start, then the clock moves from one step's instant to
// the next (and on to "until"), so renewals, billing periods and trial
// ends fire in between; at each instant the model's calendar moves, the
// instant's steps are sent in file order, everything is awaited and
// reconciled like a load run's step (mismatches go to r.Rec). Customer
// IDs are prefixed with runID so that command IDs never repeat. It
// returns an error for what cannot run: a processor whose clock is past
// the start (the simulated clock never goes back), or a step the model
// cannot predict (it names the step).
func (r *Runner) RunScenario(ctx context.Context, sc *Scenario, runID string, progress io.Writer) error {
	if runID == "" {
		return errors.New("scenario: a run ID is required")
	}
	if progress == nil {
		progress = io.Discard
	}
	r.cfg = LoadConfig{Start: sc.Start, RunID: runID, Progress: progress}
	if r.diverged == nil {
		r.diverged = map[string]bool{}
	}
	customers := make([]*model.Customer, len(sc.Customers))
	byName := map[string]*model.Customer{}
	for i, c := range sc.Customers {
		customers[i] = &model.Customer{ID: runID + "-" + c.ID, Partner: r.Gen.Partner, Country: c.Country, Currency: c.Currency}
		byName[c.ID] = customers[i]
	}
	r.customers = append(r.customers, customers...)
	order := sc.order()
	instants := []time.Duration{0}
	for _, i := range order {
		if at := sc.Steps[i].offset; at != instants[len(instants)-1] {
			instants = append(instants, at)
		}
	}
	if sc.until > instants[len(instants)-1] {
		instants = append(instants, sc.until)
	}
	subs := map[string]*model.Sub{}
	r.runStart = time.Now()
	next := 0 // into order
	var pause time.Time
	for k, off := range instants {
		now := sc.Start.Add(off)
		if _, err := r.Clock.Advance(ctx, now); err != nil {
			return err
		}
		if !r.Clock.Now.Equal(now) {
			return fmt.Errorf("scenario %q: the processor's simulated clock is at %s, not %s: it never goes back, so run the story against a fresh processor",
				sc.Name, r.Clock.Now.Format(time.RFC3339), now.Format(time.RFC3339))
		}
		if k > 0 {
			r.Rec.Pause(pause, time.Now())
		}
		var timerBills []model.Bill
		var settled []*model.Parked
		for _, c := range customers {
			if c.Created && !r.diverged[c.ID] {
				timerBills = append(timerBills, r.Model.AdvanceTo(c, now)...)
				settled = append(settled, r.Model.Settled(c)...)
			}
		}
		var actions []Action
		var kinds []string
		if k == 0 {
			for _, c := range customers {
				a, err := r.Gen.Next(c, now) // a customer not created yet: its create command
				if err != nil {
					return err
				}
				actions, kinds = append(actions, a), append(kinds, a.Kind)
			}
		}
		for ; next < len(order) && sc.Steps[order[next]].offset == off; next++ {
			i := order[next]
			st := &sc.Steps[i]
			c := byName[st.Customer]
			if r.diverged[c.ID] {
				fmt.Fprintf(progress, "%s  %s: skipped, customer %s's books already disagree\n", now.Format(time.RFC3339), st.label(i), c.ID)
				continue
			}
			a, err := r.scenarioAction(c, st, now, subs)
			if err != nil {
				return fmt.Errorf("scenario %q %s: %w", sc.Name, st.label(i), err)
			}
			// The step's label is the action's kind so that a mismatch
			// names the step; Kinds still counts by kind of command.
			a.Kind = st.label(i)
			actions, kinds = append(actions, a), append(kinds, st.Do)
			fmt.Fprintf(progress, "%s  %s: the model expects %s\n", now.Format(time.RFC3339), a.Kind, expected(a.Expected))
		}
		if err := r.publish(ctx, now, actions); err != nil {
			return err
		}
		for j, a := range actions {
			if a.Kind != kinds[j] {
				delete(r.Kinds, a.Kind)
				r.Kinds[kinds[j]]++
			}
		}
		pause = time.Now()
		if err := r.drain(ctx); err != nil {
			return err
		}
		r.reconcile(actions, timerBills)
		r.reconcileSettled(settled)
	}
	s := r.Rec.Summary(sc.Name, time.Now())
	fmt.Fprintf(progress, "scenario %q: %d steps, %d billing events checked, %d mismatches\n", sc.Name, len(sc.Steps), r.Checked, s.Mismatches)
	return nil
}

// scenarioAction builds the step's command as the generator builds its
// kind, with the model's prediction. Steps the model does not predict (the
// generator never sends them either: commands on trials, on subscriptions
// that are not live or past their term, no-op quantity changes,
// upgrades off the catalog's paths) are refused rather than guessed.
func (r *Runner) scenarioAction(c *model.Customer, st *ScenarioStep, now time.Time, subs map[string]*model.Sub) (Action, error) {
	g := r.Gen
	expect := ""
	if st.Expect != nil {
		expect = *st.Expect
	}
	switch st.Do {
	case "buy":
		cmd := g.command(c, messages.CmdOrderPlaced, nil)
		order := "O-" + cmd.ID
		s, out, err := r.Model.Buy(c, now, order, "L1", st.Offer, st.Term, st.Billing, *st.Quantity)
		if err != nil {
			return Action{}, err
		}
		q := *st.Quantity
		cmd.Data = &messages.OrderPlacedData{OrderID: order, Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: st.Offer, Quantity: &q, Term: st.Term, BillingFrequency: st.Billing}}}
		if st.As != "" {
			subs[st.As] = s
		}
		return Action{Customer: c, Sub: s, Expected: out, Command: cmd, Expect: &expect}, nil
	case "trial":
		if c.TrialsTaken[st.Offer] {
			return Action{}, fmt.Errorf("the customer already took the %s trial (the model does not predict a second one)", st.Offer)
		}
		cmd := g.command(c, messages.CmdOrderPlaced, nil)
		order := "O-" + cmd.ID
		s, out, err := r.Model.BuyTrial(c, now, order, "L1", st.Offer)
		if err != nil {
			return Action{}, err
		}
		o, _ := g.Catalog.Offer(st.Offer)
		cmd.Data = &messages.OrderPlacedData{OrderID: order, Lines: []messages.OrderLine{{LineID: "L1", OfferID: st.Offer, Term: o.Trial.Term, BillingFrequency: "monthly"}}}
		if st.As != "" {
			subs[st.As] = s
		}
		return Action{Customer: c, Sub: s, Expected: out, Command: cmd, Expect: &expect}, nil
	}
	s := subs[st.Sub]
	if s == nil || s.ID == "" {
		return Action{}, fmt.Errorf("subscription %s has no ID: its purchase was not accepted", st.Sub)
	}
	if !s.Changeable(now) {
		return Action{}, fmt.Errorf("subscription %s (%s, %s) is a trial, not live, or past its term: the model does not predict commands on it", st.Sub, s.ID, s.Status)
	}
	need := model.Active
	if st.Do == "reactivate" {
		need = model.Suspended
	}
	if st.Do != "cancel" && s.Status != need {
		return Action{}, fmt.Errorf("subscription %s is %s; the model predicts %s only for a %s one", st.Sub, s.Status, st.Do, need)
	}
	act := func(typ messages.CommandType, data any, out model.Outcome) (Action, error) {
		return Action{Customer: c, Sub: s, Expected: out, Command: g.command(c, typ, data), Expect: &expect}, nil
	}
	switch st.Do {
	case "quantity":
		q := *st.Quantity
		if q == s.Qty || q > g.maxQty(s.Offer) {
			return Action{}, fmt.Errorf("quantity %d: the model predicts changes to 1..%d other than the current %d", q, g.maxQty(s.Offer), s.Qty)
		}
		return act(messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s.ID, Quantity: &q}, r.Model.ChangeQuantity(s, now, q))
	case "suspend":
		return act(messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s.ID, Reason: messages.ReasonNonPayment}, r.Model.Suspend(s))
	case "reactivate":
		return act(messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s.ID}, r.Model.Reactivate(s))
	case "autorenew":
		on := *st.Enabled
		return act(messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s.ID, Enabled: &on}, r.Model.SetAutoRenew(s, on))
	case "cancel":
		return act(messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s.ID}, r.Model.Cancel(s, now))
	case "upgrade":
		if targets := g.upgradeTargets(c, s); !slices.Contains(targets, st.Target) {
			return Action{}, fmt.Errorf("target %s: the model predicts full upgrades of %s only to %v", st.Target, s.Offer, targets)
		}
		out, err := r.Model.UpgradeAll(s, now, st.Target)
		if err != nil {
			return Action{}, err
		}
		return act(messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: s.ID, TargetOfferID: st.Target}, out)
	}
	return Action{}, fmt.Errorf("do %q: unknown action (LoadScenario accepts none such)", st.Do)
}
