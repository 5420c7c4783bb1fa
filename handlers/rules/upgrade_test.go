package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// upgradeCatalog has upgrade paths and Partner Center's unsupported pairs among
// its offers (UPG-1, UPG-2). Prices are USD cents per license per billing
// period. Business Premium is sold to commercial customers only (ORD-3);
// the nonprofit grant of Business Premium is one per customer (ORD-2).
const upgradeCatalog = `{
 "version": "upgrade-test",
 "currencies": {"USD": {"exponent": 2}},
 "policy": {"tax_inclusive_countries": ["AU", "BR"], "segments": ["commercial", "education", "government", "nonprofit"],
  "renewal_processing_minutes": 30, "max_subscription_updates": 1200,
  "unsupported_upgrades": [{"from": "CFQ7TTC0LFK5:0001", "to": "CFQ7TTC0LFK4:0001"}, {"from": "CFQ7TTC0LFK4:0001", "to": "CFQ7TTC0LFLX:0001"}]},
 "offers": [
  {"id": "CFQ7TTC0LH18:0001", "name": "Microsoft 365 Business Basic", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "upgrade_paths": ["CFQ7TTC0LDPB:0001", "CFQ7TTC0LCHC:0002"],
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 7200}},
             {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 630}},
             {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 720}}]},
  {"id": "CFQ7TTC0LDPB:0001", "name": "Microsoft 365 Business Standard", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "upgrade_paths": ["CFQ7TTC0LCHC:0002"],
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 15000}},
             {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 1375}},
             {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 1500}}]},
  {"id": "CFQ7TTC0LCHC:0002", "name": "Microsoft 365 Business Premium", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license",
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 26400}},
             {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 2310}},
             {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 2640}}]},
  {"id": "CFQ7TTC0LH16:0001", "name": "Exchange Online (Plan 1)", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "upgrade_paths": ["CFQ7TTC0LDPB:0001", "CFQ7TTC0LCHC:0002"],
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 4800}},
             {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 420}}]},
  {"id": "CFQ7TTC0LFK5:0001", "name": "Enterprise Mobility + Security E3", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "upgrade_paths": ["CFQ7TTC0LFK4:0001"],
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 12960}}]},
  {"id": "CFQ7TTC0LFK4:0001", "name": "Enterprise Mobility + Security E5", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "upgrade_paths": ["CFQ7TTC0LFLX:0001"],
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 19680}}]},
  {"id": "CFQ7TTC0LFLX:0001", "name": "Microsoft 365 E5", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license",
   "segments": ["commercial"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 68400}}]},
  {"id": "CFQ7TTC0LH18:0005", "name": "Microsoft 365 Business Basic (Nonprofit Grant)", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "free": true, "upgrade_paths": ["CFQ7TTC0LCHC:0006"],
   "segments": ["nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 0}}]},
  {"id": "CFQ7TTC0LCHC:0006", "name": "Microsoft 365 Business Premium (Nonprofit Grant)", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "free": true, "one_per_customer": true,
   "segments": ["nonprofit"], "min_quantity": 1, "max_quantity": 10, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 0}}]}
 ]
}`

const (
	uBasic        = "CFQ7TTC0LH18:0001"
	uStandard     = "CFQ7TTC0LDPB:0001"
	uPremium      = "CFQ7TTC0LCHC:0002"
	uExchange     = "CFQ7TTC0LH16:0001"
	uEMSE3        = "CFQ7TTC0LFK5:0001"
	uEMSE5        = "CFQ7TTC0LFK4:0001"
	uM365E5       = "CFQ7TTC0LFLX:0001"
	uBasicGrant   = "CFQ7TTC0LH18:0005"
	uPremiumGrant = "CFQ7TTC0LCHC:0006"
)

// upgWorld is a world on upgradeCatalog with one customer.
func upgWorld(t *testing.T, segment string) *world {
	t.Helper()
	w := newWorld(t)
	c, err := catalog.Parse([]byte(upgradeCatalog))
	if err != nil {
		t.Fatalf("upgrade catalog: %v", err)
	}
	w.cat = c
	w.createCustomer(segment, "USD")
	return w
}

func upgOf(id, offer string) *messages.UpgradeData {
	return &messages.UpgradeData{SubscriptionID: id, TargetOfferID: offer}
}

func (w *world) upgrade(at time.Time, u *messages.UpgradeData) Outcome {
	w.t.Helper()
	return w.do(partnerA, at, messages.CmdUpgrade, u)
}

// upgAccepted asserts an accepted immediate upgrade and returns its
// upgraded event, credit and charge; the events come in that order.
func upgAccepted(t *testing.T, w *world, out Outcome) (*messages.SubscriptionUpgradedEvent, *messages.BillingEvent, *messages.BillingEvent) {
	t.Helper()
	wantAccepted(t, out)
	// The command's own events: overdue timers fired before it (window
	// notices, CAN-1 and QTY-2) have event IDs of their own.
	own := commandEvents(out)
	var types []messages.EventType
	for _, e := range own {
		types = append(types, e.Type)
	}
	n := len(types)
	if n < 3 || types[n-3] != messages.EvtSubscriptionUpgraded || types[n-2] != messages.EvtBillingCredit || types[n-1] != messages.EvtBillingCharge {
		t.Fatalf("events = %v, want ... subscription.upgraded, billing.credit, billing.charge", types)
	}
	ev := own[n-3].Data.(*messages.SubscriptionUpgradedEvent)
	credit := own[n-2].Data.(*messages.BillingEvent)
	charge := own[n-1].Data.(*messages.BillingEvent)
	cmd := "cmd-" + itoa(w.n)
	if ev.CreditEventID != messages.EventID(customer1, cmd, n-2) || ev.ChargeEventID != messages.EventID(customer1, cmd, n-1) {
		t.Errorf("upgraded event names credit %s and charge %s, not the events emitted", ev.CreditEventID, ev.ChargeEventID)
	}
	if ev.CreditMinor != credit.AmountMinor || ev.ChargeMinor != charge.AmountMinor {
		t.Errorf("upgraded event amounts %d/%d, billing events %d/%d", ev.CreditMinor, ev.ChargeMinor, credit.AmountMinor, charge.AmountMinor)
	}
	for _, b := range []*messages.BillingEvent{credit, charge} {
		if b.Reason != messages.BillingReasonUpgrade || b.Currency != "USD" {
			t.Errorf("billing event reason %q currency %q", b.Reason, b.Currency)
		}
	}
	return ev, credit, charge
}

func wantBilling(t *testing.T, name string, b *messages.BillingEvent, sub, offer string, amount int64, qty int, unit int64, p messages.Proration, rule string) {
	t.Helper()
	if b.SubscriptionID != sub || b.OfferID != offer || b.AmountMinor != amount || b.Quantity != qty || b.UnitPriceMinor != unit ||
		b.Proration == nil || *b.Proration != p || b.Rule != rule {
		t.Errorf("%s = %+v (proration %+v)\nwant sub %s offer %s amount %d qty %d unit %d proration %+v rule %s",
			name, b, b.Proration, sub, offer, amount, qty, unit, p, rule)
	}
}

func timerDue(t *testing.T, w *world, sub, kind string) time.Time {
	t.Helper()
	var due []time.Time
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == sub && tm.Kind == kind {
			due = append(due, tm.DueAt)
		}
	}
	if len(due) != 1 {
		t.Fatalf("subscription %s has %d %s timers, want 1", sub, len(due), kind)
	}
	return due[0]
}

func chargesOf(evs []EventDraft) map[string]int64 {
	m := map[string]int64{}
	for _, e := range evs {
		if e.Type == messages.EvtBillingCharge {
			b := e.Data.(*messages.BillingEvent)
			m[b.SubscriptionID] += b.AmountMinor
		}
	}
	return m
}

// UPG-3: a full upgrade happens in place. Business Basic, annual term
// billed annually, 10 licenses at USD 72.00, bought at t0 (2026-03-10
// 14:00Z): the period is 2026-03-10..2027-03-09, 365 days. Upgraded to
// Business Standard (USD 150.00) exactly 72 hours later: 3 days used, 362
// unused.
//
//	credit = round(7200 * 10 * 362 / 365)  = round(71408.22)  = 71408
//	charge = round(15000 * 10 * 362 / 365) = round(148767.12) = 148767
//	period charge = 72000 - 71408 + 148767 = 149359
func TestRule_UPG_3_FullUpgradeInPlace(t *testing.T) {
	w := upgWorld(t, "commercial")
	id := w.buy(t0, uBasic, "P1Y", "annual", 10)
	before := w.state.Subscriptions[id].clone()
	at := t0.Add(72 * time.Hour)
	out := w.upgrade(at, upgOf(id, uStandard))
	ev, credit, charge := upgAccepted(t, w, out)
	if len(out.Events) != 3 {
		t.Errorf("events = %v", eventTypes(out))
	}
	wantBilling(t, "credit", credit, id, uBasic, 71408, 10, 7200, messages.Proration{BaseMinor: 72000, UsedDays: 3, UnusedDays: 362, PeriodDays: 365}, "UPG-3")
	wantBilling(t, "charge", charge, id, uStandard, 148767, 10, 15000, messages.Proration{BaseMinor: 150000, UsedDays: 3, UnusedDays: 362, PeriodDays: 365}, "UPG-3")
	want := messages.SubscriptionUpgradedEvent{
		SubscriptionID: id, FromOfferID: uBasic, TargetOfferID: uStandard, TargetSubscriptionID: id, Quantity: 10,
		Mode: UpgradeFullInPlace, LicensesReassigned: true, SourceQuantity: 10, SourceStatus: StatusActive,
		TargetQuantity: 10, Term: "P1Y", BillingFrequency: "annual", TermEnd: "2027-03-09",
		CreditEventID: ev.CreditEventID, ChargeEventID: ev.ChargeEventID, CreditMinor: 71408, ChargeMinor: 148767, Currency: "USD",
	}
	if *ev != want {
		t.Errorf("upgraded = %+v\nwant       %+v", *ev, want)
	}
	s := w.state.Subscriptions[id]
	if len(w.state.Subscriptions) != 1 || s.OfferID != uStandard || s.OfferName != "Microsoft 365 Business Standard" ||
		s.UnitPrice != 15000 || s.PeriodCharge != 149359 || s.Quantity != 10 || s.TermEnd != before.TermEnd || s.Status != StatusActive {
		t.Errorf("subscription after upgrade = %+v", s)
	}

	// The renewal renews the upgraded SKU at its price: 10 x 15000.
	outs := w.advance(before.termEndsAt().Add(30 * time.Minute))
	if got := chargesOf(eventsOf(outs))[id]; got != 150000 {
		t.Errorf("renewal charge = %d, want 150000", got)
	}
}

// UPG-3: when the customer holds the target SKU from another partner (a
// subscription whose partner of record is someone else) or several
// subscriptions of it, licenses must be assigned by hand.
func TestRule_UPG_3_WarnsWhenLicensesNeedAssigningByHand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partner string
		want    string
	}{
		{"UPG-3 target SKU bought from another partner", partnerB, "from another partner or channel: licenses must be assigned by hand (UPG-3)"},
		{"UPG-3 several subscriptions of the target SKU", partnerA, "several subscriptions of Microsoft 365 Business Standard: licenses must be assigned by hand (UPG-3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := upgWorld(t, "commercial")
			id := w.buy(t0, uBasic, "P1Y", "annual", 10)
			other := w.buy(t0, uStandard, "P1Y", "annual", 3)
			o := w.state.Subscriptions[other].clone()
			o.PartnerID = tc.partner
			w.state.Subscriptions[other] = &o
			ev, _, _ := upgAccepted(t, w, w.upgrade(t0.Add(72*time.Hour), upgOf(id, uStandard)))
			if ev.LicensesReassigned || !strings.Contains(ev.Warning, tc.want) {
				t.Errorf("reassigned %v, warning %q; want it to contain %q", ev.LicensesReassigned, ev.Warning, tc.want)
			}
		})
	}
}

// UPG-3: a full upgrade into an existing subscription adds the licenses to
// it; the source ends. Business Basic annual 10 x 7200 bought at t0;
// Business Standard annual 5 x 15000 bought at t0+1h (same end date,
// window closed at t0+169h). Upgraded at t0+192h:
//
//	source: 192h elapsed -> 8 days used, 357 unused of 365
//	credit = round(72000 * 357 / 365)  = round(70421.92)  = 70422
//	target: 191h elapsed -> 8 days used, 357 unused of 365
//	charge = round(150000 * 357 / 365) = round(146712.33) = 146712
//	target period charge = 75000 + 146712 = 221712
func TestRule_UPG_3_FullUpgradeIntoExisting(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 10)
	dst := w.buy(t0.Add(time.Hour), uStandard, "P1Y", "annual", 5)
	at := t0.Add(192 * time.Hour)
	u := upgOf(src, uStandard)
	u.TargetSubscriptionID = dst
	ev, credit, charge := upgAccepted(t, w, w.upgrade(at, u))
	wantBilling(t, "credit", credit, src, uBasic, 70422, 10, 7200, messages.Proration{BaseMinor: 72000, UsedDays: 8, UnusedDays: 357, PeriodDays: 365}, "UPG-3")
	wantBilling(t, "charge", charge, dst, uStandard, 146712, 10, 15000, messages.Proration{BaseMinor: 150000, UsedDays: 8, UnusedDays: 357, PeriodDays: 365}, "UPG-3")
	if ev.Mode != UpgradeFullIntoExisting || ev.TargetSubscriptionID != dst || ev.SourceQuantity != 0 || ev.SourceStatus != StatusCancelled ||
		ev.TargetQuantity != 15 || !ev.LicensesReassigned || ev.Warning != "" {
		t.Errorf("upgraded = %+v", ev)
	}
	d := w.state.Subscriptions[dst]
	wantLots := []Lot{{Quantity: 5, AddedAt: t0.Add(time.Hour), ReducibleUntil: t0.Add(169 * time.Hour)}, {Quantity: 10, AddedAt: at, ReducibleUntil: at, Increase: true}}
	if d.Quantity != 15 || d.PeriodCharge != 221712 || d.UnitPrice != 15000 || d.Term != "P1Y" || d.BillingFrequency != "annual" ||
		!reflect.DeepEqual(d.Lots, wantLots) {
		t.Errorf("target after upgrade = %+v", d)
	}
	s := w.state.Subscriptions[src]
	if s.Status != StatusCancelled || s.CancelledAt == nil || !s.CancelledAt.Equal(at) || s.Quantity != 0 || s.AutoRenew || s.PeriodCharge != 72000-70422 {
		t.Errorf("source after upgrade = %+v", s)
	}
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == src {
			t.Errorf("source keeps timer %s", tm.ID)
		}
	}
}

// UPG-3: the existing target keeps its own billing frequency; the charge
// follows its period. Target Business Standard annual term billed monthly
// (5 x 1375), bought at t0+1h: period 2026-03-10..2026-04-09, 31 days, 8
// used at t0+192h, 23 unused.
//
//	charge = round(1375 * 10 * 23 / 31) = round(10201.61) = 10202
//	target period charge = 6875 + 10202 = 17077
//
// and the next period charges all 15 licenses: 15 x 1375 = 20625.
func TestRule_UPG_3_IntoExistingKeepsTargetBillingFrequency(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 10)
	dst := w.buy(t0.Add(time.Hour), uStandard, "P1Y", "monthly", 5)
	u := upgOf(src, uStandard)
	u.TargetSubscriptionID = dst
	ev, credit, charge := upgAccepted(t, w, w.upgrade(t0.Add(192*time.Hour), u))
	wantBilling(t, "credit", credit, src, uBasic, 70422, 10, 7200, messages.Proration{BaseMinor: 72000, UsedDays: 8, UnusedDays: 357, PeriodDays: 365}, "UPG-3")
	wantBilling(t, "charge", charge, dst, uStandard, 10202, 10, 1375, messages.Proration{BaseMinor: 13750, UsedDays: 8, UnusedDays: 23, PeriodDays: 31}, "UPG-3")
	if ev.BillingFrequency != "monthly" || ev.Term != "P1Y" || w.state.Subscriptions[dst].PeriodCharge != 17077 {
		t.Errorf("upgraded = %+v, target %+v", ev, w.state.Subscriptions[dst])
	}
	outs := w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))
	if got := chargesOf(eventsOf(outs)); got[dst] != 20625 || len(got) != 1 {
		t.Errorf("next period charges = %v, want %s: 20625", got, dst)
	}
}

// UPG-4: a partial upgrade creates a new subscription, co-terminous with
// the source. Business Basic annual term billed monthly, 10 x 630, bought
// at t0: period 2026-03-10..2026-04-09, 31 days. 4 licenses upgraded to
// Business Standard (1375) at t0+72h: 3 used, 28 unused.
//
//	credit = round(630 * 4 * 28 / 31)  = round(2276.13) = 2276
//	charge = round(1375 * 4 * 28 / 31) = round(4967.74) = 4968
//	source period charge = 6300 - 630 * 4 = 3780 (the 6 licenses it keeps)
//
// Cancelling the rest of the source at t0+96h (4 used, 27 unused) refunds
// exactly their unused days: round(3780 * 27 / 31) = round(3292.26) = 3292.
func TestRule_UPG_4_PartialUpgradeCreatesCoterminousSubscription(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "monthly", 10)
	at := t0.Add(72 * time.Hour)
	u := upgOf(src, uStandard)
	u.Quantity = intp(4)
	out := w.upgrade(at, u)
	ev, credit, charge := upgAccepted(t, w, out)
	newID := messages.DerivedID("sub", customer1, "cmd-"+itoa(w.n), 0)
	wantBilling(t, "credit", credit, src, uBasic, 2276, 4, 630, messages.Proration{BaseMinor: 2520, UsedDays: 3, UnusedDays: 28, PeriodDays: 31}, "UPG-4")
	wantBilling(t, "charge", charge, newID, uStandard, 4968, 4, 1375, messages.Proration{BaseMinor: 5500, UsedDays: 3, UnusedDays: 28, PeriodDays: 31}, "UPG-4")
	if ev.Mode != UpgradePartialNew || ev.TargetSubscriptionID != newID || ev.Quantity != 4 || ev.SourceQuantity != 6 ||
		ev.SourceStatus != StatusActive || ev.TargetQuantity != 4 || ev.TermEnd != "2027-03-09" ||
		ev.LicensesReassigned || ev.Warning != warnPartial {
		t.Errorf("upgraded = %+v", ev)
	}
	s, n := w.state.Subscriptions[src], w.state.Subscriptions[newID]
	if s.Quantity != 6 || s.PeriodCharge != 3780 || s.OfferID != uBasic || !reflect.DeepEqual(s.Lots, []Lot{{Quantity: 6, AddedAt: t0, ReducibleUntil: t0.Add(168 * time.Hour)}}) {
		t.Errorf("source after upgrade = %+v", s)
	}
	if n == nil || n.OfferID != uStandard || n.Quantity != 4 || n.UnitPrice != 1375 || n.PeriodCharge != 4968 ||
		!n.TermStart.Equal(s.TermStart) || !n.TermEnd.Equal(s.TermEnd) || !n.PeriodEnd.Equal(s.PeriodEnd) ||
		n.Term != "P1Y" || n.BillingFrequency != "monthly" || !n.AutoRenew || n.Status != StatusActive || !n.CancellableUntil.Equal(at) ||
		!reflect.DeepEqual(n.Lots, []Lot{{Quantity: 4, AddedAt: t0, ReducibleUntil: at}}) { // the moved licenses' instant, UPG-6
		t.Fatalf("new subscription = %+v", n)
	}
	// Co-terminous: both subscriptions' timers fire at the same instants.
	for _, kind := range []string{TimerTermEnd, TimerBillingPeriod} {
		if a, b := timerDue(t, w, src, kind), timerDue(t, w, newID, kind); !a.Equal(b) {
			t.Errorf("%s timers: source %v, new %v", kind, a, b)
		}
	}
	if got := timerDue(t, w, newID, TimerTermEnd); !got.Equal(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("term_end due %v", got)
	}

	// UPG-6: the new subscription cannot be cancelled; the source's own
	// licenses keep their window and are refunded exactly.
	wantRejected(t, w.do(partnerA, at.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(newID)), CodeCancelWindowClosed, "CAN-1")
	c := findEvent[*messages.BillingEvent](t, w.do(partnerA, t0.Add(96*time.Hour), messages.CmdSubscriptionCancel, cancelOf(src)), messages.EvtBillingCredit)
	if c.AmountMinor != 3292 {
		t.Errorf("cancellation credit of the 6 remaining licenses = %d, want 3292", c.AmountMinor)
	}
	// The next period charges the new subscription only: 4 x 1375.
	outs := w.advance(time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC))
	if got := chargesOf(eventsOf(outs)); got[newID] != 5500 || len(got) != 1 {
		t.Errorf("next period charges = %v, want %s: 5500", got, newID)
	}
}

// UPG-4 into an existing subscription: Business Basic annual 10 x 7200 at
// t0, Business Standard annual 5 x 15000 at t0+1h; 4 licenses upgraded at
// t0+192h (357 of 365 days unused on both).
//
//	credit = round(7200 * 4 * 357 / 365)  = round(28168.77) = 28169
//	charge = round(15000 * 4 * 357 / 365) = round(58684.93) = 58685
//	source period charge = 72000 - 7200 * 4 = 43200; target = 75000 + 58685 = 133685
func TestRule_UPG_4_PartialUpgradeIntoExisting(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 10)
	dst := w.buy(t0.Add(time.Hour), uStandard, "P1Y", "annual", 5)
	u := upgOf(src, uStandard)
	u.Quantity, u.TargetSubscriptionID = intp(4), dst
	ev, credit, charge := upgAccepted(t, w, w.upgrade(t0.Add(192*time.Hour), u))
	wantBilling(t, "credit", credit, src, uBasic, 28169, 4, 7200, messages.Proration{BaseMinor: 28800, UsedDays: 8, UnusedDays: 357, PeriodDays: 365}, "UPG-4")
	wantBilling(t, "charge", charge, dst, uStandard, 58685, 4, 15000, messages.Proration{BaseMinor: 60000, UsedDays: 8, UnusedDays: 357, PeriodDays: 365}, "UPG-4")
	if ev.Mode != UpgradePartialIntoExisting || ev.SourceQuantity != 6 || ev.TargetQuantity != 9 || ev.Warning != warnPartial {
		t.Errorf("upgraded = %+v", ev)
	}
	if s, d := w.state.Subscriptions[src], w.state.Subscriptions[dst]; s.Quantity != 6 || s.PeriodCharge != 43200 || s.Status != StatusActive ||
		d.Quantity != 9 || d.PeriodCharge != 133685 {
		t.Errorf("source %+v\ntarget %+v", s, d)
	}
}

// UPG-4 then CAN-1: a partial upgrade that moves the newest, prorated lot
// leaves the source charged exactly for the licenses it keeps. Business
// Basic annual, 10 x 7200 bought at t0 (2026-03-10 14:00Z, period
// 2026-03-10..2027-03-09, 365 days):
//
//	t0+72h  +10 licenses (QTY-1): 3 days used before, 362 charged
//	        round(72000 * 362 / 365) = round(71408.22) = 71408
//	        period charge 72000 + 71408 = 143408
//	t0+80h  those 10 (the newest lot) upgraded to Business Standard:
//	        4 days used, credit round(72000 * 361 / 365) = 71211
//	        the source keeps the 10 bought at t0, charged 72000 for the
//	        period: its period charge becomes 143408 - 71408 = 72000
//	t0+100h cancelled inside the window: 5 started days used, 360 unused
//	        credit round(72000 * 360 / 365) = round(71013.70) = 71014
//
// Taking the moved licenses' full price (72000) off instead of what they
// were charged (71408) leaves 71408 and credits round(71408 * 360 / 365)
// = 70430: the kept licenses' first three days would be lost to the
// partner.
func TestRule_UPG_4_SourceKeepsTheChargeOfTheLicensesItHolds(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 10)
	inc := findEvent[*messages.BillingEvent](t, w.do(partnerA, t0.Add(72*time.Hour), messages.CmdQuantityChange, qtyOf(src, 20)), messages.EvtBillingCharge)
	if inc.AmountMinor != 71408 {
		t.Fatalf("increase charge = %d, want 71408", inc.AmountMinor)
	}
	u := upgOf(src, uStandard)
	u.Quantity = intp(10)
	_, credit, _ := upgAccepted(t, w, w.upgrade(t0.Add(80*time.Hour), u))
	wantBilling(t, "credit", credit, src, uBasic, 71211, 10, 7200, messages.Proration{BaseMinor: 72000, UsedDays: 4, UnusedDays: 361, PeriodDays: 365}, "UPG-4")
	s := w.state.Subscriptions[src]
	if s.Quantity != 10 || s.PeriodCharge != 72000 || !reflect.DeepEqual(s.Lots, []Lot{{Quantity: 10, AddedAt: t0, ReducibleUntil: t0.Add(168 * time.Hour)}}) {
		t.Errorf("source after upgrade = %+v", s)
	}
	c := findEvent[*messages.BillingEvent](t, w.do(partnerA, t0.Add(100*time.Hour), messages.CmdSubscriptionCancel, cancelOf(src)), messages.EvtBillingCredit)
	if c.AmountMinor != 71014 {
		t.Errorf("cancellation credit of the 10 kept licenses = %d, want 71014", c.AmountMinor)
	}
}

// UPG-4: licenses leave the source's newest lots first, each with what it
// was charged for the period. 720 a license for 2026-03-10..2027-03-09
// (365 days), begun at t0: 5 bought with the period (3600), 3 added at
// t0+48h (2 days used before: round(2160 * 363 / 365) = 2148), 2 at
// t0+72h (3 days: round(1440 * 362 / 365) = 1428); period charge 7176.
// Taking 4 removes the 2 newest (1428) and 2 of the 3 (2148 - round(720 *
// 363 / 365) = 2148 - 716 = 1432): 7176 - 2860 = 4316 = 3600 + 716.
func TestRule_UPG_4_LicensesLeaveNewestLotsFirst(t *testing.T) {
	a, b, c := t0, t0.Add(48*time.Hour), t0.Add(72*time.Hour)
	s := &Subscription{Quantity: 10, UnitPrice: 720, PeriodCharge: 7176,
		PeriodStart: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), PeriodEnd: time.Date(2027, 3, 9, 0, 0, 0, 0, time.UTC), PeriodStartedAt: t0,
		Lots: []Lot{{Quantity: 5, AddedAt: a}, {Quantity: 3, AddedAt: b}, {Quantity: 2, AddedAt: c}}}
	takeLicenses(s, 4)
	if s.Quantity != 6 || s.PeriodCharge != 4316 || !reflect.DeepEqual(s.Lots, []Lot{{Quantity: 5, AddedAt: a}, {Quantity: 1, AddedAt: b}}) {
		t.Errorf("after taking 4: %+v", s)
	}
}

// UPG-5: an existing subscription is not an eligible target inside its own
// cancellation window, with another term length, or ending before the
// source; nor when it is not the acting partner's active subscription of
// the target offer, or has no room for the licenses.
func TestRule_UPG_5_ExistingTargetEligibility(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(w *world) (src, dst string)
		at    time.Time
		code  string
		rule  string
		data  map[string]string
	}{
		{"UPG-5 target inside its cancellation window", func(w *world) (string, string) {
			return w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0.Add(time.Hour), uStandard, "P1Y", "annual", 5)
		}, t0.Add(168 * time.Hour), CodeUpgradeTargetInWindow, "UPG-5", map[string]string{"window_end": t0.Add(169 * time.Hour).Format(time.RFC3339Nano)}},
		{"UPG-5 target term length differs", func(w *world) (string, string) {
			return w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0.Add(time.Hour), uStandard, "P1M", "monthly", 5)
		}, t0.Add(192 * time.Hour), CodeUpgradeTargetTermDiffers, "UPG-5", map[string]string{"term": "P1Y", "target_term": "P1M"}},
		{"UPG-5 target ends before the source", func(w *world) (string, string) {
			dst := w.buy(t0, uStandard, "P1Y", "annual", 5)
			return w.buy(t0.Add(24*time.Hour), uBasic, "P1Y", "annual", 10), dst
		}, t0.Add(240 * time.Hour), CodeUpgradeTargetEndsBefore, "UPG-5", map[string]string{"term_end": "2027-03-10", "target_term_end": "2027-03-09"}},
		{"UPG-3 target of another offer", func(w *world) (string, string) {
			return w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uPremium, "P1Y", "annual", 5)
		}, t0.Add(192 * time.Hour), CodeUpgradeTargetOfferMismatch, "UPG-3", map[string]string{"target_subscription_offer_id": uPremium}},
		{"UPG-1 suspended target", func(w *world) (string, string) {
			src, dst := w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uStandard, "P1Y", "annual", 5)
			wantAccepted(w.t.(*testing.T), w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(dst, "non_payment")))
			return src, dst
		}, t0.Add(192 * time.Hour), CodeUpgradeTargetNotActive, "UPG-1", map[string]string{"status": StatusSuspended}},
		{"UPG-1 trial target", func(w *world) (string, string) {
			src, dst := w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uStandard, "P1Y", "annual", 5)
			d := w.state.Subscriptions[dst].clone()
			d.Trial = true
			w.state.Subscriptions[dst] = &d
			return src, dst
		}, t0.Add(192 * time.Hour), CodeUpgradeTargetNotActive, "UPG-1", map[string]string{"trial": "true"}},
		{"PTN-1 target of another partner of record", func(w *world) (string, string) {
			src, dst := w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uStandard, "P1Y", "annual", 5)
			d := w.state.Subscriptions[dst].clone()
			d.PartnerID = partnerB
			w.state.Subscriptions[dst] = &d
			return src, dst
		}, t0.Add(192 * time.Hour), CodeNotPartnerOfRecord, "PTN-1", nil},
		{"PTN-1 unknown target", func(w *world) (string, string) {
			return w.buy(t0, uBasic, "P1Y", "annual", 10), "sub-nope"
		}, t0.Add(192 * time.Hour), CodeSubscriptionNotFound, "PTN-1", nil},
		{"GEN-6 target is the source", func(w *world) (string, string) {
			src := w.buy(t0, uBasic, "P1Y", "annual", 10)
			return src, src
		}, t0.Add(192 * time.Hour), CodeInvalidField, "GEN-6", map[string]string{"field": "data.target_subscription_id"}},
		{"CAN-2 cancelled target", func(w *world) (string, string) {
			src, dst := w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uStandard, "P1Y", "annual", 5)
			wantAccepted(w.t.(*testing.T), w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(dst)))
			return src, dst
		}, t0.Add(192 * time.Hour), CodeSubscriptionCancelled, "CAN-2", nil},
		{"ORD-6 no room in the target", func(w *world) (string, string) {
			return w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uStandard, "P1Y", "annual", 295)
		}, t0.Add(192 * time.Hour), CodeQuantityOutOfRange, "ORD-6", map[string]string{"quantity": "305", "max_quantity": "300"}},
		{"REN-4 target renewing", func(w *world) (string, string) {
			src, dst := w.buy(t0, uBasic, "P1Y", "annual", 10), w.buy(t0, uStandard, "P1Y", "annual", 5)
			d := w.state.Subscriptions[dst].clone()
			since := t0.Add(191 * time.Hour)
			d.RenewalPendingSince = &since
			w.state.Subscriptions[dst] = &d
			return src, dst
		}, t0.Add(192 * time.Hour), CodeConflict, "REN-4", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := upgWorld(t, "commercial")
			w.t = t
			src, dst := tc.setup(w)
			before := w.state
			u := upgOf(src, uStandard)
			u.TargetSubscriptionID = dst
			rej := wantRejected(t, w.upgrade(tc.at, u), tc.code, tc.rule)
			for k, v := range tc.data {
				if rej.Data[k] != v {
					t.Errorf("data[%q] = %q, want %q (%v)", k, rej.Data[k], v, rej.Data)
				}
			}
			if !reflect.DeepEqual(w.state.Subscriptions, before.Subscriptions) {
				t.Error("a rejected upgrade changed state")
			}
		})
	}

	// Ending after the source is fine: target bought a day later.
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 10)
	dst := w.buy(t0.Add(24*time.Hour), uStandard, "P1Y", "annual", 5)
	u := upgOf(src, uStandard)
	u.TargetSubscriptionID = dst
	if ev, _, _ := upgAccepted(t, w, w.upgrade(t0.Add(200*time.Hour), u)); ev.TargetQuantity != 15 {
		t.Errorf("upgraded = %+v", ev)
	}
}

// UPG-1 and the checks before any upgrade.
func TestRule_UPG_1_OnlyActivePaidSubscriptionsToAHigherSKUOnAPath(t *testing.T) {
	at := t0.Add(72 * time.Hour)
	for _, tc := range []struct {
		name    string
		segment string
		setup   func(w *world) string
		partner string
		data    func(id string) *messages.UpgradeData
		code    string
		rule    string
	}{
		{"UPG-1 downgrade", "commercial", func(w *world) string { return w.buy(t0, uStandard, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, uBasic) }, CodeUpgradePathNotSupported, "UPG-1"},
		{"UPG-1 same SKU", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, uBasic) }, CodeUpgradePathNotSupported, "UPG-1"},
		{"UPG-1 not on the offer's paths", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, uM365E5) }, CodeUpgradePathNotSupported, "UPG-1"},
		{"UPG-1 unknown offer", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, "CFQ7TTC0ZZZZ:0001") }, CodeOfferNotFound, "UPG-1"},
		{"UPG-1 suspended source", "commercial", func(w *world) string {
			id := w.buy(t0, uBasic, "P1Y", "annual", 10)
			w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(id, "customer_request"))
			return id
		}, partnerA, func(id string) *messages.UpgradeData { return upgOf(id, uStandard) }, CodeUpgradeSourceNotActive, "UPG-1"},
		{"UPG-1 trial source", "commercial", func(w *world) string {
			id := w.buy(t0, uBasic, "P1Y", "annual", 10)
			s := w.state.Subscriptions[id].clone()
			s.Trial = true
			w.state.Subscriptions[id] = &s
			return id
		}, partnerA, func(id string) *messages.UpgradeData { return upgOf(id, uStandard) }, CodeUpgradeTrial, "UPG-1"},
		{"CAN-2 cancelled source", "commercial", func(w *world) string {
			id := w.buy(t0, uBasic, "P1Y", "annual", 10)
			w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
			return id
		}, partnerA, func(id string) *messages.UpgradeData { return upgOf(id, uStandard) }, CodeSubscriptionCancelled, "CAN-2"},
		{"PTN-1 another partner", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerB,
			func(id string) *messages.UpgradeData { return upgOf(id, uStandard) }, CodeNoRelationship, "PTN-1"},
		{"ORD-3 target not sold to the segment", "nonprofit", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, uPremium) }, CodeSegmentNotEligible, "ORD-3"},
		{"ORD-2 one-per-customer target held already", "nonprofit", func(w *world) string {
			w.buy(t0, uPremiumGrant, "P1Y", "annual", 5)
			return w.buy(t0, uBasicGrant, "P1Y", "annual", 5)
		}, partnerA, func(id string) *messages.UpgradeData { return upgOf(id, uPremiumGrant) }, CodeOnePerCustomer, "ORD-2"},
		{"ORD-6 more licenses than the target sells", "nonprofit", func(w *world) string { return w.buy(t0, uBasicGrant, "P1Y", "annual", 11) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, uPremiumGrant) }, CodeQuantityOutOfRange, "ORD-6"},
		{"UPG-4 more licenses than held", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { u := upgOf(id, uStandard); u.Quantity = intp(11); return u }, CodeQuantityOutOfRange, "UPG-4"},
		{"GEN-6 quantity 0", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { u := upgOf(id, uStandard); u.Quantity = intp(0); return u }, CodeInvalidField, "GEN-6"},
		{"GEN-6 unknown when", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { u := upgOf(id, uStandard); u.When = "tomorrow"; return u }, CodeInvalidField, "GEN-6"},
		{"GEN-6 no target offer", "commercial", func(w *world) string { return w.buy(t0, uBasic, "P1Y", "annual", 10) }, partnerA,
			func(id string) *messages.UpgradeData { return upgOf(id, "") }, CodeInvalidField, "GEN-6"},
		{"REN-4 source renewing", "commercial", func(w *world) string {
			id := w.buy(t0, uBasic, "P1Y", "annual", 10)
			s := w.state.Subscriptions[id].clone()
			since := t0.Add(time.Hour)
			s.RenewalPendingSince = &since
			w.state.Subscriptions[id] = &s
			return id
		}, partnerA, func(id string) *messages.UpgradeData { return upgOf(id, uStandard) }, CodeConflict, "REN-4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := upgWorld(t, tc.segment)
			w.t = t
			id := tc.setup(w)
			before := w.state
			wantRejected(t, w.do(tc.partner, at, messages.CmdUpgrade, tc.data(id)), tc.code, tc.rule)
			if !reflect.DeepEqual(w.state.Subscriptions, before.Subscriptions) {
				t.Error("a rejected upgrade changed state")
			}
		})
	}
}

// GEN-4: the target must sell the source's term and billing frequency for
// an in-place or new subscription. Exchange Online sells no P1M plan here.
func TestRule_UPG_1_TargetMustSellTheSourcePlan(t *testing.T) {
	w := upgWorld(t, "commercial")
	c, err := catalog.Parse([]byte(strings.Replace(upgradeCatalog,
		`"upgrade_paths": ["CFQ7TTC0LDPB:0001", "CFQ7TTC0LCHC:0002"],
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 7200}},`,
		`"upgrade_paths": ["CFQ7TTC0LDPB:0001", "CFQ7TTC0LCHC:0002", "CFQ7TTC0LH16:0001"],
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 7200}},`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	w.cat = c
	if o, _ := c.Offer(uBasic); !o.UpgradesTo(uExchange) {
		t.Fatal("fixture: Business Basic should upgrade to Exchange Online here")
	}
	id := w.buy(t0, uBasic, "P1M", "monthly", 10)
	rej := wantRejected(t, w.upgrade(t0.Add(time.Hour), upgOf(id, uExchange)), CodePlanNotAvailable, "GEN-4")
	if rej.Data["term"] != "P1M" || rej.Data["billing_frequency"] != "monthly" {
		t.Errorf("data = %v", rej.Data)
	}
}

// UPG-2: the programme's table of unsupported upgrades wins over the
// catalog's upgrade paths, now and scheduled.
func TestRule_UPG_2_UnsupportedUpgradesAreRejected(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to string
		when     string
	}{
		{"UPG-2 EMS E3 to EMS E5", uEMSE3, uEMSE5, ""},
		{"UPG-2 EMS E3 to EMS E5 at renewal", uEMSE3, uEMSE5, "renewal"},
		{"UPG-2 EMS E5 to Microsoft 365 E5", uEMSE5, uM365E5, "now"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := upgWorld(t, "commercial")
			if o, _ := w.cat.Offer(tc.from); !o.UpgradesTo(tc.to) {
				t.Fatal("fixture: the pair should be on an upgrade path too")
			}
			id := w.buy(t0, tc.from, "P1Y", "annual", 10)
			u := upgOf(id, tc.to)
			u.When = tc.when
			rej := wantRejected(t, w.upgrade(t0.Add(200*time.Hour), u), CodeUpgradeNotSupported, "UPG-2")
			if rej.Data["from_offer_id"] != tc.from || rej.Data["target_offer_id"] != tc.to {
				t.Errorf("data = %v", rej.Data)
			}
		})
	}
}

// UPG-6: an upgrade cannot be undone. Upgraded in place at t0+1h, inside
// the 168-hour window: the window closes at once, cancelling is refused,
// and no license is reducible any more. Amounts (1 day used, 364 unused):
// credit round(72000 * 364 / 365) = 71803, charge round(150000 * 364 /
// 365) = 149589.
func TestRule_UPG_6_UpgradeHasNoCancellationWindow(t *testing.T) {
	w := upgWorld(t, "commercial")
	id := w.buy(t0, uBasic, "P1Y", "annual", 10)
	if s := w.state.Subscriptions[id]; !s.CancellableUntil.Equal(t0.Add(168 * time.Hour)) {
		t.Fatalf("fixture: window until %v", s.CancellableUntil)
	}
	at := t0.Add(time.Hour)
	_, credit, charge := upgAccepted(t, w, w.upgrade(at, upgOf(id, uStandard)))
	if credit.AmountMinor != 71803 || charge.AmountMinor != 149589 {
		t.Errorf("credit %d, charge %d; want 71803, 149589", credit.AmountMinor, charge.AmountMinor)
	}
	s := w.state.Subscriptions[id]
	if !s.CancellableUntil.Equal(at) || s.CancelWindowHours != 168 {
		t.Errorf("cancellable until %v", s.CancellableUntil)
	}
	for _, l := range s.Lots {
		if l.ReducibleUntil.After(at) {
			t.Errorf("lot %+v still reducible after the upgrade", l)
		}
	}
	rej := wantRejected(t, w.do(partnerA, at.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id)), CodeCancelWindowClosed, "CAN-1")
	if rej.Data["window_end"] != at.Format(time.RFC3339Nano) {
		t.Errorf("window_end = %s, want %s", rej.Data["window_end"], at.Format(time.RFC3339Nano))
	}
	// The renewal opens a new window, as for any renewal (REN-2).
	w.advance(s.termEndsAt().Add(30 * time.Minute))
	if r := w.state.Subscriptions[id]; !r.CancellableUntil.After(s.termEndsAt()) {
		t.Errorf("renewed window until %v", r.CancellableUntil)
	}
}

// UPG-7: an upgrade scheduled for the term end is stored as the scheduled
// offer change and charges nothing now; the renewal applies it. An
// immediate upgrade removes it (SCH-3).
func TestRule_UPG_7_ScheduledUpgradeAndImmediateUpgradeRemovesIt(t *testing.T) {
	w := upgWorld(t, "commercial")
	id := w.buy(t0, uBasic, "P1Y", "annual", 10)
	u := upgOf(id, uStandard)
	u.When = "renewal"
	out := w.upgrade(t0.Add(240*time.Hour), u)
	wantAccepted(t, out)
	if got := typesWithoutNotices(out); !reflect.DeepEqual(got, []messages.EventType{messages.EvtSubscriptionUpgraded}) {
		t.Fatalf("events = %v, want only subscription.upgraded", got)
	}
	ev := findEvent[*messages.SubscriptionUpgradedEvent](t, out, messages.EvtSubscriptionUpgraded)
	want := messages.SubscriptionUpgradedEvent{
		SubscriptionID: id, FromOfferID: uBasic, TargetOfferID: uStandard, TargetSubscriptionID: id, Quantity: 10,
		Mode: UpgradeScheduled, LicensesReassigned: true, SourceQuantity: 10, SourceStatus: StatusActive,
		TargetQuantity: 10, Term: "P1Y", BillingFrequency: "annual", TermEnd: "2028-03-09", Currency: "USD",
		RenewsOn: "2027-03-10", Scheduled: &messages.ScheduledChangeView{OfferID: uStandard},
	}
	if !reflect.DeepEqual(*ev, want) {
		t.Errorf("upgraded = %+v\nwant       %+v", *ev, want)
	}
	s := w.state.Subscriptions[id]
	if s.OfferID != uBasic || s.Scheduled == nil || *s.Scheduled != (ScheduledChange{OfferID: uStandard}) || s.PeriodCharge != 72000 {
		t.Fatalf("after scheduling: %+v (scheduled %+v)", s, s.Scheduled)
	}

	// An immediate upgrade to Business Premium 20 days in removes it:
	// 345 of 365 days unused, credit round(72000*345/365) =
	// round(68054.79) = 68055, charge round(264000*345/365) =
	// round(249534.25) = 249534.
	out = w.upgrade(t0.Add(480*time.Hour), upgOf(id, uPremium))
	_, credit, charge := upgAccepted(t, w, out)
	if got := eventTypes(out); got[0] != messages.EvtScheduleChanged || len(got) != 4 {
		t.Fatalf("events = %v", got)
	}
	if sc := out.Events[0].Data.(*messages.ScheduleChangedEvent); sc.SubscriptionID != id || sc.Reason != string(messages.CmdUpgrade) || sc.Scheduled != nil {
		t.Errorf("schedule.changed = %+v", sc)
	}
	if credit.AmountMinor != 68055 || charge.AmountMinor != 249534 {
		t.Errorf("credit %d charge %d", credit.AmountMinor, charge.AmountMinor)
	}
	if s := w.state.Subscriptions[id]; s.Scheduled != nil || s.OfferID != uPremium {
		t.Errorf("after the immediate upgrade: %+v", s)
	}
}

// UPG-7/SCH-1: the renewal applies a scheduled upgrade: the new term is
// the target SKU at its price (10 x 15000).
func TestRule_UPG_7_RenewalAppliesScheduledUpgrade(t *testing.T) {
	w := upgWorld(t, "commercial")
	id := w.buy(t0, uBasic, "P1Y", "annual", 10)
	u := upgOf(id, uStandard)
	u.When = "renewal"
	wantAccepted(t, w.upgrade(t0.Add(240*time.Hour), u))
	outs := w.advance(time.Date(2027, 3, 10, 0, 30, 0, 0, time.UTC))
	s := w.state.Subscriptions[id]
	if s.OfferID != uStandard || s.Scheduled != nil || s.Renewals != 1 {
		t.Errorf("after renewal: %+v", s)
	}
	if got := chargesOf(eventsOf(outs))[id]; got != 150000 {
		t.Errorf("renewal charge = %d, want 150000", got)
	}
}

// UPG-7, SCH-2, SCH-4: what a scheduled upgrade needs, and its warning
// when a quantity change is scheduled with it.
func TestRule_UPG_7_ScheduledUpgradeRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(w *world, id string)
		data  func(u *messages.UpgradeData)
		code  string
		rule  string
	}{
		{"SCH-2 auto-renew off", func(w *world, id string) {
			w.do(partnerA, t0.Add(time.Hour), messages.CmdAutoRenewSet, autoRenewOf(id, false))
		}, nil, CodeUpgradeScheduleNotAllowed, "SCH-2"},
		{"UPG-7 partial upgrade cannot be scheduled", nil, func(u *messages.UpgradeData) { u.Quantity = intp(4) }, CodeUpgradeScheduledPartial, "UPG-7"},
		{"UPG-7 scheduled into an existing subscription", nil, func(u *messages.UpgradeData) { u.TargetSubscriptionID = "sub-x" }, CodeInvalidField, "GEN-6"},
		{"REN-4 scheduling while renewing is read-only", func(w *world, id string) {
			s := w.state.Subscriptions[id].clone()
			since := t0.Add(time.Hour)
			s.RenewalPendingSince = &since
			w.state.Subscriptions[id] = &s
		}, nil, CodeRenewalPending, "REN-4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := upgWorld(t, "commercial")
			id := w.buy(t0, uBasic, "P1Y", "annual", 10)
			if tc.setup != nil {
				tc.setup(w, id)
			}
			u := upgOf(id, uStandard)
			u.When = "renewal"
			if tc.data != nil {
				tc.data(u)
			}
			wantRejected(t, w.upgrade(t0.Add(48*time.Hour), u), tc.code, tc.rule)
		})
	}

	t.Run("SCH-4 scheduled quantity change: licenses assigned by hand", func(t *testing.T) {
		w := upgWorld(t, "commercial")
		id := w.buy(t0, uBasic, "P1Y", "annual", 10)
		s := w.state.Subscriptions[id].clone()
		s.Scheduled = &ScheduledChange{Quantity: 12}
		w.state.Subscriptions[id] = &s
		u := upgOf(id, uStandard)
		u.When = "renewal"
		out := w.upgrade(t0.Add(48*time.Hour), u)
		wantAccepted(t, out)
		ev := findEvent[*messages.SubscriptionUpgradedEvent](t, out, messages.EvtSubscriptionUpgraded)
		if ev.Warning != warnSCH4 || ev.LicensesReassigned || ev.TargetQuantity != 12 ||
			*ev.Scheduled != (messages.ScheduledChangeView{OfferID: uStandard, Quantity: 12}) {
			t.Errorf("upgraded = %+v", ev)
		}
		if sc := w.state.Subscriptions[id].Scheduled; *sc != (ScheduledChange{OfferID: uStandard, Quantity: 12}) {
			t.Errorf("scheduled = %+v", sc)
		}
	})
}

// UPG-8: two different SKUs into one higher SKU. Business Basic annual 10
// x 7200 (A) and Exchange Online (Plan 1) annual 5 x 4800 (B), both bought
// at t0. A is upgraded in place to Business Premium (26400) at t0+72h (3
// used, 362 unused of 365):
//
//	credit round(72000 * 362 / 365) = 71408, charge round(264000 * 362 / 365) = 261830
//	A's period charge = 72000 - 71408 + 261830 = 262422
//
// then B into A at t0+73h (4 used, 361 unused; A's window closed with its
// upgrade, UPG-6, so A is eligible, UPG-5):
//
//	credit round(24000 * 361 / 365) = 23737, charge round(26400 * 5 * 361 / 365) = 130553
//	A's period charge = 262422 + 130553 = 392975, 15 licenses; B ends.
func TestRule_UPG_8_TwoToOne(t *testing.T) {
	w := upgWorld(t, "commercial")
	a := w.buy(t0, uBasic, "P1Y", "annual", 10)
	b := w.buy(t0, uExchange, "P1Y", "annual", 5)

	ev, credit, charge := upgAccepted(t, w, w.upgrade(t0.Add(72*time.Hour), upgOf(a, uPremium)))
	if ev.Mode != UpgradeFullInPlace || credit.AmountMinor != 71408 || charge.AmountMinor != 261830 || w.state.Subscriptions[a].PeriodCharge != 262422 {
		t.Fatalf("first upgrade: %+v, credit %d, charge %d", ev, credit.AmountMinor, charge.AmountMinor)
	}

	beforeA, beforeB := w.state.Subscriptions[a], w.state.Subscriptions[b]
	snapA, snapB := beforeA.clone(), beforeB.clone()
	u := upgOf(b, uPremium)
	u.TargetSubscriptionID = a
	ev, credit, charge = upgAccepted(t, w, w.upgrade(t0.Add(73*time.Hour), u))
	wantBilling(t, "credit", credit, b, uExchange, 23737, 5, 4800, messages.Proration{BaseMinor: 24000, UsedDays: 4, UnusedDays: 361, PeriodDays: 365}, "UPG-3")
	wantBilling(t, "charge", charge, a, uPremium, 130553, 5, 26400, messages.Proration{BaseMinor: 132000, UsedDays: 4, UnusedDays: 361, PeriodDays: 365}, "UPG-3")
	if ev.Mode != UpgradeFullIntoExisting || ev.TargetSubscriptionID != a || ev.TargetQuantity != 15 || ev.SourceStatus != StatusCancelled {
		t.Errorf("second upgrade: %+v", ev)
	}
	if s := w.state.Subscriptions[a]; s.Quantity != 15 || s.PeriodCharge != 392975 || s.OfferID != uPremium {
		t.Errorf("A after two-to-one: %+v", s)
	}
	if s := w.state.Subscriptions[b]; s.Status != StatusCancelled || s.Quantity != 0 {
		t.Errorf("B after two-to-one: %+v", s)
	}
	// Decide never mutates the state it was given.
	if !reflect.DeepEqual(*beforeA, snapA) || !reflect.DeepEqual(*beforeB, snapB) {
		t.Error("the upgrade mutated its input state")
	}
	// Only A renews: 15 x 26400.
	outs := w.advance(time.Date(2027, 3, 10, 0, 30, 0, 0, time.UTC))
	if got := chargesOf(eventsOf(outs)); got[a] != 396000 || len(got) != 1 {
		t.Errorf("renewal charges = %v", got)
	}
}

// ORD-2: a one-per-customer target can still receive licenses into the
// existing subscription. Free grants: the credit and charge are 0 and
// still emitted.
func TestRule_UPG_3_IntoOnePerCustomerSubscription(t *testing.T) {
	w := upgWorld(t, "nonprofit")
	dst := w.buy(t0, uPremiumGrant, "P1Y", "annual", 5)
	src := w.buy(t0, uBasicGrant, "P1Y", "annual", 5)
	u := upgOf(src, uPremiumGrant)
	u.TargetSubscriptionID = dst
	ev, credit, charge := upgAccepted(t, w, w.upgrade(t0.Add(200*time.Hour), u))
	if credit.AmountMinor != 0 || charge.AmountMinor != 0 || ev.TargetQuantity != 10 {
		t.Errorf("upgraded %+v, credit %d, charge %d", ev, credit.AmountMinor, charge.AmountMinor)
	}
}

// UPG-4: the credit of a partial upgrade counts each moved license's days
// from when its lot was added, as a QTY-2 decrease of the same licenses
// would, and the new subscription is charged the new price for exactly
// those days. Business Basic annual, USD 72.00, 2026-03-10..2027-03-09
// (365 days): 3 bought at t0 (14:00Z), 1 more at t0+1h (its purchase day
// counted before it: 364 days charged, 7180). At t0+24h 2 are upgraded
// to Business Standard (USD 150.00), newest first:
//
//	the license added at t0+1h: 1 day before it + 1 started day held = 2, 363 unused
//	one of the 3 bought at t0:  1 started day held, 364 unused
//	credit = round(7200 × (363 + 364) / 365)  = round(14340.82) = 14341
//	charge = round(15000 × (363 + 364) / 365) = round(29876.71) = 29877
//
// Counting every moved license's days from the period's start (364 + 364)
// gave 14361 and 29918: the added license would be credited a day it
// held. The new subscription keeps the moved lots' instants, so a later
// upgrade of it credits the same days again (UPG-3 to Business Premium at
// t0+48h, USD 264.00: 362 + 363 unused, round(15000 × 725 / 365) = 29795
// back, round(26400 × 725 / 365) = 52438 charged).
func TestRule_UPG_4_ChargesTheNewPriceForTheCreditedLicenseDays(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 3)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdQuantityChange, qtyOf(src, 4)))
	u := upgOf(src, uStandard)
	u.Quantity = intp(2)
	_, credit, charge := upgAccepted(t, w, w.upgrade(t0.Add(24*time.Hour), u))
	newID := messages.DerivedID("sub", customer1, "cmd-"+itoa(w.n), 0)
	if credit.AmountMinor != 14341 || credit.SubscriptionID != src || credit.Rule != "UPG-4" || credit.Quantity != 2 {
		t.Errorf("credit = %+v, want 14341 on %s", credit, src)
	}
	if charge.AmountMinor != 29877 || charge.SubscriptionID != newID || charge.Rule != "UPG-4" || charge.Quantity != 2 {
		t.Errorf("charge = %+v, want 29877 on %s", charge, newID)
	}
	if got := w.state.Subscriptions[newID].PeriodCharge; got != 29877 {
		t.Errorf("new subscription's period charge %d, want 29877", got)
	}
	_, credit, charge = upgAccepted(t, w, w.upgrade(t0.Add(48*time.Hour), upgOf(newID, uPremium)))
	if credit.AmountMinor != 29795 || charge.AmountMinor != 52438 || credit.Rule != "UPG-3" {
		t.Errorf("second upgrade: credit %d, charge %d, want 29795 and 52438", credit.AmountMinor, charge.AmountMinor)
	}
}

// UPG-4 after lots were compacted: licenses whose window closed are
// stored as one lot, but licenses added during the period keep their own
// instant, so an upgrade still credits their days as a decrease would.
// Business Basic annual USD 72.00 (365 days): 1 at t0, +1 at t0+1h, +1 at
// t0+170h (both earlier windows closed then). At t0+171h 2 are upgraded:
//
//	the license of t0+170h: 8 days before it + 1 held = 9, 356 unused
//	the license of t0+1h:   1 day before it + 8 held  = 9, 356 unused
//	credit = round(7200 × 712 / 365) = round(14044.93) = 14045
//
// Merged into the t0 lot, the second license counted 8 days (357 unused,
// 14065).
func TestRule_UPG_4_CompactedLotsKeepTheirDays(t *testing.T) {
	w := upgWorld(t, "commercial")
	src := w.buy(t0, uBasic, "P1Y", "annual", 1)
	wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdQuantityChange, qtyOf(src, 2)))
	wantAccepted(t, w.do(partnerA, t0.Add(170*time.Hour), messages.CmdQuantityChange, qtyOf(src, 3)))
	u := upgOf(src, uStandard)
	u.Quantity = intp(2)
	_, credit, _ := upgAccepted(t, w, w.upgrade(t0.Add(171*time.Hour), u))
	if credit.AmountMinor != 14045 {
		t.Errorf("credit %d (%+v), want 14045 = 7200 × 712 / 365", credit.AmountMinor, credit.LotProrations)
	}
}
