package rules

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Software offers of the tests (prices per license for the whole plan
// period, USD cents and yen).
const (
	swWinServer = "DG7GMGF0D7FV:0005" // perpetual, keys and downloads
	swSQL       = "DG7GMGF0FKZV:0002" // software subscription, keys and downloads
	swESU       = "DG7GMGF0CQ4M:0001" // Windows 7 ESU 2020: keys, support request to cancel
	swSUSE      = "DG7GMGF0BXM1:0001" // SUSE plan: not cancellable
	swRHEL      = "DG7GMGF0BXM5:0001" // Red Hat plan: not cancellable
)

const swOffers = `[
 {"id": "DG7GMGF0D7FV:0005", "name": "Windows Server 2022 Standard - 16 Core License Pack (perpetual)", "publisher": "microsoft",
  "commerce_type": "software", "billing_type": "license", "one_per_customer": false, "segments": ["commercial"], "min_quantity": 1, "max_quantity": 1000,
  "software": {"perpetual": true, "cancellable": true, "activation_keys": true, "downloads": true},
  "plans": [{"term": "perpetual", "billing_frequency": "one_time", "prices": {"USD": 106900, "JPY": 160350}}]},
 {"id": "DG7GMGF0FKZV:0002", "name": "SQL Server 2022 Standard - 2 Core (software subscription)", "publisher": "microsoft",
  "commerce_type": "software", "billing_type": "license", "one_per_customer": false, "segments": ["commercial"], "min_quantity": 1, "max_quantity": 1000,
  "software": {"perpetual": false, "cancellable": true, "activation_keys": true, "downloads": true},
  "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 185900, "JPY": 278850}},
            {"term": "P1Y", "billing_frequency": "one_time", "prices": {"USD": 185900, "JPY": 278850}},
            {"term": "P3Y", "billing_frequency": "one_time", "prices": {"USD": 557700, "JPY": 836550}}]},
 {"id": "DG7GMGF0CQ4M:0001", "name": "Windows 7 Extended Security Updates 2020", "publisher": "microsoft",
  "commerce_type": "software", "billing_type": "license", "one_per_customer": false, "segments": ["commercial"], "min_quantity": 1, "max_quantity": 100000,
  "software": {"perpetual": false, "cancellable": false, "cancel_exception": "support_request_required", "activation_keys": true, "downloads": false},
  "plans": [{"term": "P1Y", "billing_frequency": "one_time", "prices": {"USD": 5000, "JPY": 7500}}]},
 {"id": "DG7GMGF0BXM1:0001", "name": "SUSE Linux Enterprise Server Priority - Azure software plan", "publisher": "microsoft",
  "commerce_type": "software", "billing_type": "license", "one_per_customer": false, "segments": ["commercial"], "min_quantity": 1, "max_quantity": 1000,
  "software": {"perpetual": false, "cancellable": false, "cancel_exception": "not_cancellable", "activation_keys": false, "downloads": false},
  "plans": [{"term": "P1Y", "billing_frequency": "one_time", "prices": {"USD": 105100, "JPY": 157650}}]},
 {"id": "DG7GMGF0BXM5:0001", "name": "Red Hat Enterprise Linux - Azure software plan", "publisher": "microsoft",
  "commerce_type": "software", "billing_type": "license", "one_per_customer": false, "segments": ["commercial"], "min_quantity": 1, "max_quantity": 1000,
  "software": {"perpetual": false, "cancellable": false, "cancel_exception": "not_cancellable", "activation_keys": false, "downloads": false},
  "plans": [{"term": "P1Y", "billing_frequency": "one_time", "prices": {"USD": 52600, "JPY": 78900}}]}
]`

// swCatalog is the rules' test catalog plus the software policy (60 days,
// two weeks or 50 downloads, an activity log of logMax entries) and the
// software offers.
func swCatalog(t testing.TB, logMax int) *catalog.Catalog {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(testCatalog), &c); err != nil {
		t.Fatal(err)
	}
	var offers []any
	if err := json.Unmarshal([]byte(swOffers), &offers); err != nil {
		t.Fatal(err)
	}
	c["offers"] = append(c["offers"].([]any), offers...)
	c["policy"].(map[string]any)["software"] = map[string]any{"cancel_window_days": 60, "download_link_validity_hours": 336,
		"download_link_max_downloads": 50, "activity_log_max_entries": logMax}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Parse(b)
	if err != nil {
		t.Fatalf("software test catalog: %v", err)
	}
	return cat
}

func swWorld(t testing.TB) *world { return swWorldLog(t, 1000) }

func swWorldLog(t testing.TB, logMax int) *world {
	w := newWorld(t)
	w.cat = swCatalog(t, logMax)
	w.createCustomer("commercial", "USD")
	return w
}

// as decides a command sent by partnerA's user in a role (ROL-1).
func (w *world) as(role messages.Role, now time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	w.n++
	out := Decide(Input{
		Command:   messages.Command{ID: "cmd-" + itoa(w.n), Type: typ, SchemaVersion: 1, CustomerID: customer1, Data: data},
		PartnerID: partnerA, Role: role, Now: now, State: w.state, Catalog: w.cat,
	})
	w.state = out.State
	w.activity = keepActivity(w.activity, out)
	return out
}

// keepActivity is what the store does with a decision's activity (the
// commit script, state.Commit.Activity): append, keep the newest
// ActivityLogMax, remember the newest time dropped.
func keepActivity(log ActivityLog, out Outcome) ActivityLog {
	later := func(a, b *time.Time) *time.Time {
		if a == nil || b != nil && b.After(*a) {
			return b
		}
		return a
	}
	log.TrimmedThrough = later(log.TrimmedThrough, out.ActivityTrimmedThrough)
	log.Entries = append(slices.Clip(log.Entries), out.ActivityAppended...)
	if drop := len(log.Entries) - out.ActivityLogMax; len(out.ActivityAppended) > 0 && drop > 0 {
		at := log.Entries[drop-1].At
		log.TrimmedThrough = later(log.TrimmedThrough, &at)
		log.Entries = log.Entries[drop:]
	}
	return log
}

// admin decides a command sent by partnerA's Admin agent.
func (w *world) admin(now time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	return w.as(messages.RoleAdminAgent, now, typ, data)
}

type swLine struct {
	offer, term, freq string
	qty               int
}

// swOrder places an order of lines and returns its subscriptions in line
// order.
func (w *world) swOrder(at time.Time, orderID string, lines ...swLine) (Outcome, []string) {
	w.t.Helper()
	var ls []messages.OrderLine
	for i, l := range lines {
		ls = append(ls, messages.OrderLine{LineID: "L" + itoa(i+1), OfferID: l.offer, Quantity: intp(l.qty), Term: l.term, BillingFrequency: l.freq})
	}
	out := w.admin(at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: orderID, Lines: ls})
	ev := findEvent[*messages.OrderProcessedEvent](w.t, out, messages.EvtOrderProcessed)
	var subs []string
	for _, l := range ev.Lines {
		if l.Status != messages.LineFulfilled {
			w.t.Fatalf("line %s: %+v", l.LineID, l.Rejection)
		}
		subs = append(subs, l.SubscriptionID)
	}
	return out, subs
}

func eventsOfType(out Outcome, typ messages.EventType) []any {
	var evs []any
	for _, e := range out.Events {
		if e.Type == typ {
			evs = append(evs, e.Data)
		}
	}
	return evs
}

// ORD-14 for software: a purchase creates the subscription, charges it and
// issues its activation keys; no download link exists yet (SW-1).
func TestRule_ORD_14_SoftwarePurchaseChargesAndIssuesKeys(t *testing.T) {
	w := swWorld(t)
	out, subs := w.swOrder(t0, "O-SW", swLine{swWinServer, catalog.TermPerpetual, catalog.BillingOneTime, 3},
		swLine{swSQL, "P1Y", catalog.BillingOneTime, 2}, swLine{swSUSE, "P1Y", catalog.BillingOneTime, 1})
	want := []messages.EventType{
		messages.EvtSubscriptionCreated, messages.EvtBillingCharge, messages.EvtSoftwareKeysIssued,
		messages.EvtSubscriptionCreated, messages.EvtBillingCharge, messages.EvtSoftwareKeysIssued,
		messages.EvtSubscriptionCreated, messages.EvtBillingCharge, // SUSE: no keys
		messages.EvtOrderProcessed}
	if got := eventTypes(out); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	charges := eventsOfType(out, messages.EvtBillingCharge)
	for i, amount := range []int64{320700, 371800, 105100} {
		c := charges[i].(*messages.BillingEvent)
		if c.AmountMinor != amount || c.Reason != messages.BillingReasonPurchase || c.Rule != "ORD-14" || c.SubscriptionID != subs[i] {
			t.Errorf("charge %d: %+v, want %d", i, c, amount)
		}
	}
	perp := charges[0].(*messages.BillingEvent)
	if perp.PeriodStart != "2026-03-10" || perp.PeriodEnd != "2026-03-10" || perp.UnitPriceMinor != 106900 || perp.Quantity != 3 {
		t.Errorf("perpetual charge %+v", perp)
	}
	sql := charges[1].(*messages.BillingEvent)
	if sql.PeriodStart != "2026-03-10" || sql.PeriodEnd != "2027-03-09" {
		t.Errorf("software subscription charge %+v", sql)
	}

	created := eventsOfType(out, messages.EvtSubscriptionCreated)
	pc, sc := created[0].(*messages.SubscriptionCreatedEvent), created[1].(*messages.SubscriptionCreatedEvent)
	window := t0.Add(60 * 24 * time.Hour)
	if pc.Term != "perpetual" || pc.BillingFrequency != "one_time" || pc.TermEnd != "" || pc.AutoRenew || !pc.CancellableUntil.Equal(window) {
		t.Errorf("perpetual created %+v", pc)
	}
	if sc.Term != "P1Y" || sc.TermEnd != "2027-03-09" || !sc.AutoRenew || !sc.CancellableUntil.Equal(window) {
		t.Errorf("software subscription created %+v", sc)
	}

	keys := eventsOfType(out, messages.EvtSoftwareKeysIssued)
	for i, k := range keys {
		ev := k.(*messages.SoftwareKeysIssuedEvent)
		s := w.state.Subscriptions[subs[i]]
		if ev.SubscriptionID != subs[i] || ev.OrderID != "O-SW" || len(ev.Keys) != 1 || !ev.Keys[0].IssuedAt.Equal(t0) ||
			ev.Keys[0].KeyID != s.Software.Keys[0].ID || !strings.HasPrefix(ev.Keys[0].KeyID, "key-") || !ev.DownloadsAvailable || ev.Perpetual != (i == 0) {
			t.Errorf("keys %d: %+v", i, ev)
		}
		if s.Software.Link != nil {
			t.Errorf("%s has a download link before one was asked for", s.ID)
		}
	}
	// Perpetual software has no timers but its CAN-4 window's notices
	// (TestRule_CAN_4_SoftwareWindowNotices); the subscription has its term's.
	for _, tm := range w.state.Timers {
		if tm.SubscriptionID == subs[0] && tm.Kind != TimerWindowClosing && tm.Kind != TimerWindowClosed {
			t.Errorf("perpetual software has timer %+v", tm)
		}
	}
	if _, ok := w.state.Timers[timerID(TimerTermEnd, subs[1], time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))]; !ok {
		t.Errorf("software subscription has no term-end timer: %v", w.state.Timers)
	}
	if st := w.state.Subscriptions[subs[2]].Software; st.CancelException != "not_cancellable" || len(st.Keys) != 0 || st.Downloads {
		t.Errorf("SUSE state %+v", st)
	}
}

// Key IDs are derived from the order command: deciding it again (a
// redelivery) gives the same keys.
func TestRule_ORD_14_SoftwareKeysAreDeterministic(t *testing.T) {
	w := swWorld(t)
	before := w.state
	in := Input{Command: messages.Command{ID: "order-1", Type: messages.CmdOrderPlaced, SchemaVersion: 1, CustomerID: customer1,
		Data: &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{{LineID: "L1", OfferID: swSQL, Quantity: intp(1), Term: "P1Y", BillingFrequency: "one_time"}}}},
		PartnerID: partnerA, Role: messages.RoleAdminAgent, Now: t0, State: before, Catalog: w.cat}
	a, b := Decide(in), Decide(in)
	ka := findEvent[*messages.SoftwareKeysIssuedEvent](t, a, messages.EvtSoftwareKeysIssued)
	kb := findEvent[*messages.SoftwareKeysIssuedEvent](t, b, messages.EvtSoftwareKeysIssued)
	if !reflect.DeepEqual(ka, kb) || ka.Keys[0].KeyID != messages.DerivedID("key", customer1, "order-1", 0) {
		t.Fatalf("keys differ: %+v vs %+v", ka, kb)
	}
}

// CAN-4's credits: perpetual software 100%, software subscriptions the
// period's charge prorated by unused days (GEN-2, GEN-3).
func TestRule_CAN_4_SoftwareCancellationCredits(t *testing.T) {
	for _, tc := range []struct {
		name      string
		line      swLine
		after     time.Duration
		credit    int64
		proration *messages.Proration
		basis     string
	}{
		{"CAN-4 perpetual software gets 100%", swLine{swWinServer, "perpetual", "one_time", 3}, 59 * 24 * time.Hour,
			320700, nil, messages.SoftwareCreditFull},
		{"CAN-4 perpetual software gets 100% on the first day", swLine{swWinServer, "perpetual", "one_time", 1}, time.Minute,
			106900, nil, messages.SoftwareCreditFull},
		{"CAN-4 P1Y one_time prorated, 60 days used", swLine{swSQL, "P1Y", "one_time", 2}, 59*24*time.Hour + 23*time.Hour,
			310682, &messages.Proration{BaseMinor: 371800, UsedDays: 60, UnusedDays: 305, PeriodDays: 365}, messages.SoftwareCreditProrated},
		{"CAN-4 P1Y annual prorated, 1 day used", swLine{swSQL, "P1Y", "annual", 1}, time.Hour,
			185391, &messages.Proration{BaseMinor: 185900, UsedDays: 1, UnusedDays: 364, PeriodDays: 365}, messages.SoftwareCreditProrated},
		{"CAN-4 P3Y one_time prorated over the whole term", swLine{swSQL, "P3Y", "one_time", 1}, 10 * 24 * time.Hour,
			552611, &messages.Proration{BaseMinor: 557700, UsedDays: 10, UnusedDays: 1086, PeriodDays: 1096}, messages.SoftwareCreditProrated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := swWorld(t)
			_, subs := w.swOrder(t0, "O-1", tc.line)
			out := w.admin(t0.Add(tc.after), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"})
			wantAccepted(t, out)
			c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
			if c.AmountMinor != tc.credit || c.Reason != messages.BillingReasonSoftwareCancellation || c.Rule != "CAN-4" ||
				c.SubscriptionID != subs[0] || c.OrderID != "O-1" || !reflect.DeepEqual(c.Proration, tc.proration) {
				t.Fatalf("credit %+v (proration %+v), want %d %+v", c, c.Proration, tc.credit, tc.proration)
			}
			sum := findEvent[*messages.SoftwareCancelledEvent](t, out, messages.EvtSoftwareCancelled)
			if sum.TotalCreditMinor != tc.credit || len(sum.Credits) != 1 || sum.Credits[0].Basis != tc.basis || sum.Credits[0].AmountMinor != tc.credit {
				t.Fatalf("summary %+v", sum)
			}
		})
	}
}

// CAN-4: within 60 days of the purchase instant (half-open), never after;
// a renewal does not reopen the window.
func TestRule_CAN_4_SixtyDayWindow(t *testing.T) {
	window := 60 * 24 * time.Hour
	t.Run("CAN-4 a nanosecond before the end", func(t *testing.T) {
		w := swWorld(t)
		w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "one_time", 1})
		wantAccepted(t, w.admin(t0.Add(window-time.Nanosecond), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}))
	})
	t.Run("CAN-4 at the end", func(t *testing.T) {
		w := swWorld(t)
		w.swOrder(t0, "O-1", swLine{swWinServer, "perpetual", "one_time", 1})
		r := wantRejected(t, w.admin(t0.Add(window), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}),
			CodeCancelWindowClosed, "CAN-4")
		if r.Data["window_end"] != "2026-05-09T14:00:00Z" || r.Data["purchased_at"] != "2026-03-10T14:00:00Z" || r.Data["order_id"] != "O-1" {
			t.Fatalf("data %v", r.Data)
		}
	})
	t.Run("CAN-4 not reopened by a renewal", func(t *testing.T) {
		w := swWorld(t)
		_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "one_time", 1})
		outs := w.advance(time.Date(2027, 3, 11, 0, 0, 0, 0, time.UTC))
		ren := eventsOf(outs)
		renewed := false
		for _, e := range ren {
			if c, ok := e.Data.(*messages.BillingEvent); ok && e.Type == messages.EvtBillingCharge && c.Reason == messages.BillingReasonRenewal && c.AmountMinor == 185900 {
				renewed = true
			}
		}
		s := w.state.Subscriptions[subs[0]]
		if !renewed || s.Renewals != 1 || len(s.Software.Keys) != 1 || s.Software.Keys[0].RevokedAt != nil {
			t.Fatalf("renewal: %v %+v", eventTypes(Outcome{Events: ren}), s.Software)
		}
		wantRejected(t, w.admin(time.Date(2027, 3, 12, 0, 0, 0, 0, time.UTC), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}),
			CodeCancelWindowClosed, "CAN-4")
	})
}

// CAN-4's exceptions: Windows 7 ESU needs a support request, SUSE and Red
// Hat plans cannot be cancelled; the whole order is refused, in or out of
// the window, and nothing changes.
func TestRule_CAN_4_Exceptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []swLine
		after time.Duration
		code  string
	}{
		{"CAN-4 Windows 7 ESU needs a support request", []swLine{{swESU, "P1Y", "one_time", 10}}, time.Hour, CodeSoftwareSupportRequestRequired},
		{"CAN-4 Windows 7 ESU after the window too", []swLine{{swESU, "P1Y", "one_time", 10}}, 90 * 24 * time.Hour, CodeSoftwareSupportRequestRequired},
		{"CAN-4 SUSE plan not cancellable", []swLine{{swSUSE, "P1Y", "one_time", 1}}, time.Hour, CodeSoftwareNotCancellable},
		{"CAN-4 Red Hat plan not cancellable", []swLine{{swRHEL, "P1Y", "one_time", 1}}, time.Hour, CodeSoftwareNotCancellable},
		{"CAN-4 an exception refuses the whole order", []swLine{{swWinServer, "perpetual", "one_time", 1}, {swRHEL, "P1Y", "one_time", 1}}, time.Hour, CodeSoftwareNotCancellable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := swWorld(t)
			_, subs := w.swOrder(t0, "O-1", tc.lines...)
			r := wantRejected(t, w.admin(t0.Add(tc.after), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}), tc.code, "CAN-4")
			if r.Data["order_id"] != "O-1" || r.Data["subscription_id"] != subs[len(subs)-1] {
				t.Fatalf("data %v", r.Data)
			}
			for _, id := range subs {
				if w.state.Subscriptions[id].Status != StatusActive {
					t.Fatalf("%s changed", id)
				}
			}
		})
	}
}

// CAN-4: cancellation is per order ID: every software item of the order is
// cancelled, each with its credit and subscription.cancelled (CAN-7), and
// loses its keys and link; the items stay listed; the order's other
// subscriptions and other orders are untouched; SW-3: the summary carries
// the instant it took effect, and the state shows it at once.
func TestRule_CAN_4_PerOrderCancelRevokesKeysAndLinks(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swWinServer, "perpetual", "one_time", 2}, swLine{offerBasic, "P1Y", "annual", 5},
		swLine{swSQL, "P1Y", "annual", 1})
	_, other := w.swOrder(t0, "O-2", swLine{swSQL, "P1Y", "annual", 1})
	perp, m365, sql := subs[0], subs[1], subs[2]
	link := findEvent[*messages.SoftwareDownloadLinkIssuedEvent](t,
		w.admin(t0.Add(time.Hour), messages.CmdSoftwareDownloadLinkRequest, &messages.SoftwareDownloadLinkRequestData{SubscriptionID: sql, User: "admin@contoso.example"}),
		messages.EvtSoftwareDownloadLinkIssued)
	w.admin(t0.Add(2*time.Hour), messages.CmdSoftwareDownloadLinkRequest, &messages.SoftwareDownloadLinkRequestData{SubscriptionID: other[0], User: "admin@contoso.example"})

	at := t0.Add(30 * 24 * time.Hour)
	out := w.admin(at, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"})
	wantAccepted(t, out)
	want := []messages.EventType{messages.EvtBillingCredit, messages.EvtSubscriptionCancelled,
		messages.EvtBillingCredit, messages.EvtSubscriptionCancelled, messages.EvtSoftwareCancelled}
	if got := typesWithoutNotices(out); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	// 2 x 106900 in full; 185900 x 335 unused / 365 days (30 used) = 170620.5, rounded half up.
	credits := eventsOfType(out, messages.EvtBillingCredit)
	if c := credits[0].(*messages.BillingEvent); c.SubscriptionID != perp || c.AmountMinor != 213800 {
		t.Errorf("perpetual credit %+v", c)
	}
	if c := credits[1].(*messages.BillingEvent); c.SubscriptionID != sql || c.AmountMinor != 170621 || c.Proration.UsedDays != 30 {
		t.Errorf("subscription credit %+v", c)
	}
	cancelled := eventsOfType(out, messages.EvtSubscriptionCancelled)
	if c := cancelled[0].(*messages.SubscriptionCancelledEvent); c.SubscriptionID != perp || c.CreditMinor != 213800 || c.CreditEventID != messages.EventID(customer1, "cmd-"+itoa(w.n), 0) {
		t.Errorf("cancelled %+v", c)
	}
	sum := findEvent[*messages.SoftwareCancelledEvent](t, out, messages.EvtSoftwareCancelled)
	wantSum := &messages.SoftwareCancelledEvent{OrderID: "O-1", CancelledAt: at, Currency: "USD", TotalCreditMinor: 384421,
		Subscriptions: []messages.SoftwareCancelledItem{
			{SubscriptionID: perp, OfferID: swWinServer, Perpetual: true, RevokedKeyIDs: []string{w.state.Subscriptions[perp].Software.Keys[0].ID}},
			{SubscriptionID: sql, OfferID: swSQL, RevokedKeyIDs: []string{w.state.Subscriptions[sql].Software.Keys[0].ID}, RevokedLinkID: link.LinkID}},
		Credits: []messages.SoftwareCredit{
			{SubscriptionID: perp, CreditEventID: messages.EventID(customer1, "cmd-"+itoa(w.n), 0), AmountMinor: 213800, Basis: "full"},
			{SubscriptionID: sql, CreditEventID: messages.EventID(customer1, "cmd-"+itoa(w.n), 2), AmountMinor: 170621, Basis: "prorated"}}}
	if !reflect.DeepEqual(sum, wantSum) {
		t.Fatalf("summary\n %+v\nwant\n %+v", sum, wantSum)
	}
	// The items stay listed, cancelled, with their keys and link revoked;
	// the timers of the subscription are gone.
	for _, id := range []string{perp, sql} {
		s := w.state.Subscriptions[id]
		if s.Status != StatusCancelled || !s.CancelledAt.Equal(at) || s.AutoRenew || !s.Software.RevokedAt.Equal(at) ||
			s.Software.Keys[0].RevokedAt == nil || !s.Software.Keys[0].RevokedAt.Equal(at) {
			t.Errorf("%s after cancel: %+v %+v", id, s, s.Software)
		}
		for _, tm := range w.state.Timers {
			if tm.SubscriptionID == id {
				t.Errorf("timer left: %+v", tm)
			}
		}
	}
	if l := w.state.Subscriptions[sql].Software.Link; l == nil || l.RevokedAt == nil {
		t.Errorf("link not revoked: %+v", l)
	}
	if w.state.Subscriptions[m365].Status != StatusActive || w.state.Subscriptions[other[0]].Status != StatusActive ||
		w.state.Subscriptions[other[0]].Software.Link.RevokedAt != nil {
		t.Error("the order's other subscription or another order changed")
	}
	// Nothing works any more with the revoked keys and links.
	user := "admin@contoso.example"
	wantRejected(t, w.admin(at.Add(time.Minute), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: perp, User: user}), CodeSoftwareKeyRevoked, "CAN-4")
	wantRejected(t, w.admin(at.Add(time.Minute), messages.CmdSoftwareDownload, &messages.SoftwareDownloadData{SubscriptionID: sql, User: user}), CodeSoftwareLinkRevoked, "CAN-4")
	wantRejected(t, w.admin(at.Add(time.Minute), messages.CmdSoftwareDownloadLinkRequest, &messages.SoftwareDownloadLinkRequestData{SubscriptionID: sql, User: user}), CodeSoftwareLinkRevoked, "CAN-4")
	// CAN-2: cancelled is final.
	wantRejected(t, w.admin(at.Add(time.Minute), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"}), CodeSubscriptionCancelled, "CAN-2")
	// The other order can still be cancelled on its own.
	wantAccepted(t, w.admin(at.Add(time.Minute), messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-2"}))
}

func TestRule_CAN_4_CancelNeedsAnOrderWithSoftware(t *testing.T) {
	w := swWorld(t)
	w.swOrder(t0, "O-M365", swLine{offerBasic, "P1Y", "annual", 5})
	w.swOrder(t0, "O-SW", swLine{swSQL, "P1Y", "annual", 1})
	at := t0.Add(time.Hour)
	wantRejected(t, w.admin(at, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-NOPE"}), CodeSoftwareOrderNotFound, "CAN-4")
	wantRejected(t, w.admin(at, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-M365"}), CodeSoftwareNotInOrder, "CAN-4")
	if r := wantRejected(t, w.admin(at, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O 1"}), CodeInvalidField, "GEN-6"); r.Data["field"] != "data.order_id" {
		t.Errorf("data %v", r.Data)
	}
	// PTN-1: another partner's admin agent.
	w.n++
	out := Decide(Input{Command: messages.Command{ID: "cmd-x", Type: messages.CmdSoftwareCancel, SchemaVersion: 1, CustomerID: customer1,
		Data: &messages.SoftwareCancelData{OrderID: "O-SW"}}, PartnerID: partnerB, Role: messages.RoleAdminAgent, Now: at, State: w.state, Catalog: w.cat})
	wantRejected(t, out, CodeNoRelationship, "PTN-1")
}

// SW-1: a link is valid for two weeks or 50 downloads, whichever comes
// first; asking again gives a new one and the old one stops working.
func TestRule_SW_1_DownloadLinkTwoWeeksOr50Downloads(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swWinServer, "perpetual", "one_time", 1}, swLine{swESU, "P1Y", "one_time", 5})
	sub, esu := subs[0], subs[1]
	user := "admin@contoso.example"
	dl := func(at time.Time, linkID string) Outcome {
		return w.admin(at, messages.CmdSoftwareDownload, &messages.SoftwareDownloadData{SubscriptionID: sub, User: user, LinkID: linkID})
	}
	ask := func(at time.Time) *messages.SoftwareDownloadLinkIssuedEvent {
		out := w.admin(at, messages.CmdSoftwareDownloadLinkRequest, &messages.SoftwareDownloadLinkRequestData{SubscriptionID: sub, User: user})
		wantAccepted(t, out)
		return findEvent[*messages.SoftwareDownloadLinkIssuedEvent](t, out, messages.EvtSoftwareDownloadLinkIssued)
	}

	wantRejected(t, dl(t0.Add(time.Minute), ""), CodeSoftwareNoDownloadLink, "SW-1")
	issued := t0.Add(time.Hour)
	first := ask(issued)
	if !first.ExpiresAt.Equal(issued.Add(336*time.Hour)) || first.MaxDownloads != 50 || first.ReplacedLinkID != "" || first.User != user ||
		first.LinkID != w.state.Subscriptions[sub].Software.Link.ID {
		t.Fatalf("link %+v", first)
	}
	for i := 1; i <= 50; i++ {
		out := dl(issued.Add(time.Duration(i)*time.Minute), first.LinkID)
		wantAccepted(t, out)
		ev := findEvent[*messages.SoftwareActivityRecordedEvent](t, out, messages.EvtSoftwareActivityRecorded)
		if ev.Kind != messages.SoftwareActivityDownload || ev.Link == nil || ev.Link.DownloadsUsed != i || ev.Link.DownloadsLeft != 50-i || ev.User != user {
			t.Fatalf("download %d: %+v %+v", i, ev, ev.Link)
		}
	}
	r := wantRejected(t, dl(issued.Add(51*time.Minute), ""), CodeSoftwareLinkExpired, "SW-1")
	if r.Data["reason"] != "exhausted" || r.Data["downloads"] != "50" || r.Data["max_downloads"] != "50" {
		t.Fatalf("51st download: %v", r.Data)
	}

	// A new link: another two weeks or 50 downloads; the old one is dead.
	again := issued.Add(2 * time.Hour)
	second := ask(again)
	if second.ReplacedLinkID != first.LinkID || second.LinkID == first.LinkID || !second.ExpiresAt.Equal(again.Add(336*time.Hour)) {
		t.Fatalf("second link %+v", second)
	}
	if r := wantRejected(t, dl(again.Add(time.Minute), first.LinkID), CodeSoftwareLinkExpired, "SW-1"); r.Data["reason"] != "replaced" || r.Data["link_id"] != first.LinkID {
		t.Fatalf("old link: %v", r.Data)
	}
	wantAccepted(t, dl(again.Add(time.Minute), second.LinkID))
	// Two weeks, half-open.
	wantAccepted(t, dl(second.ExpiresAt.Add(-time.Nanosecond), ""))
	if r := wantRejected(t, dl(second.ExpiresAt, ""), CodeSoftwareLinkExpired, "SW-1"); r.Data["reason"] != "expired" {
		t.Fatalf("expired link: %v", r.Data)
	}
	// As often as needed.
	third := ask(second.ExpiresAt.Add(time.Hour))
	if third.ReplacedLinkID != second.LinkID {
		t.Fatalf("third link %+v", third)
	}
	wantAccepted(t, dl(second.ExpiresAt.Add(2*time.Hour), third.LinkID))

	// Windows 7 ESU has keys but no downloads.
	wantRejected(t, w.admin(t0.Add(time.Hour), messages.CmdSoftwareDownloadLinkRequest,
		&messages.SoftwareDownloadLinkRequestData{SubscriptionID: esu, User: user}), CodeSoftwareNoDownloads, "SW-1")
	wantRejected(t, w.admin(t0.Add(time.Hour), messages.CmdSoftwareDownload,
		&messages.SoftwareDownloadData{SubscriptionID: esu, User: user}), CodeSoftwareNoDownloads, "SW-1")
}

// SW-2: key accesses and downloads are logged (user, time) and listed by
// range [from, to).
func TestRule_SW_2_ActivityLogByRange(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "annual", 1}, swLine{swSUSE, "P1Y", "one_time", 1})
	sql, suse := subs[0], subs[1]
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	out := w.admin(h(1), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sql, User: "ana@partner.example"})
	ev := findEvent[*messages.SoftwareActivityRecordedEvent](t, out, messages.EvtSoftwareActivityRecorded)
	if ev.Kind != messages.SoftwareActivityKeyAccess || ev.User != "ana@partner.example" || !ev.At.Equal(h(1)) ||
		!slices.Equal(ev.KeyIDs, []string{w.state.Subscriptions[sql].Software.Keys[0].ID}) || ev.Link != nil {
		t.Fatalf("key access event %+v", ev)
	}
	link := findEvent[*messages.SoftwareDownloadLinkIssuedEvent](t, w.admin(h(2), messages.CmdSoftwareDownloadLinkRequest,
		&messages.SoftwareDownloadLinkRequestData{SubscriptionID: sql, User: "ana@partner.example"}), messages.EvtSoftwareDownloadLinkIssued)
	wantAccepted(t, w.admin(h(3), messages.CmdSoftwareDownload, &messages.SoftwareDownloadData{SubscriptionID: sql, User: "it@customer.example"}))
	wantAccepted(t, w.admin(h(4), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sql, User: "ben@partner.example"}))
	// What is not activity, or fails, is not logged.
	wantRejected(t, w.admin(h(5), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: suse, User: "ana@partner.example"}),
		CodeSoftwareKeysNotAvailable, "SW-2")
	if len(w.activity.Entries) != 3 || len(w.state.LegacyActivity) != 0 {
		t.Fatalf("log %+v", w.activity)
	}

	entry := func(at time.Time, user, kind, linkID string) messages.SoftwareActivityEntry {
		return messages.SoftwareActivityEntry{At: at, User: user, Kind: kind, SubscriptionID: sql, OfferID: swSQL, LinkID: linkID}
	}
	all := []messages.SoftwareActivityEntry{
		entry(h(1), "ana@partner.example", "key_access", ""),
		entry(h(3), "it@customer.example", "download", link.LinkID),
		entry(h(4), "ben@partner.example", "key_access", ""),
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     []messages.SoftwareActivityEntry
	}{
		{"SW-2 the whole day", t0.Add(-14 * time.Hour), t0.Add(10 * time.Hour), all},
		{"SW-2 from is included", h(3), h(10), all[1:]},
		{"SW-2 to is excluded", h(1), h(4), all[:2]},
		{"SW-2 an empty range", h(5), h(6), []messages.SoftwareActivityEntry{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, rej := QuerySoftwareActivity(w.state, w.activity, partnerA, customer1, tc.from, tc.to)
			if rej != nil || !reflect.DeepEqual(v.Entries, tc.want) || !v.From.Equal(tc.from) || !v.To.Equal(tc.to) || v.DroppedThrough != nil {
				t.Fatalf("%+v %+v, want %+v", v, rej, tc.want)
			}
		})
	}
	t.Run("SW-2 PTN-1 another partner", func(t *testing.T) {
		if _, rej := QuerySoftwareActivity(w.state, w.activity, partnerB, customer1, t0, h(10)); rej == nil || rej.Code != CodeNoRelationship || rej.Rule != "PTN-1" {
			t.Fatalf("rejection %+v", rej)
		}
	})
	t.Run("SW-2 a user is required", func(t *testing.T) {
		for _, u := range []string{"", "a\nb", strings.Repeat("x", 257)} {
			r := wantRejected(t, w.admin(h(6), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sql, User: u}), CodeInvalidField, "GEN-6")
			if r.Data["field"] != "data.user" {
				t.Fatalf("data %v", r.Data)
			}
		}
	})
}

// SW-2: the log keeps the policy's most recent entries and the time of
// the newest one it dropped. It is not in the state: a decision returns
// what it adds, and the stored state holds no activity.
func TestRule_SW_2_ActivityLogIsBounded(t *testing.T) {
	w := swWorldLog(t, 4)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "annual", 1})
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	for i := 1; i <= 6; i++ {
		out := w.admin(h(i), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: "u" + itoa(i)})
		wantAccepted(t, out)
		if len(out.ActivityAppended) != 1 || out.ActivityAppended[0].User != "u"+itoa(i) || out.ActivityLogMax != 4 ||
			slices.Contains(out.Changed, fieldActivity) || len(w.state.LegacyActivity) != 0 {
			t.Fatalf("outcome %+v changed %v", out.ActivityAppended, out.Changed)
		}
		if len(w.activity.Entries) > 4 {
			t.Fatalf("log of %d entries", len(w.activity.Entries))
		}
	}
	v, _ := QuerySoftwareActivity(w.state, w.activity, partnerA, customer1, t0, h(24))
	if len(v.Entries) != 4 || v.Entries[0].User != "u3" || v.Entries[3].User != "u6" || v.DroppedThrough == nil || !v.DroppedThrough.Equal(h(2)) {
		t.Fatalf("view %+v", v)
	}
}

// SW-2: a log an earlier version kept in the state (field activity,
// headed by its log_trimmed marker) answers the query as it did, alone or
// with the stored log, and moves out of the state with the customer's
// next decision, even a rejected one: its entries first, its marker's
// time carried over, its field deleted.
func TestRule_SW_2_ActivityKeptInTheStateMovesOut(t *testing.T) {
	w := swWorldLog(t, 4)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "annual", 1})
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	entry := func(n int) ActivityEntry {
		return ActivityEntry{At: h(n), PartnerID: partnerA, User: "u" + itoa(n), Kind: messages.SoftwareActivityKeyAccess, SubscriptionID: subs[0], OfferID: swSQL}
	}
	legacy := []ActivityEntry{{At: h(2), Kind: ActivityTrimmed}, entry(3), entry(4), entry(5)}
	fields, err := CustomerState{LegacyActivity: legacy}.EncodeFields([]string{fieldActivity})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := DecodeState(fields)
	if err != nil || !reflect.DeepEqual(stored.LegacyActivity, legacy) {
		t.Fatalf("decoded %+v %v", stored.LegacyActivity, err)
	}
	w.state.LegacyActivity = stored.LegacyActivity

	v, rej := QuerySoftwareActivity(w.state, ActivityLog{}, partnerA, customer1, t0, h(24))
	if rej != nil || len(v.Entries) != 3 || v.Entries[0].User != "u3" || v.DroppedThrough == nil || !v.DroppedThrough.Equal(h(2)) {
		t.Fatalf("view %+v %+v", v, rej)
	}
	// A rejected command moves it too.
	out := w.admin(h(6), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: ""})
	wantRejected(t, out, CodeInvalidField, "GEN-6")
	if len(out.ActivityAppended) != 3 || out.ActivityAppended[0].User != "u3" || out.ActivityTrimmedThrough == nil ||
		!out.ActivityTrimmedThrough.Equal(h(2)) || !slices.Equal(out.Deleted, []string{fieldActivity}) || len(w.state.LegacyActivity) != 0 {
		t.Fatalf("outcome %+v through %v deleted %v", out.ActivityAppended, out.ActivityTrimmedThrough, out.Deleted)
	}
	out = w.admin(h(7), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: "u7"})
	wantAccepted(t, out)
	if len(out.Deleted) != 0 || len(out.ActivityAppended) != 1 || out.ActivityTrimmedThrough != nil {
		t.Fatalf("outcome %+v deleted %v", out.ActivityAppended, out.Deleted)
	}
	v, _ = QuerySoftwareActivity(w.state, w.activity, partnerA, customer1, t0, h(24))
	if len(v.Entries) != 4 || v.Entries[0].User != "u3" || v.Entries[3].User != "u7" || !v.DroppedThrough.Equal(h(2)) {
		t.Fatalf("view %+v", v)
	}
	// Read together: a log in the state and a stored one.
	both := CustomerState{Customer: w.state.Customer, LegacyActivity: []ActivityEntry{{At: h(1), Kind: ActivityTrimmed}, entry(2)}}
	v, _ = QuerySoftwareActivity(both, ActivityLog{Entries: []ActivityEntry{entry(8)}, TrimmedThrough: ptrTime(h(3))}, partnerA, customer1, t0, h(24))
	if len(v.Entries) != 2 || v.Entries[0].User != "u2" || v.Entries[1].User != "u8" || !v.DroppedThrough.Equal(h(3)) {
		t.Fatalf("view %+v", v)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// Keys and downloads need a usable subscription: not suspended (SUS-1),
// not expired (SUS-3), software at all (GEN-5).
func TestRule_SUS_1_SoftwareOfASuspendedSubscription(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "annual", 1}, swLine{offerBasic, "P1Y", "annual", 1})
	user := "ana@partner.example"
	susp := w.state.Subscriptions[subs[0]].clone()
	susp.Status = StatusSuspended
	w.state.Subscriptions[subs[0]] = &susp
	wantRejected(t, w.admin(t0.Add(time.Hour), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: user}),
		CodeSubscriptionSuspended, "SUS-1")
	wantRejected(t, w.admin(t0.Add(time.Hour), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[1], User: user}),
		CodeSoftwareNotSoftware, "GEN-5")
	wantRejected(t, w.admin(t0.Add(time.Hour), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: "sub-nope", User: user}),
		CodeSubscriptionNotFound, "PTN-1")
}

func TestRule_SUS_3_SoftwareOfAnExpiredSubscription(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "annual", 1})
	off := w.state.Subscriptions[subs[0]].clone()
	off.AutoRenew = false
	w.state.Subscriptions[subs[0]] = &off
	end := time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC)
	w.advance(end)
	if w.state.Subscriptions[subs[0]].Status != StatusExpired {
		t.Fatalf("not expired: %+v", w.state.Subscriptions[subs[0]])
	}
	wantRejected(t, w.admin(end.Add(time.Hour), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: "ana@partner.example"}),
		CodeSubscriptionExpired, "SUS-3")
}

// ROL-1: keys, downloads and cancellation are for Admin agents only; the
// activity log for Global, Account, Referral and Marketing content admins.
func TestRule_ROL_1_SoftwareRoles(t *testing.T) {
	for _, typ := range []messages.CommandType{messages.CmdSoftwareCancel, messages.CmdSoftwareDownloadLinkRequest,
		messages.CmdSoftwareKeyAccess, messages.CmdSoftwareDownload} {
		if got := RolesFor(typ); !slices.Equal(got, []messages.Role{messages.RoleAdminAgent}) {
			t.Errorf("%s: roles %v", typ, got)
		}
	}
	if got := SoftwareActivityRoles(); !slices.Equal(got, []messages.Role{messages.RoleGlobalAdmin, messages.RoleAccountAdmin,
		messages.RoleReferralAdmin, messages.RoleMarketingContentAdmin}) {
		t.Errorf("activity log roles %v", got)
	}
	for _, role := range messages.Roles() {
		if role == messages.RoleAdminAgent || role == messages.RoleSystem {
			continue
		}
		t.Run("ROL-1 "+string(role), func(t *testing.T) {
			w := swWorld(t)
			_, subs := w.swOrder(t0, "O-1", swLine{swWinServer, "perpetual", "one_time", 1})
			user := "someone@partner.example"
			for typ, data := range map[messages.CommandType]any{
				messages.CmdSoftwareCancel:              &messages.SoftwareCancelData{OrderID: "O-1"},
				messages.CmdSoftwareDownloadLinkRequest: &messages.SoftwareDownloadLinkRequestData{SubscriptionID: subs[0], User: user},
				messages.CmdSoftwareKeyAccess:           &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: user},
				messages.CmdSoftwareDownload:            &messages.SoftwareDownloadData{SubscriptionID: subs[0], User: user},
			} {
				r := wantRejected(t, w.as(role, t0.Add(time.Hour), typ, data), CodeForbidden, "ROL-1")
				if r.Data["allowed_roles"] != "admin_agent" {
					t.Fatalf("%s: %v", typ, r.Data)
				}
			}
			// The Admin agent may.
			wantAccepted(t, w.as(messages.RoleAdminAgent, t0.Add(time.Hour), messages.CmdSoftwareKeyAccess,
				&messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: user}))
		})
	}
}

// GEN-5: the generic subscription commands that do not apply to software
// are refused for the partner of record (softwareRefuses, to be called by
// decide before a subscription command's rules).
func TestRule_GEN_5_GenericCommandsRefuseSoftware(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swWinServer, "perpetual", "one_time", 1}, swLine{swSQL, "P1Y", "annual", 1},
		swLine{offerBasic, "P1Y", "annual", 1})
	perp, sql, m365 := subs[0], subs[1], subs[2]
	refuses := func(partner string, typ messages.CommandType, data any) *messages.Rejection {
		d := decision{in: Input{Command: messages.Command{ID: "x", Type: typ, SchemaVersion: 1, CustomerID: customer1, Data: data},
			PartnerID: partner, Now: t0.Add(time.Hour), State: w.state, Catalog: w.cat}, state: w.state.clone()}
		if d.softwareRefuses() {
			return d.rejected
		}
		return nil
	}
	for _, tc := range []struct {
		name    string
		partner string
		typ     messages.CommandType
		data    any
		refused bool
	}{
		{"GEN-5 subscription.cancel of software", partnerA, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sql}, true},
		{"GEN-5 quantity change of perpetual software", partnerA, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: perp, Quantity: intp(5)}, true},
		{"GEN-5 suspend software", partnerA, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sql, Reason: "fraud"}, true},
		{"GEN-5 auto-renew of perpetual software", partnerA, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: perp, Enabled: boolp(true)}, true},
		{"GEN-5 auto-renew of a software subscription", partnerA, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: sql, Enabled: boolp(false)}, false},
		{"GEN-5 not software", partnerA, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: m365}, false},
		{"GEN-5 another partner gets PTN-1 from the rules", partnerB, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sql}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := refuses(tc.partner, tc.typ, tc.data)
			if (r != nil) != tc.refused {
				t.Fatalf("refused %+v, want %v", r, tc.refused)
			}
			if r != nil && (r.Code != CodeSoftwareNotSupported || r.Rule != "GEN-5" || r.Data["order_id"] != "O-1") {
				t.Fatalf("rejection %+v", r)
			}
		})
	}
	// Whether or not decide calls it, subscription.cancel never credits
	// software a second way: the generic window (CAN-1) is empty.
	out := w.admin(t0.Add(time.Hour), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: perp})
	if r := out.Rejected; r == nil || !(r.Code == CodeCancelWindowClosed && r.Rule == "CAN-1" || r.Code == CodeSoftwareNotSupported && r.Rule == "GEN-5") {
		t.Fatalf("subscription.cancel of software: %+v %v", r, eventTypes(out))
	}
}

// SW-3 Decision: Partner Center may take 15 minutes to show a
// cancellation; ours shows at once (the state of the same decision) and
// the event carries the instant it took effect.
func TestRule_SW_3_CancellationShowsAtOnce(t *testing.T) {
	w := swWorld(t)
	_, subs := w.swOrder(t0, "O-1", swLine{swSQL, "P1Y", "annual", 1})
	at := t0.Add(3 * time.Hour)
	out := w.admin(at, messages.CmdSoftwareCancel, &messages.SoftwareCancelData{OrderID: "O-1"})
	sum := findEvent[*messages.SoftwareCancelledEvent](t, out, messages.EvtSoftwareCancelled)
	s := out.State.Subscriptions[subs[0]]
	if !sum.CancelledAt.Equal(at) || s.Status != StatusCancelled || !s.CancelledAt.Equal(at) || !slices.Contains(out.Changed, SubscriptionField(s.ID)) {
		t.Fatalf("summary %+v, subscription %+v", sum, s)
	}
	// A key access a minute later is refused: no 15-minute grace.
	wantRejected(t, w.admin(at.Add(time.Minute), messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: subs[0], User: "ana@partner.example"}),
		CodeSoftwareKeyRevoked, "CAN-4")
}
