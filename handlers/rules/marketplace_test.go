package rules

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

const (
	offerHub     = "CNTSOPRJHUB9:0001" // license-based ISV SaaS, sold to US and DE customers
	offerMetered = "NWNDANLYTCS9:0001" // metered ISV SaaS: listed, not transactable
	hubSetupURL  = "https://projecthub.contoso-isv.example/csp/setup?lang=en"
)

// marketplaceCatalog is testCatalog plus CAN-3's policy (Partner Center: 24
// hours for a monthly term, 14 days for an annual one) and two ISV SaaS
// offers.
func marketplaceCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	var c catalog.Catalog
	if err := json.Unmarshal([]byte(testCatalog), &c); err != nil {
		t.Fatal(err)
	}
	c.Policy.Marketplace = catalog.MarketplacePolicy{CancelWindowHoursMonthly: 24, CancelWindowHoursAnnual: 336}
	c.Offers = append(c.Offers,
		catalog.Offer{
			ID: offerHub, Name: "Contoso Project Hub", Publisher: "contoso-isv",
			CommerceType: catalog.CommerceTypeMarketplace, BillingType: catalog.BillingTypeLicense,
			Segments: []string{"commercial"}, MinQuantity: 1, MaxQuantity: 1000,
			Marketplace: &catalog.MarketplaceSpec{SetupURL: hubSetupURL, BillingCountries: []string{"US", "DE"},
				SoldThroughCSP: true, Transactable: true},
			Plans: []catalog.Plan{
				{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 1200, "JPY": 1800}},
				{Term: "P1Y", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 1050, "JPY": 1575}},
				{Term: "P1Y", BillingFrequency: "annual", Prices: map[string]int64{"USD": 12000, "JPY": 18000}},
			},
		},
		catalog.Offer{
			ID: offerMetered, Name: "Northwind Analytics (metered)", Publisher: "northwind-isv",
			CommerceType: catalog.CommerceTypeMarketplace, BillingType: catalog.BillingTypeUsage,
			Segments: []string{"commercial"},
			Marketplace: &catalog.MarketplaceSpec{SetupURL: "https://analytics.northwind-isv.example/activate",
				BillingCountries: []string{"US"}, SoldThroughCSP: true, Transactable: false},
			Plans: []catalog.Plan{{Term: "P1M", BillingFrequency: "monthly", Prices: map[string]int64{"USD": 0, "JPY": 0}}},
		})
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := catalog.Parse(b)
	if err != nil {
		t.Fatalf("marketplace test catalog: %v", err)
	}
	return parsed
}

func mpWorld(t testing.TB) *world {
	w := newWorld(t)
	w.cat = marketplaceCatalog(t)
	return w
}

func mpHubSpec(w *world) *catalog.MarketplaceSpec {
	o, _ := w.cat.Offer(offerHub)
	return o.Marketplace
}

// orderLine places a one-line order as partner and returns the outcome and
// the line's result.
func mpOrder(w *world, partner string, at time.Time, offer, term, freq string, qty *int) (Outcome, messages.OrderLineResult) {
	w.t.Helper()
	out := w.do(partner, at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + itoa(w.n+1),
		Lines: []messages.OrderLine{{LineID: "L1", OfferID: offer, Quantity: qty, Term: term, BillingFrequency: freq}}})
	wantAccepted(w.t, out)
	ev := findEvent[*messages.OrderProcessedEvent](w.t, out, messages.EvtOrderProcessed)
	return out, ev.Lines[0]
}

// ORD-4: each reason an ISV SaaS offer is unavailable has its own code;
// the line is rejected and nothing is created or charged.
func TestRule_ORD_4_MarketplaceAvailability(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(w *world)
		partner string
		country string
		offer   string
		qty     *int
		code    string // "" = fulfilled
	}{
		{"ORD-4 open offer, supported country", nil, partnerA, "US", offerHub, intp(5), ""},
		{"ORD-4 not transactable (containers)", func(w *world) { mpHubSpec(w).Transactable = false }, partnerA, "US", offerHub, intp(5), CodeOfferNotTransactable},
		{"ORD-4 metered SaaS is not transacted here", nil, partnerA, "US", offerMetered, nil, CodeOfferNotTransactable},
		{"ORD-4 ISV does not sell through CSP", func(w *world) { mpHubSpec(w).SoldThroughCSP = false }, partnerA, "US", offerHub, intp(5), CodeISVNotInCSP},
		{"ORD-4 exclusive to other partners", func(w *world) { mpHubSpec(w).ExclusivePartnerIDs = []string{partnerB} }, partnerA, "US", offerHub, intp(5), CodeOfferExclusive},
		{"ORD-4 exclusive to the acting partner", func(w *world) { mpHubSpec(w).ExclusivePartnerIDs = []string{partnerB, partnerA} }, partnerA, "US", offerHub, intp(5), ""},
		{"ORD-4 billing country not supported", nil, partnerA, "FR", offerHub, intp(5), CodeISVCountryNotSupported},
		{"ORD-4 the first failing check names the line", func(w *world) {
			mpHubSpec(w).Transactable, mpHubSpec(w).SoldThroughCSP = false, false
		}, partnerA, "FR", offerHub, intp(5), CodeOfferNotTransactable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mpWorld(t)
			if tc.mutate != nil {
				tc.mutate(w)
			}
			wantAccepted(t, w.do(tc.partner, t0.Add(-time.Hour), messages.CmdCustomerCreated, &messages.CustomerCreatedData{
				CompanyName: "Contoso", Segment: "commercial", Country: tc.country, Currency: "USD"}))
			out, line := mpOrder(w, tc.partner, t0, tc.offer, "P1M", "monthly", tc.qty)
			if tc.code == "" {
				if line.Status != messages.LineFulfilled {
					t.Fatalf("line rejected: %+v", line.Rejection)
				}
				return
			}
			r := line.Rejection
			if line.Status != messages.LineRejected || r == nil || r.Code != tc.code || r.Rule != "ORD-4" || r.Data["offer_id"] != tc.offer {
				t.Fatalf("line %+v rejection %+v, want %s (ORD-4)", line, r, tc.code)
			}
			if len(out.Events) != 1 || len(w.state.Subscriptions) != 0 {
				t.Fatalf("a rejected line created something: %v", eventTypes(out))
			}
		})
	}
}

// ORD-13: the purchase result carries the publisher's setup link with the
// subscription ID; no e-mail is sent. REN-1: it auto-renews by default;
// CAN-3: its window is the policy's for its term.
func TestRule_ORD_13_MarketplaceSetupLink(t *testing.T) {
	for _, tc := range []struct {
		name, term, freq string
		window           time.Duration
		charge           int64
	}{
		{"ORD-13 monthly term", "P1M", "monthly", 24 * time.Hour, 6000},
		{"ORD-13 annual term", "P1Y", "annual", 336 * time.Hour, 60000},
		{"ORD-13 annual term billed monthly", "P1Y", "monthly", 336 * time.Hour, 5250},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mpWorld(t)
			w.createCustomer("commercial", "USD")
			out, line := mpOrder(w, partnerA, t0, offerHub, tc.term, tc.freq, intp(5))
			if line.Status != messages.LineFulfilled {
				t.Fatalf("line %+v", line.Rejection)
			}
			id := line.SubscriptionID
			want := []messages.EventType{messages.EvtSubscriptionCreated, messages.EvtBillingCharge, messages.EvtMarketplaceSetupLink, messages.EvtOrderProcessed}
			if got := eventTypes(out); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
				t.Fatalf("events %v, want %v", got, want)
			}
			link := findEvent[*messages.MarketplaceSetupLinkEvent](t, out, messages.EvtMarketplaceSetupLink)
			wantLink := messages.MarketplaceSetupLinkEvent{SubscriptionID: id, OrderID: "O-2", LineID: "L1", OfferID: offerHub,
				OfferName: "Contoso Project Hub", Publisher: "contoso-isv",
				SetupURL: "https://projecthub.contoso-isv.example/csp/setup?lang=en&subscription_id=" + id, EmailSent: false}
			if *link != wantLink {
				t.Fatalf("link %+v\nwant %+v", *link, wantLink)
			}
			created := findEvent[*messages.SubscriptionCreatedEvent](t, out, messages.EvtSubscriptionCreated)
			if !created.AutoRenew || !created.CancellableUntil.Equal(t0.Add(tc.window)) {
				t.Fatalf("created %+v, want auto-renew on and cancellable until %v", created, t0.Add(tc.window))
			}
			if charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); charge.AmountMinor != tc.charge {
				t.Fatalf("charge %d, want %d", charge.AmountMinor, tc.charge)
			}
			s := w.state.Subscriptions[id]
			if s.CommerceType != catalog.CommerceTypeMarketplace || s.Marketplace == nil || s.Marketplace.SetupURL != wantLink.SetupURL ||
				s.Marketplace.Publisher != "contoso-isv" || s.CancelWindowHours != int(tc.window/time.Hour) {
				t.Fatalf("stored %+v %+v", s, s.Marketplace)
			}
		})
	}
	// Non-marketplace lines get no link.
	w := mpWorld(t)
	w.createCustomer("commercial", "USD")
	out, _ := mpOrder(w, partnerA, t0, offerBasic, "P1Y", "annual", intp(1))
	for _, e := range out.Events {
		if e.Type == messages.EvtMarketplaceSetupLink {
			t.Fatal("a Microsoft offer got a setup link")
		}
	}
}

func TestRule_ORD_13_SetupLinkKeepsTheQuery(t *testing.T) {
	for base, want := range map[string]string{
		"https://x.example/setup":               "https://x.example/setup?subscription_id=sub-1",
		"https://x.example/setup?lang=en":       "https://x.example/setup?lang=en&subscription_id=sub-1",
		"https://x.example/setup?z=1&channel=c": "https://x.example/setup?channel=c&subscription_id=sub-1&z=1",
		"https://x.example/a%20b/?q=a+b":        "https://x.example/a%20b/?q=a+b&subscription_id=sub-1",
	} {
		if got := setupLink(base, "sub-1"); got != want {
			t.Errorf("setupLink(%q) = %q, want %q", base, got, want)
		}
	}
}

// CAN-3: a marketplace SaaS subscription cancelled within its window (24
// hours for a monthly term, 14 days for an annual one, from purchase or
// renewal) gets the full charge of its billing period back, not prorated;
// at the window's end the cancel option is gone. CAN-7: one credit and
// one cancellation.
func TestRule_CAN_3_MarketplaceCancellationWindow(t *testing.T) {
	for _, tc := range []struct {
		name       string
		term, freq string
		qty        int
		policy     *catalog.MarketplacePolicy
		suspend    bool
		after      time.Duration
		credit     int64 // -1 = rejected
		windowEnd  time.Duration
		periodDays string
	}{
		{"CAN-3 monthly just inside 24 hours", "P1M", "monthly", 5, nil, false, 24*time.Hour - time.Second, 6000, 0, "2026-03-10..2026-04-09"},
		{"CAN-3 monthly at 24 hours the window is closed", "P1M", "monthly", 5, nil, false, 24 * time.Hour, -1, 24 * time.Hour, ""},
		{"CAN-3 monthly at hour 1 full refund, not prorated", "P1M", "monthly", 1, nil, false, time.Hour, 1200, 0, "2026-03-10..2026-04-09"},
		{"CAN-3 annual just inside 14 days", "P1Y", "annual", 3, nil, false, 14*24*time.Hour - time.Second, 36000, 0, "2026-03-10..2027-03-09"},
		{"CAN-3 annual at 14 days the window is closed", "P1Y", "annual", 3, nil, false, 14 * 24 * time.Hour, -1, 14 * 24 * time.Hour, ""},
		{"CAN-3 annual billed monthly inside 14 days", "P1Y", "monthly", 2, nil, false, 13 * 24 * time.Hour, 2100, 0, "2026-03-10..2026-04-09"},
		{"CAN-3 annual billed monthly after 14 days", "P1Y", "monthly", 2, nil, false, 15 * 24 * time.Hour, -1, 14 * 24 * time.Hour, ""},
		{"CAN-3 suspended inside the window", "P1M", "monthly", 4, nil, true, 2 * time.Hour, 4800, 0, "2026-03-10..2026-04-09"},
		{"CAN-3 policy of 72 hours: monthly at hour 48", "P1M", "monthly", 5, &catalog.MarketplacePolicy{CancelWindowHoursMonthly: 72, CancelWindowHoursAnnual: 72}, false, 48 * time.Hour, 6000, 0, "2026-03-10..2026-04-09"},
		{"CAN-3 policy of 72 hours: annual at hour 72", "P1Y", "annual", 3, &catalog.MarketplacePolicy{CancelWindowHoursMonthly: 72, CancelWindowHoursAnnual: 72}, false, 72 * time.Hour, -1, 72 * time.Hour, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mpWorld(t)
			if tc.policy != nil {
				w.cat.Policy.Marketplace = *tc.policy
			}
			w.createCustomer("commercial", "USD")
			_, line := mpOrder(w, partnerA, t0, offerHub, tc.term, tc.freq, intp(tc.qty))
			id := line.SubscriptionID
			if tc.suspend {
				wantAccepted(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend,
					&messages.SuspendData{SubscriptionID: id, Reason: messages.ReasonCustomerRequest}))
			}
			before := w.state
			out := w.do(partnerA, t0.Add(tc.after), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: id})
			if tc.credit < 0 {
				r := wantRejected(t, out, CodeCancelWindowClosed, "CAN-3")
				end := t0.Add(tc.windowEnd)
				if r.Data["window_end"] != end.Format(time.RFC3339Nano) || r.Data["window_opened_at"] != t0.Format(time.RFC3339Nano) ||
					r.Data["window_hours"] != strconv.Itoa(int(tc.windowEnd/time.Hour)) || r.Data["term"] != tc.term {
					t.Fatalf("rejection data %v", r.Data)
				}
				if w.state.Subscriptions[id] != before.Subscriptions[id] {
					t.Fatal("a rejected cancel changed the subscription")
				}
				return
			}
			wantAccepted(t, out)
			if got := typesWithoutNotices(out); len(got) != 2 || got[0] != messages.EvtBillingCredit || got[1] != messages.EvtSubscriptionCancelled {
				t.Fatalf("events %v, want one billing.credit and one subscription.cancelled (CAN-7)", got)
			}
			credit := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
			if credit.AmountMinor != tc.credit || credit.Rule != "CAN-3" || credit.Reason != messages.BillingReasonCancellation ||
				credit.Proration != nil || credit.Quantity != tc.qty || credit.PeriodStart+".."+credit.PeriodEnd != tc.periodDays {
				t.Fatalf("credit %+v, want %d (CAN-3, not prorated, period %s)", credit, tc.credit, tc.periodDays)
			}
			cancelled := findEvent[*messages.SubscriptionCancelledEvent](t, out, messages.EvtSubscriptionCancelled)
			if cancelled.CreditMinor != tc.credit || cancelled.CreditEventID != messages.EventID(customer1, "cmd-"+itoa(w.n), 0) || cancelled.Currency != "USD" {
				t.Fatalf("cancelled %+v", cancelled)
			}
			s := w.state.Subscriptions[id]
			if s.Status != StatusCancelled || s.AutoRenew || s.CancelledAt == nil || !s.CancelledAt.Equal(t0.Add(tc.after)) {
				t.Fatalf("state %+v", s)
			}
			for _, tm := range w.state.Timers {
				if tm.SubscriptionID == id {
					t.Fatalf("timer %s left after cancellation", tm.ID)
				}
			}
			// CAN-2: final.
			wantRejected(t, w.do(partnerA, t0.Add(tc.after+time.Minute), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: id}),
				CodeSubscriptionCancelled, "CAN-2")
		})
	}
}

// CAN-3: a renewal opens a new window of the term's length, and the full
// refund is the renewal's charge.
func TestRule_CAN_3_MarketplaceWindowReopensAtRenewal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		after  time.Duration
		credit int64
	}{
		{"CAN-3 renewal window just inside", 24*time.Hour - time.Second, 3600},
		{"CAN-3 renewal window closed", 24 * time.Hour, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mpWorld(t)
			w.createCustomer("commercial", "USD")
			_, line := mpOrder(w, partnerA, t0, offerHub, "P1M", "monthly", intp(3))
			renewedAt := time.Date(2026, 4, 10, 0, 0, 0, 0, time.UTC) // the day after the term end 2026-04-09
			renewed := mpFind[*messages.SubscriptionRenewedEvent](t, withoutNotices(eventsOf(w.advance(renewedAt))), messages.EvtSubscriptionRenewed)
			if !renewed.CancellableUntil.Equal(renewedAt.Add(24 * time.Hour)) {
				t.Fatalf("renewed %+v", renewed)
			}
			out := w.do(partnerA, renewedAt.Add(tc.after), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: line.SubscriptionID})
			if tc.credit < 0 {
				r := wantRejected(t, out, CodeCancelWindowClosed, "CAN-3")
				if r.Data["window_opened_at"] != renewedAt.Format(time.RFC3339Nano) {
					t.Fatalf("data %v", r.Data)
				}
				return
			}
			credit := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
			if credit.AmountMinor != tc.credit || credit.PeriodStart != "2026-04-10" || credit.PeriodEnd != "2026-05-09" {
				t.Fatalf("credit %+v", credit)
			}
		})
	}
}

// CAN-3 with QTY-1: licenses added within the window are refunded with the
// rest: the full refund is everything charged for the period.
func TestRule_CAN_3_FullRefundIncludesAddedLicenses(t *testing.T) {
	w := mpWorld(t)
	w.createCustomer("commercial", "USD")
	_, line := mpOrder(w, partnerA, t0, offerHub, "P1Y", "annual", intp(2))
	out := w.do(partnerA, t0.Add(48*time.Hour), messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: line.SubscriptionID, Quantity: intp(3)})
	wantAccepted(t, out)
	added := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge).AmountMinor // 12000 × 363/365, rounded half up
	if added != 11934 {
		t.Fatalf("increase charge %d, want 11934", added)
	}
	out = w.do(partnerA, t0.Add(10*24*time.Hour), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: line.SubscriptionID})
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit); c.AmountMinor != 24000+11934 {
		t.Fatalf("credit %d, want %d", c.AmountMinor, 24000+11934)
	}
}

// REN-1: a marketplace subscription renews automatically by default, and
// its auto-renew can be turned off: it then expires at the term end, with
// no renewal charge.
func TestRule_REN_1_MarketplaceAutoRenew(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  bool
	}{
		{"REN-1 marketplace renews by default", false},
		{"REN-1 marketplace auto-renew turned off expires", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := mpWorld(t)
			w.createCustomer("commercial", "USD")
			_, line := mpOrder(w, partnerA, t0, offerHub, "P1Y", "annual", intp(2))
			id := line.SubscriptionID
			if tc.off {
				out := w.do(partnerA, t0.Add(30*24*time.Hour), messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: id, Enabled: boolp(false)})
				wantAccepted(t, out)
				if ev := findEvent[*messages.AutoRenewChangedEvent](t, out, messages.EvtAutoRenewChanged); ev.Enabled || w.state.Subscriptions[id].AutoRenew {
					t.Fatalf("auto-renew still on: %+v", ev)
				}
			}
			evs := withoutNotices(eventsOf(w.advance(time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC))))
			s := w.state.Subscriptions[id]
			if tc.off {
				exp := mpFind[*messages.SubscriptionExpiredEvent](t, evs, messages.EvtSubscriptionExpired)
				if s.Status != StatusExpired || exp.Reason != messages.ExpiredAutoRenewOff || countEvents(evs, messages.EvtBillingCharge) != 0 {
					t.Fatalf("status %s, expired %+v, events %v", s.Status, exp, evs)
				}
				return
			}
			charge := mpFind[*messages.BillingEvent](t, evs, messages.EvtBillingCharge)
			if s.Status != StatusActive || s.Renewals != 1 || charge.AmountMinor != 24000 || charge.Reason != messages.BillingReasonRenewal {
				t.Fatalf("status %s renewals %d charge %+v", s.Status, s.Renewals, charge)
			}
		})
	}
}

func mpFind[T any](t testing.TB, evs []EventDraft, typ messages.EventType) T {
	t.Helper()
	for _, e := range evs {
		if e.Type == typ {
			return e.Data.(T)
		}
	}
	t.Fatalf("no %s event in %v", typ, evs)
	var zero T
	return zero
}
