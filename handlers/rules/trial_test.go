package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// taCatalog is the catalog of the trial and add-on tests: paid base
// offers, a trial of Business Premium, and one add-on of each kind.
// Prices are per license per billing period in cents. Renewals complete
// at once (renewal_processing_minutes 0).
const taCatalog = `{
 "version": "trials-addons",
 "currencies": {"USD": {"exponent": 2}},
 "policy": {"tax_inclusive_countries": ["AU", "BR"], "segments": ["commercial", "education", "government", "nonprofit"], "max_subscription_updates": 1200},
 "offers": [
  {"id": "CFQ7TTC0LH18:0001", "name": "Microsoft 365 Business Basic", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 720}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 630}},
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 7200}}
   ]},
  {"id": "CFQ7TTC0LCHC:0002", "name": "Microsoft 365 Business Premium", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "upgrade_paths": ["CFQ7TTC0LFLX:0001"],
   "plans": [
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 2640}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 2310}},
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 26400}}
   ]},
  {"id": "CFQ7TTC0LFLX:0001", "name": "Microsoft 365 E5", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 50000, "cancel_window_hours": 168,
   "plans": [
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 6840}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 5985}},
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 68400}}
   ]},
  {"id": "CFQ7TTC0LCHC:0007", "name": "Microsoft 365 Business Premium Trial", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false, "free": true,
   "trial": {"paid_offer_id": "CFQ7TTC0LCHC:0002", "licenses": 25, "term": "P1M", "convert_term": "P1Y", "convert_billing_frequency": "monthly"},
   "segments": ["commercial"], "min_quantity": 25, "max_quantity": 25, "cancel_window_hours": 168,
   "plans": [{"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 0}}]},
  {"id": "CFQ7TTC0LHSF:0001", "name": "Microsoft 365 Multi-Geo Capabilities", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "addon": {"kind": "multi_geo", "base_offer_ids": ["CFQ7TTC0LCHC:0002", "CFQ7TTC0LFLX:0001"], "min_percent_of_base": 5},
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 50000, "cancel_window_hours": 168,
   "plans": [
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 240}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 210}},
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 2400}}
   ]},
  {"id": "CFQ7TTC0MM8R:0002", "name": "Microsoft 365 Copilot", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "addon": {"kind": "copilot", "base_offer_ids": ["CFQ7TTC0LH18:0001", "CFQ7TTC0LCHC:0002", "CFQ7TTC0LFLX:0001"], "max_of_base": true},
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 50000, "cancel_window_hours": 168,
   "plans": [
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 3600}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 3150}},
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 36000}}
   ]},
  {"id": "CFQ7TTC0LH1G:0001", "name": "Exchange Online Archiving for Exchange Online", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "addon": {"kind": "coterminous", "base_offer_ids": ["CFQ7TTC0LH18:0001"]},
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 50000, "cancel_window_hours": 168,
   "plans": [
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 360}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 315}},
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 3600}}
   ]}
 ]
}`

const (
	taBasic   = "CFQ7TTC0LH18:0001"
	taPremium = "CFQ7TTC0LCHC:0002"
	taE5      = "CFQ7TTC0LFLX:0001"
	taTrial   = "CFQ7TTC0LCHC:0007"
	taGeo     = "CFQ7TTC0LHSF:0001"
	taCopilot = "CFQ7TTC0MM8R:0002"
	taArchive = "CFQ7TTC0LH1G:0001"
)

// taWorld is a world with a commercial USD customer on taCatalog.
func taWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	c, err := catalog.Parse([]byte(taCatalog))
	if err != nil {
		t.Fatalf("trial/add-on test catalog: %v", err)
	}
	w.cat = c
	w.createCustomer("commercial", "USD")
	return w
}

// taOrder places one order as partnerA and returns the outcome and its
// order.processed event.
func taOrder(w *world, at time.Time, lines ...messages.OrderLine) (Outcome, *messages.OrderProcessedEvent) {
	w.t.Helper()
	out := w.do(partnerA, at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + itoa(w.n+1), Lines: lines})
	wantAccepted(w.t, out)
	return out, findEvent[*messages.OrderProcessedEvent](w.t, out, messages.EvtOrderProcessed)
}

func taLine(id, offer string, qty int, term, freq string) messages.OrderLine {
	return messages.OrderLine{LineID: id, OfferID: offer, Quantity: intp(qty), Term: term, BillingFrequency: freq}
}

// taBuyTrial buys the Business Premium trial with nothing but its offer
// named (TRI-1: quantity and plan default to the trial's).
func taBuyTrial(w *world, at time.Time) string {
	w.t.Helper()
	_, ev := taOrder(w, at, messages.OrderLine{LineID: "T1", OfferID: taTrial})
	if ev.Status != messages.OrderCompleted {
		w.t.Fatalf("trial order: %+v", ev.Lines[0].Rejection)
	}
	return ev.Lines[0].SubscriptionID
}

func taConvert(w *world, at time.Time, c *messages.TrialConvertData) Outcome {
	w.t.Helper()
	return w.do(partnerA, at, messages.CmdTrialConvert, c)
}

// lineRejection returns the rejection of line i of an order.
func lineRejection(t *testing.T, ev *messages.OrderProcessedEvent, i int, code, rule string) *messages.Rejection {
	t.Helper()
	r := ev.Lines[i].Rejection
	if r == nil || r.Code != code || r.Rule != rule {
		t.Fatalf("line %d: want %s (%s), got %+v", i, code, rule, r)
	}
	return r
}

func countEvents(evs []EventDraft, typ messages.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestRule_TRI_1_TrialHas25FreeLicensesAutoRenewOnP1M(t *testing.T) {
	w := taWorld(t)
	out, ev := taOrder(w, t0, messages.OrderLine{LineID: "T1", OfferID: taTrial})
	if ev.Status != messages.OrderCompleted {
		t.Fatalf("trial order %+v", ev.Lines[0].Rejection)
	}
	s := w.state.Subscriptions[ev.Lines[0].SubscriptionID]
	if !s.Trial || s.Quantity != 25 || !s.AutoRenew || s.Term != "P1M" || s.BillingFrequency != "monthly" ||
		formatDate(s.TermStart) != "2026-03-10" || formatDate(s.TermEnd) != "2026-04-09" || s.UnitPrice != 0 || s.PeriodCharge != 0 {
		t.Fatalf("trial subscription %+v", s)
	}
	// ORD-10: a trial is free: no billing.charge at all, only the
	// notification and the order result.
	if n := countEvents(out.Events, messages.EvtBillingCharge); n != 0 {
		t.Fatalf("a trial line emitted %d charges: %v", n, eventTypes(out))
	}
	if c := findEvent[*messages.SubscriptionCreatedEvent](t, out, messages.EvtSubscriptionCreated); c.Quantity != 25 || !c.AutoRenew || c.Term != "P1M" {
		t.Fatalf("created %+v", c)
	}
	// Its only timer is the trial's end.
	if len(w.state.Timers) != 1 {
		t.Fatalf("timers %v", w.state.Timers)
	}
	for _, tm := range w.state.Timers {
		if tm.Kind != TimerTermEnd || !tm.DueAt.Equal(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("timer %+v", tm)
		}
	}

	// TRI-1: the quantity is the trial's, no other.
	_, ev = taOrder(w, t0.Add(time.Hour), messages.OrderLine{LineID: "T1", OfferID: taTrial, Quantity: intp(10)})
	r := lineRejection(t, ev, 0, CodeTrialQuantityFixed, "TRI-1")
	if r.Data["licenses"] != "25" || r.Data["quantity"] != "10" {
		t.Fatalf("data %v", r.Data)
	}
	// Decision: one trial per trial offer per customer, ever.
	_, ev = taOrder(w, t0.Add(time.Hour), messages.OrderLine{LineID: "T1", OfferID: taTrial, Quantity: intp(25), Term: "P1M", BillingFrequency: "monthly"})
	if r := lineRejection(t, ev, 0, CodeTrialAlreadyUsed, "TRI-1"); r.Data["existing_subscription_id"] != s.ID {
		t.Fatalf("data %v", r.Data)
	}
}

func TestRule_TRI_1_TrialEndConvertsToThePaidSKUAnnualBilledMonthly(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)
	end := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	if evs := withoutNotices(eventsOf(w.advance(end.Add(-time.Nanosecond)))); len(evs) != 0 {
		t.Fatalf("fired before the trial's end: %v", evs)
	}
	outs := w.advance(end)
	if len(outs) != 1 {
		t.Fatalf("%d timers fired", len(outs))
	}
	evs := outs[0].Events
	if len(evs) != 3 || evs[0].Type != messages.EvtSubscriptionCreated || evs[1].Type != messages.EvtBillingCharge || evs[2].Type != messages.EvtTrialConverted {
		t.Fatalf("events %v", eventTypes(outs[0]))
	}
	paidID := messages.DerivedID("sub", customer1, timerID(TimerTermEnd, trial, end), 0)
	charge := evs[1].Data.(*messages.BillingEvent)
	// 25 licenses × USD 23.10 (P1Y billed monthly), the first month.
	if charge.SubscriptionID != paidID || charge.AmountMinor != 57750 || charge.Quantity != 25 || charge.UnitPriceMinor != 2310 ||
		charge.Reason != messages.BillingReasonConversion || charge.Rule != "TRI-1" ||
		charge.PeriodStart != "2026-04-10" || charge.PeriodEnd != "2026-05-09" || charge.OfferID != taPremium {
		t.Fatalf("charge %+v", charge)
	}
	conv := evs[2].Data.(*messages.TrialConvertedEvent)
	if conv.TrialSubscriptionID != trial || conv.TargetSubscriptionID != paidID || conv.Mode != ConversionNew || conv.Rule != "TRI-1" ||
		conv.Quantity != 25 || conv.Term != "P1Y" || conv.BillingFrequency != "monthly" || conv.TermStart != "2026-04-10" ||
		conv.TermEnd != "2027-04-09" || conv.ChargeMinor != 57750 || conv.ChargeEventID != messages.EventID(customer1, timerID(TimerTermEnd, trial, end), 1) ||
		!conv.EffectiveAt.Equal(end) || conv.TrialEnd != "2026-04-09" {
		t.Fatalf("converted %+v", conv)
	}
	paid := w.state.Subscriptions[paidID]
	if paid.Trial || paid.Status != StatusActive || !paid.AutoRenew || paid.PartnerID != partnerA ||
		!paid.CancellableUntil.Equal(end.Add(168*time.Hour)) || paid.Quantity != 25 {
		t.Fatalf("paid %+v", paid)
	}
	tr := w.state.Subscriptions[trial]
	if tr.Status != StatusExpired || tr.AutoRenew || tr.TrialConversion == nil || tr.TrialConversion.TargetSubscriptionID != paidID {
		t.Fatalf("trial after conversion %+v", tr)
	}
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == trial {
			t.Fatalf("trial timer left: %+v", tm)
		}
	}
	// The paid subscription has its own billing: the next month is
	// charged on 2026-05-10.
	evs = withoutNotices(eventsOf(w.advance(time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC))))
	if len(evs) != 1 || evs[0].Data.(*messages.BillingEvent).AmountMinor != 57750 || evs[0].Data.(*messages.BillingEvent).SubscriptionID != paidID {
		t.Fatalf("second month %v", evs)
	}
	// The converted trial is final.
	wantRejected(t, taConvert(w, end.Add(time.Hour), &messages.TrialConvertData{SubscriptionID: trial}), CodeSubscriptionExpired, "SUS-3")
	// ... and it still counts against a second trial.
	_, ev := taOrder(w, end.Add(time.Hour), messages.OrderLine{LineID: "T1", OfferID: taTrial})
	lineRejection(t, ev, 0, CodeTrialAlreadyUsed, "TRI-1")
}

func TestRule_TRI_1_AutoRenewOffTrialExpiresWithoutCharge(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)
	// Turning auto-renew off is allowed during a trial (TRI-1, TRI-3).
	wantAccepted(t, w.do(partnerA, t0.Add(24*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(trial, false)))
	evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))))
	if len(evs) != 1 || evs[0].Type != messages.EvtSubscriptionExpired {
		t.Fatalf("events %v", evs)
	}
	if e := evs[0].Data.(*messages.SubscriptionExpiredEvent); e.Reason != messages.ExpiredAutoRenewOff || e.TermEnd != "2026-04-09" {
		t.Fatalf("expired %+v", e)
	}
	if len(w.state.Subscriptions) != 1 || w.state.Subscriptions[trial].Status != StatusExpired || len(w.state.Timers) != 0 {
		t.Fatalf("state %+v timers %v", w.state.Subscriptions[trial], w.state.Timers)
	}
}

func TestRule_TRI_3_NoQuantityOrStatusChangeDuringTrial(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)
	at := t0.Add(48 * time.Hour)
	for name, tc := range map[string]struct {
		typ  messages.CommandType
		data any
	}{
		"suspend":    {messages.CmdSubscriptionSuspend, suspendOf(trial, messages.ReasonCustomerRequest)},
		"reactivate": {messages.CmdSubscriptionReactivate, reactivateOf(trial)},
		"quantity":   {messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: trial, Quantity: intp(30)}},
	} {
		t.Run(name, func(t *testing.T) {
			r := wantRejected(t, w.do(partnerA, at, tc.typ, tc.data), CodeTrialNoChange, "TRI-3")
			if r.Data["subscription_id"] != trial {
				t.Fatalf("data %v", r.Data)
			}
		})
	}
	if s := w.state.Subscriptions[trial]; s.Status != StatusActive || s.Quantity != 25 || !s.AutoRenew {
		t.Fatalf("trial changed: %+v", s)
	}
	wantAccepted(t, w.do(partnerA, at, messages.CmdAutoRenewSet, autoRenewOf(trial, false)))
}

func TestRule_TRI_5_ImmediateConversionToANewSubscription(t *testing.T) {
	for _, tc := range []struct {
		name       string
		req        messages.TrialConvertData
		wantCode   string
		wantRule   string
		qty        int
		term, freq string
		charge     int64
	}{
		{name: "TRI-5 defaults: the paid SKU, 25 licenses, annual billed monthly", qty: 25, term: "P1Y", freq: "monthly", charge: 25 * 2310},
		{name: "TRI-5 more licenses, annual billed annually", req: messages.TrialConvertData{Quantity: intp(40), Term: "P1Y", BillingFrequency: "annual"},
			qty: 40, term: "P1Y", freq: "annual", charge: 40 * 26400},
		{name: "TRI-5 month to month", req: messages.TrialConvertData{Term: "P1M", BillingFrequency: "monthly"}, qty: 25, term: "P1M", freq: "monthly", charge: 25 * 2640},
		{name: "TRI-2 a higher SKU", req: messages.TrialConvertData{TargetOfferID: taE5}, qty: 25, term: "P1Y", freq: "monthly", charge: 25 * 5985},
		{name: "TRI-5 fewer than 25 now", req: messages.TrialConvertData{Quantity: intp(24)}, wantCode: CodeConversionQuantity, wantRule: "TRI-5"},
		{name: "TRI-2 a lower SKU", req: messages.TrialConvertData{TargetOfferID: taBasic}, wantCode: CodeConversionTargetNotAllowed, wantRule: "TRI-2"},
		{name: "TRI-2 an add-on", req: messages.TrialConvertData{TargetOfferID: taCopilot}, wantCode: CodeConversionTargetNotAllowed, wantRule: "TRI-2"},
		{name: "GEN-4 a plan the offer does not sell", req: messages.TrialConvertData{Term: "P3Y", BillingFrequency: "triennial"}, wantCode: CodePlanNotAvailable, wantRule: "GEN-4"},
		{name: "ORD-6 above the offer's maximum", req: messages.TrialConvertData{Quantity: intp(301)}, wantCode: CodeQuantityOutOfRange, wantRule: "ORD-6"},
		{name: "TRI-2 unknown when", req: messages.TrialConvertData{When: "tomorrow"}, wantCode: CodeInvalidField, wantRule: "GEN-6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := taWorld(t)
			trial := taBuyTrial(w, t0)
			at := t0.Add(5*24*time.Hour + 3*time.Hour) // 2026-03-15T17:00Z
			req := tc.req
			req.SubscriptionID = trial
			out := taConvert(w, at, &req)
			if tc.wantCode != "" {
				wantRejected(t, out, tc.wantCode, tc.wantRule)
				if s := w.state.Subscriptions[trial]; s.Status != StatusActive || !s.Trial {
					t.Fatalf("trial changed %+v", s)
				}
				return
			}
			wantAccepted(t, out)
			paidID := messages.DerivedID("sub", customer1, "cmd-"+itoa(w.n), 0)
			charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
			if charge.AmountMinor != tc.charge || charge.Quantity != tc.qty || charge.Reason != messages.BillingReasonConversion || charge.Rule != "TRI-5" ||
				charge.SubscriptionID != paidID || charge.PeriodStart != "2026-03-15" {
				t.Fatalf("charge %+v", charge)
			}
			paid := w.state.Subscriptions[paidID]
			if paid == nil || paid.Quantity != tc.qty || paid.Term != tc.term || paid.BillingFrequency != tc.freq ||
				formatDate(paid.TermStart) != "2026-03-15" || !paid.CancellableUntil.Equal(at.Add(168*time.Hour)) || paid.Trial {
				t.Fatalf("paid %+v", paid)
			}
			conv := findEvent[*messages.TrialConvertedEvent](t, out, messages.EvtTrialConverted)
			if conv.Mode != ConversionNew || conv.Rule != "TRI-5" || conv.TargetSubscriptionID != paidID || !conv.EffectiveAt.Equal(at) {
				t.Fatalf("converted %+v", conv)
			}
			if s := w.state.Subscriptions[trial]; s.Status != StatusExpired || len(w.state.Timers) == 0 {
				t.Fatalf("trial %+v", s)
			}
			for _, tm := range w.state.Timers {
				if tm.SubscriptionID == trial {
					t.Fatalf("trial timer left %+v", tm)
				}
			}
			// The trial's end no longer converts anything.
			if evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)))); countEvents(evs, messages.EvtTrialConverted) != 0 {
				t.Fatalf("converted again: %v", evs)
			}
		})
	}
}

func TestRule_TRI_5_ImmediateConversionIntoExistingAdds25AndKeepsItsTerm(t *testing.T) {
	w := taWorld(t)
	target := w.buy(t0, taPremium, "P1Y", "annual", 10)
	trial := taBuyTrial(w, t0.Add(time.Hour))
	// SCH-3: the target's scheduled changes go with the conversion.
	wantAccepted(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: target, Quantity: intp(12)}))
	at := t0.Add(10 * 24 * time.Hour) // day 11 of the target's 365-day period

	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target, Quantity: intp(10)}),
		CodeConversionQuantity, "TRI-5")
	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target, Term: "P1M"}),
		CodeConversionKeepsTargetPlan, "TRI-5")
	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target, TargetOfferID: taE5}),
		CodeConversionTargetNotAllowed, "TRI-2")

	out := taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target})
	wantAccepted(t, out)
	want := []messages.EventType{messages.EvtScheduleChanged, messages.EvtBillingCharge, messages.EvtTrialConverted}
	if got := eventTypes(out); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("events %v", got)
	}
	charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
	// 25 × USD 264.00 for the 355 of 365 days left (10 started days used):
	// round_half_up(660000 × 355 / 365) = 641918.
	if charge.AmountMinor != 641918 || charge.SubscriptionID != target || charge.Quantity != 25 || charge.Rule != "TRI-5" ||
		charge.Reason != messages.BillingReasonConversion || charge.Proration == nil ||
		*charge.Proration != (messages.Proration{BaseMinor: 660000, UsedDays: 10, UnusedDays: 355, PeriodDays: 365}) {
		t.Fatalf("charge %+v %+v", charge, charge.Proration)
	}
	s := w.state.Subscriptions[target]
	if s.Quantity != 35 || s.Term != "P1Y" || s.BillingFrequency != "annual" || formatDate(s.TermEnd) != "2027-03-09" ||
		s.Scheduled != nil || s.PeriodCharge != 264000+641918 || s.UpdateCount != 1 {
		t.Fatalf("target %+v", s)
	}
	if last := s.Lots[len(s.Lots)-1]; last.Quantity != 25 || !last.AddedAt.Equal(at) {
		t.Fatalf("lots %+v", s.Lots)
	}
	conv := findEvent[*messages.TrialConvertedEvent](t, out, messages.EvtTrialConverted)
	if conv.Mode != ConversionIntoExisting || conv.TargetQuantity != 35 || conv.TermEnd != "2027-03-09" || conv.ChargeMinor != 641918 {
		t.Fatalf("converted %+v", conv)
	}
	if tr := w.state.Subscriptions[trial]; tr.Status != StatusExpired {
		t.Fatalf("trial %+v", tr)
	}
}

func TestRule_TRI_4_TargetMustEndOnOrAfterTheTrialAndBeActive(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)                                              // ends 2026-04-09
	sameEnd := w.buy(t0, taPremium, "P1M", "monthly", 1)                    // ends 2026-04-09
	earlier := w.buy(t0.Add(-24*time.Hour), taPremium, "P1M", "monthly", 1) // ends 2026-04-08
	suspended := w.buy(t0, taPremium, "P1Y", "monthly", 1)                  // suspended below
	foreign := w.buy(t0, taPremium, "P1Y", "monthly", 1)                    // another partner's
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(suspended, messages.ReasonNonPayment)))
	other := *w.state.Subscriptions[foreign]
	other.PartnerID = partnerB
	w.state.Subscriptions[foreign] = &other
	at := t0.Add(2 * time.Hour)

	r := wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: earlier}), CodeConversionTargetEndsEarly, "TRI-4")
	if r.Data["target_term_end"] != "2026-04-08" || r.Data["trial_term_end"] != "2026-04-09" {
		t.Fatalf("data %v", r.Data)
	}
	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: suspended}), CodeConversionTargetNotEligible, "TRI-4")
	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: foreign}), CodeNotPartnerOfRecord, "PTN-1")
	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: "sub-nope"}), CodeSubscriptionNotFound, "PTN-1")
	wantRejected(t, taConvert(w, at, &messages.TrialConvertData{SubscriptionID: sameEnd}), CodeNotATrial, "TRI-2")
	// The same end date is enough.
	out := taConvert(w, at, &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: sameEnd})
	wantAccepted(t, out)
	if s := w.state.Subscriptions[sameEnd]; s.Quantity != 26 || s.Term != "P1M" {
		t.Fatalf("target %+v", s)
	}
}

func TestRule_TRI_6_ScheduledConversionOfFewerThan25AtTheTrialsEnd(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)
	end := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)

	out := taConvert(w, t0.Add(24*time.Hour), &messages.TrialConvertData{SubscriptionID: trial, When: "trial_end", Quantity: intp(10), Term: "P1Y", BillingFrequency: "annual"})
	wantAccepted(t, out)
	if got := eventTypes(out); len(got) != 1 || got[0] != messages.EvtTrialConverted {
		t.Fatalf("a schedule emits only its confirmation, got %v", got)
	}
	sch := findEvent[*messages.TrialConvertedEvent](t, out, messages.EvtTrialConverted)
	if sch.Mode != ConversionScheduled || sch.Rule != "TRI-6" || sch.Quantity != 10 || !sch.EffectiveAt.Equal(end) ||
		sch.TermStart != "2026-04-10" || sch.TermEnd != "2027-04-09" || sch.TargetSubscriptionID != "" || sch.ChargeEventID != "" {
		t.Fatalf("scheduled %+v", sch)
	}
	if tc := w.state.Subscriptions[trial].TrialConversion; tc == nil || *tc != (TrialConversion{TargetOfferID: taPremium, Quantity: 10, Term: "P1Y", BillingFrequency: "annual"}) {
		t.Fatalf("stored %+v", tc)
	}
	// The trial itself is unchanged until its end.
	if s := w.state.Subscriptions[trial]; s.Status != StatusActive || s.Quantity != 25 {
		t.Fatalf("trial %+v", s)
	}

	evs := withoutNotices(eventsOf(w.advance(end)))
	if countEvents(evs, messages.EvtBillingCharge) != 1 {
		t.Fatalf("events %v", evs)
	}
	charge := evs[1].Data.(*messages.BillingEvent)
	// 10 licenses × USD 264.00 for the year.
	if charge.AmountMinor != 264000 || charge.Quantity != 10 || charge.Rule != "TRI-6" || charge.PeriodStart != "2026-04-10" || charge.PeriodEnd != "2027-04-09" {
		t.Fatalf("charge %+v", charge)
	}
	conv := evs[2].Data.(*messages.TrialConvertedEvent)
	if conv.Mode != ConversionNew || conv.Rule != "TRI-6" || conv.Quantity != 10 || conv.Note != "" {
		t.Fatalf("converted %+v", conv)
	}
}

func TestRule_TRI_6_ScheduledConversionNeedsAutoRenew(t *testing.T) {
	w := taWorld(t)
	trial := taBuyTrial(w, t0)
	sched := &messages.TrialConvertData{SubscriptionID: trial, When: "trial_end", Quantity: intp(5)}
	// TRI-5's minimum does not apply to a scheduled conversion.
	wantAccepted(t, taConvert(w, t0.Add(time.Hour), sched))
	// Auto-renew off after scheduling: the trial expires (TRI-1).
	wantAccepted(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdAutoRenewSet, autoRenewOf(trial, false)))
	wantRejected(t, taConvert(w, t0.Add(3*time.Hour), sched), CodeConversionNeedsAutoRenew, "TRI-6")
	evs := withoutNotices(eventsOf(w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))))
	if len(evs) != 1 || evs[0].Type != messages.EvtSubscriptionExpired || evs[0].Data.(*messages.SubscriptionExpiredEvent).Reason != messages.ExpiredAutoRenewOff {
		t.Fatalf("events %v", evs)
	}
}

// TRI-6 into an existing subscription, and the Decision when that target
// is gone by the trial's end: the licenses go into a new subscription of
// the same offer and plan, and the event says why.
func TestRule_TRI_6_ScheduledIntoExisting(t *testing.T) {
	end := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC)
	t.Run("TRI-6 target still active", func(t *testing.T) {
		w := taWorld(t)
		target := w.buy(t0, taPremium, "P1Y", "monthly", 10)
		trial := taBuyTrial(w, t0)
		wantAccepted(t, taConvert(w, t0.Add(time.Hour), &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target, When: "trial_end", Quantity: intp(5)}))
		evs := withoutNotices(eventsOf(w.advance(end)))
		var conv *messages.TrialConvertedEvent
		var charge *messages.BillingEvent
		for _, e := range evs {
			switch d := e.Data.(type) {
			case *messages.TrialConvertedEvent:
				conv = d
			case *messages.BillingEvent:
				if d.Reason == messages.BillingReasonConversion {
					charge = d
				}
			}
		}
		// The target's period 2026-04-10..2026-05-09 started today at
		// 00:00 (its billing_period timer fired first): 5 × 23.10 × 30/30.
		if conv == nil || charge == nil || conv.Mode != ConversionIntoExisting || conv.TargetSubscriptionID != target || conv.TargetQuantity != 15 ||
			charge.AmountMinor != 11550 || charge.Rule != "TRI-6" || charge.PeriodStart != "2026-04-10" {
			t.Fatalf("events %v\nconverted %+v\ncharge %+v", evs, conv, charge)
		}
		if s := w.state.Subscriptions[target]; s.Quantity != 15 || s.Term != "P1Y" || s.BillingFrequency != "monthly" {
			t.Fatalf("target %+v", s)
		}
	})
	t.Run("TRI-6 target cancelled meanwhile", func(t *testing.T) {
		w := taWorld(t)
		target := w.buy(t0, taPremium, "P1Y", "monthly", 10)
		trial := taBuyTrial(w, t0)
		wantAccepted(t, taConvert(w, t0.Add(time.Hour), &messages.TrialConvertData{SubscriptionID: trial, TargetSubscriptionID: target, When: "trial_end", Quantity: intp(5)}))
		wantAccepted(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdSubscriptionCancel, cancelOf(target)))
		outs := w.advance(end)
		conv := findEvent[*messages.TrialConvertedEvent](t, outs[len(outs)-1], messages.EvtTrialConverted)
		if conv.Mode != ConversionNew || conv.Quantity != 5 || conv.Term != "P1Y" || conv.BillingFrequency != "monthly" || conv.Note == "" {
			t.Fatalf("converted %+v", conv)
		}
		if p := w.state.Subscriptions[conv.TargetSubscriptionID]; p == nil || p.Quantity != 5 || p.PeriodCharge != 5*2310 {
			t.Fatalf("paid %+v", p)
		}
	})
}
