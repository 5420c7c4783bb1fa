package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// taMove makes a subscription another partner's (as a transfer would).
func taMove(w *world, id, partner string) {
	s := *w.state.Subscriptions[id]
	s.PartnerID = partner
	w.state.Subscriptions[id] = &s
}

// taLineResult places a one-line order and returns the line's result.
func taLineResult(w *world, at time.Time, line messages.OrderLine) (Outcome, messages.OrderLineResult) {
	w.t.Helper()
	out, ev := taOrder(w, at, line)
	return out, ev.Lines[0]
}

func TestRule_ORD_7_MultiGeoAtLeastFivePercentOfAllBaseLicenses(t *testing.T) {
	at := t0.Add(24 * time.Hour)
	for _, tc := range []struct {
		name     string
		setup    func(w *world)
		qty      int
		wantCode string
		wantRule string
		base     string // data.base_licenses of the rejection
		minimum  string
	}{
		// Partner Center: 400 base licenses across all compatible base
		// subscriptions → at least 20.
		{name: "ORD-7 400 base licenses: 19 is too few", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			w.buy(t0, taE5, "P1Y", "monthly", 100)
		}, qty: 19, wantCode: CodeAddonBelowMinimum, wantRule: "ORD-7", base: "400", minimum: "20"},
		{name: "ORD-7 400 base licenses: 20 is enough", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			w.buy(t0, taE5, "P1Y", "monthly", 100)
		}, qty: 20},
		{name: "ORD-7 401 base licenses: the minimum rounds up to 21", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			w.buy(t0, taE5, "P1Y", "monthly", 101)
		}, qty: 20, wantCode: CodeAddonBelowMinimum, wantRule: "ORD-7", base: "401", minimum: "21"},
		{name: "ORD-7 another partner's base counts", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			taMove(w, w.buy(t0, taE5, "P1Y", "monthly", 100), partnerB)
		}, qty: 19, wantCode: CodeAddonBelowMinimum, wantRule: "ORD-7", base: "400", minimum: "20"},
		{name: "ORD-7 a suspended base counts", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			e5 := w.buy(t0, taE5, "P1Y", "monthly", 100)
			wantAccepted(w.t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionSuspend, suspendOf(e5, messages.ReasonNonPayment)))
		}, qty: 19, wantCode: CodeAddonBelowMinimum, wantRule: "ORD-7", base: "400", minimum: "20"},
		{name: "ORD-7 a cancelled base does not count", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			e5 := w.buy(t0, taE5, "P1Y", "monthly", 100)
			wantAccepted(w.t, w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(e5)))
		}, qty: 14, wantCode: CodeAddonBelowMinimum, wantRule: "ORD-7", base: "300", minimum: "15"},
		{name: "ORD-7 multi-geo licenses already held count toward the minimum", setup: func(w *world) {
			w.buy(t0, taPremium, "P1Y", "annual", 300)
			w.buy(t0, taE5, "P1Y", "monthly", 100)
			w.buy(t0, taGeo, "P1Y", "annual", 20)
		}, qty: 1},
		{name: "ORD-7 licenses of a non-compatible offer do not count", setup: func(w *world) {
			w.buy(t0, taBasic, "P1Y", "annual", 300)
		}, qty: 20, wantCode: CodeAddonRequiresBase, wantRule: "ORD-7", base: "0"},
		{name: "ORD-7 no base at all", setup: func(w *world) {}, qty: 5, wantCode: CodeAddonRequiresBase, wantRule: "ORD-7", base: "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := taWorld(t)
			tc.setup(w)
			out, res := taLineResult(w, at, taLine("G1", taGeo, tc.qty, "P1Y", "annual"))
			if tc.wantCode != "" {
				r := res.Rejection
				if r == nil || r.Code != tc.wantCode || r.Rule != tc.wantRule || r.Data["base_licenses"] != tc.base || r.Data["minimum"] != tc.minimum {
					t.Fatalf("want %s (%s) base %s minimum %s, got %+v", tc.wantCode, tc.wantRule, tc.base, tc.minimum, r)
				}
				if countEvents(out.Events, messages.EvtBillingCharge) != 0 {
					t.Fatal("a rejected line charged")
				}
				return
			}
			if res.Status != messages.LineFulfilled {
				t.Fatalf("rejected: %+v", res.Rejection)
			}
			charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
			if charge.AmountMinor != int64(tc.qty)*2400 || charge.Rule != "ORD-14" {
				t.Fatalf("charge %+v", charge)
			}
		})
	}
}

// ORD-7, ORD-8: base lines of the same cart count wherever they are in the
// cart; a base line that is rejected does not.
func TestRule_ORD_7_ORD_8_BaseLinesInTheSameCartCount(t *testing.T) {
	w := taWorld(t)
	out, ev := taOrder(w, t0,
		taLine("G1", taGeo, 20, "P1Y", "annual"),       // before its base in the cart
		taLine("B1", taPremium, 300, "P1Y", "annual"),  // 300
		taLine("C1", taCopilot, 400, "P1Y", "monthly"), // 300 + 100 = 400 base licenses
		taLine("B2", taE5, 100, "P1Y", "monthly"),
	)
	if ev.Status != messages.OrderCompleted {
		t.Fatalf("order %+v", ev.Lines)
	}
	// The result keeps the cart's order; the add-ons were decided last.
	for i, id := range []string{"G1", "B1", "C1", "B2"} {
		if ev.Lines[i].LineID != id {
			t.Fatalf("line %d is %s", i, ev.Lines[i].LineID)
		}
	}
	geo := w.state.Subscriptions[ev.Lines[0].SubscriptionID]
	if geo.BaseSubscriptionID != ev.Lines[1].SubscriptionID { // SUS-5: linked to the cart's first base line
		t.Fatalf("multi-geo linked to %q", geo.BaseSubscriptionID)
	}
	if n := countEvents(out.Events, messages.EvtBillingCharge); n != 4 {
		t.Fatalf("%d charges", n)
	}

	w2 := taWorld(t)
	_, ev = taOrder(w2, t0,
		taLine("B1", taPremium, 0, "P1Y", "annual"), // ORD-6: rejected, so it counts for nothing
		taLine("C1", taCopilot, 5, "P1Y", "annual"),
	)
	if ev.Status != messages.OrderFailed {
		t.Fatalf("order %+v", ev)
	}
	lineRejection(t, ev, 0, CodeQuantityOutOfRange, "ORD-6")
	lineRejection(t, ev, 1, CodeAddonRequiresBase, "ORD-8")
}

func TestRule_ORD_8_CopilotAtMostTheBaseLicenses(t *testing.T) {
	w := taWorld(t)
	at := t0.Add(24 * time.Hour)
	// Partner Center: 250 base licenses across all compatible base subscriptions,
	// also those held through another partner → at most 250.
	taMove(w, w.buy(t0, taBasic, "P1Y", "annual", 50), partnerB)
	w.buy(t0, taPremium, "P1Y", "monthly", 200)

	_, res := taLineResult(w, at, taLine("C1", taCopilot, 251, "P1Y", "annual"))
	if r := res.Rejection; r == nil || r.Code != CodeAddonAboveMaximum || r.Rule != "ORD-8" || r.Data["base_licenses"] != "250" ||
		r.Data["maximum"] != "250" || r.Data["held_addon_licenses"] != "0" {
		t.Fatalf("251: %+v", r)
	}
	out, res := taLineResult(w, at, taLine("C1", taCopilot, 250, "P1Y", "annual"))
	if res.Status != messages.LineFulfilled {
		t.Fatalf("250: %+v", res.Rejection)
	}
	if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 250*36000 {
		t.Fatalf("charge %+v", c)
	}
	// The 250 Copilot licenses now held count against the maximum.
	_, res = taLineResult(w, at, taLine("C1", taCopilot, 1, "P1M", "monthly"))
	if r := res.Rejection; r == nil || r.Code != CodeAddonAboveMaximum || r.Data["held_addon_licenses"] != "250" {
		t.Fatalf("one more: %+v", r)
	}
	// The Copilot subscription is linked to the ordering partner's own
	// base (SUS-5), never to another partner's.
	if s := w.state.Subscriptions[res.SubscriptionID]; s != nil {
		t.Fatal("rejected line created a subscription")
	}
	for _, s := range w.state.Subscriptions {
		if s.OfferID == taCopilot && w.state.Subscriptions[s.BaseSubscriptionID].OfferID != taPremium {
			t.Fatalf("copilot linked to %q", s.BaseSubscriptionID)
		}
	}

	empty := taWorld(t)
	_, res = taLineResult(empty, at, taLine("C1", taCopilot, 1, "P1Y", "annual"))
	if r := res.Rejection; r == nil || r.Code != CodeAddonRequiresBase || r.Rule != "ORD-8" {
		t.Fatalf("no base: %+v", r)
	}
}

func TestRule_ORD_9_CoterminousAddonEndsWithItsBaseAndIsProrated(t *testing.T) {
	t.Run("ORD-9 annual base", func(t *testing.T) {
		w := taWorld(t)
		base := w.buy(t0, taBasic, "P1Y", "annual", 10) // 2026-03-10..2027-03-09
		at := t0.Add(100 * 24 * time.Hour)              // 2026-06-18T14:00Z
		out, res := taLineResult(w, at, taLine("A1", taArchive, 10, "P1Y", "annual"))
		if res.Status != messages.LineFulfilled {
			t.Fatalf("rejected %+v", res.Rejection)
		}
		charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
		// 10 × USD 36.00 for 2026-06-18..2027-03-09, 265 of 365 days:
		// round_half_up(36000 × 265 / 365) = 26137.
		if charge.AmountMinor != 26137 || charge.Rule != "ORD-9" || charge.PeriodStart != "2026-06-18" || charge.PeriodEnd != "2027-03-09" ||
			charge.Proration == nil || *charge.Proration != (messages.Proration{BaseMinor: 36000, UsedDays: 100, UnusedDays: 265, PeriodDays: 365}) {
			t.Fatalf("charge %+v %+v", charge, charge.Proration)
		}
		a := w.state.Subscriptions[res.SubscriptionID]
		b := w.state.Subscriptions[base]
		if a.BaseSubscriptionID != base || !a.TermEnd.Equal(b.TermEnd) || !a.TermStart.Equal(b.TermStart) || a.Term != "P1Y" {
			t.Fatalf("add-on %+v", a)
		}
		if c := findEvent[*messages.SubscriptionCreatedEvent](t, out, messages.EvtSubscriptionCreated); c.TermEnd != "2027-03-09" {
			t.Fatalf("created %+v", c)
		}
		if _, ok := w.state.Timers[timerID(TimerTermEnd, a.ID, b.termEndsAt())]; !ok {
			t.Fatalf("no term_end timer at the base's term end: %v", w.state.Timers)
		}
		// The cancellation credit refunds only what was charged: 264 of
		// the 265 charged days.
		out = w.do(partnerA, at.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(a.ID))
		wantAccepted(t, out)
		if cr := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit); cr.AmountMinor != prorate(26137, 264, 265) || cr.AmountMinor != 26038 {
			t.Fatalf("credit %+v", cr)
		}
	})
	t.Run("ORD-9 monthly base: charged to the end of the base's billing period, then with it", func(t *testing.T) {
		w := taWorld(t)
		base := w.buy(t0, taBasic, "P1Y", "monthly", 10)
		at := time.Date(2026, 4, 25, 10, 0, 0, 0, time.UTC) // base period 2026-04-10..2026-05-09 (30 days)
		w.advance(at)
		// Term and billing frequency left out: the base's.
		out, res := taLineResult(w, at, messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(10)})
		if res.Status != messages.LineFulfilled {
			t.Fatalf("rejected %+v", res.Rejection)
		}
		// round_half_up(10 × 315 × 15 / 30) = 1575 for 2026-04-25..2026-05-09.
		charge := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge)
		if charge.AmountMinor != 1575 || charge.PeriodStart != "2026-04-25" || charge.PeriodEnd != "2026-05-09" ||
			*charge.Proration != (messages.Proration{BaseMinor: 3150, UsedDays: 15, UnusedDays: 15, PeriodDays: 30}) {
			t.Fatalf("charge %+v %+v", charge, charge.Proration)
		}
		var got []int64
		for _, e := range withoutNotices(eventsOf(w.advance(time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)))) {
			if b, ok := e.Data.(*messages.BillingEvent); ok && b.PeriodStart == "2026-05-10" && b.PeriodEnd == "2026-06-09" {
				got = append(got, b.AmountMinor)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, []int64{3150, 6300}) { // the add-on's full month, the base's
			t.Fatalf("next period charges %v", got)
		}
		if w.state.Subscriptions[res.SubscriptionID].BaseSubscriptionID != base {
			t.Fatal("not linked")
		}
	})
	t.Run("ORD-9 needs an eligible active base", func(t *testing.T) {
		w := taWorld(t)
		at := t0.Add(time.Hour)
		_, res := taLineResult(w, at, taLine("A1", taArchive, 1, "P1Y", "annual"))
		if r := res.Rejection; r == nil || r.Code != CodeAddonRequiresBase || r.Rule != "ORD-9" {
			t.Fatalf("no base: %+v", r)
		}
		b := w.buy(t0, taBasic, "P1Y", "monthly", 10)
		premium := w.buy(t0, taPremium, "P1Y", "monthly", 10)
		foreign := w.buy(t0, taBasic, "P1Y", "monthly", 10)
		taMove(w, foreign, partnerB)
		for _, c := range []struct {
			name       string
			line       messages.OrderLine
			code, rule string
		}{
			{"ORD-9 another plan than the base's", taLine("A1", taArchive, 1, "P1Y", "annual"), CodeAddonPlanMismatch, "ORD-9"},
			{"ORD-9 named base of an incompatible offer", messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(1), BaseSubscriptionID: premium}, CodeAddonBaseNotEligible, "ORD-9"},
			{"PTN-1 named base of another partner", messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(1), BaseSubscriptionID: foreign}, CodeNotPartnerOfRecord, "PTN-1"},
			{"PTN-1 named base unknown", messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(1), BaseSubscriptionID: "sub-nope"}, CodeSubscriptionNotFound, "PTN-1"},
			{"GEN-6 base named on a line that is no add-on", messages.OrderLine{LineID: "A1", OfferID: taBasic, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual", BaseSubscriptionID: b}, CodeInvalidField, "GEN-6"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, res := taLineResult(w, at, c.line)
				if r := res.Rejection; r == nil || r.Code != c.code || r.Rule != c.rule {
					t.Fatalf("want %s (%s), got %+v", c.code, c.rule, r)
				}
			})
		}
		wantAccepted(t, w.do(partnerA, at, messages.CmdSubscriptionSuspend, suspendOf(b, messages.ReasonNonPayment)))
		_, res = taLineResult(w, at, messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(1), BaseSubscriptionID: b})
		if r := res.Rejection; r == nil || r.Code != CodeAddonBaseNotEligible || r.Data["status"] != StatusSuspended {
			t.Fatalf("suspended base: %+v", r)
		}
		_, res = taLineResult(w, at, messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(1)})
		if r := res.Rejection; r == nil || r.Code != CodeAddonRequiresBase {
			t.Fatalf("only a suspended base: %+v", r)
		}
	})
}

func TestRule_SUS_5_SuspendingABaseSuspendsItsAddonsReactivatingRestoresOnlyThose(t *testing.T) {
	w := taWorld(t)
	base := w.buy(t0, taBasic, "P1Y", "annual", 10)
	other := w.buy(t0, taBasic, "P1Y", "annual", 5)
	on := func(b string) messages.OrderLine {
		return messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(5), BaseSubscriptionID: b}
	}
	_, a := taLineResult(w, t0.Add(time.Hour), on(base))
	_, alone := taLineResult(w, t0.Add(time.Hour), on(base))
	_, x := taLineResult(w, t0.Add(time.Hour), on(other))
	_, c := taLineResult(w, t0.Add(time.Hour), messages.OrderLine{LineID: "C1", OfferID: taCopilot, Quantity: intp(5), Term: "P1Y", BillingFrequency: "annual", BaseSubscriptionID: base})
	for _, r := range []messages.OrderLineResult{a, alone, x, c} {
		if r.Status != messages.LineFulfilled {
			t.Fatalf("setup: %+v", r.Rejection)
		}
	}
	// One add-on suspended on its own before the base.
	wantAccepted(t, w.do(partnerA, t0.Add(2*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(alone.SubscriptionID, messages.ReasonCustomerRequest)))

	out := w.do(partnerA, t0.Add(48*time.Hour), messages.CmdSubscriptionSuspend, suspendOf(base, messages.ReasonNonPayment))
	wantAccepted(t, out)
	var suspended []string
	for _, e := range out.Events {
		ev := e.Data.(*messages.SubscriptionSuspendedEvent)
		if ev.Reason != messages.ReasonNonPayment || !ev.BillingContinues {
			t.Fatalf("suspended %+v", ev)
		}
		suspended = append(suspended, ev.SubscriptionID)
	}
	want := []string{a.SubscriptionID, c.SubscriptionID}
	slices.Sort(want)
	if len(suspended) != 3 || suspended[0] != base || !slices.Equal(suspended[1:], want) {
		t.Fatalf("suspended %v, want %s then %v", suspended, base, want)
	}
	for _, id := range want {
		if s := w.state.Subscriptions[id]; s.Status != StatusSuspended || !s.SuspendedWithBase || s.AutoRenew {
			t.Fatalf("add-on %+v", s)
		}
	}
	if s := w.state.Subscriptions[x.SubscriptionID]; s.Status != StatusActive {
		t.Fatal("another base's add-on was suspended")
	}
	if s := w.state.Subscriptions[alone.SubscriptionID]; s.SuspendedWithBase {
		t.Fatal("an add-on already suspended was marked as suspended with its base")
	}

	// An add-on cannot come back while its base is suspended.
	wantRejected(t, w.do(partnerA, t0.Add(49*time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(a.SubscriptionID)), CodeBaseSuspended, "SUS-5")

	out = w.do(partnerA, t0.Add(50*time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(base))
	wantAccepted(t, out)
	var reactivated []string
	for _, e := range out.Events {
		ev := e.Data.(*messages.SubscriptionReactivatedEvent)
		if ev.AutoRenew || ev.Reminder == "" { // SUS-4
			t.Fatalf("reactivated %+v", ev)
		}
		reactivated = append(reactivated, ev.SubscriptionID)
	}
	if len(reactivated) != 3 || reactivated[0] != base || !slices.Equal(reactivated[1:], want) {
		t.Fatalf("reactivated %v", reactivated)
	}
	for _, id := range want {
		if s := w.state.Subscriptions[id]; s.Status != StatusActive || s.SuspendedWithBase {
			t.Fatalf("add-on %+v", s)
		}
	}
	// The add-on suspended on its own stays suspended (SUS-5 Decision).
	if s := w.state.Subscriptions[alone.SubscriptionID]; s.Status != StatusSuspended {
		t.Fatalf("independently suspended add-on %+v", s)
	}
	// ... and can be reactivated on its own now that its base is active.
	wantAccepted(t, w.do(partnerA, t0.Add(51*time.Hour), messages.CmdSubscriptionReactivate, reactivateOf(alone.SubscriptionID)))
}

// ORD-9 with QTY-1, QTY-2 and CAN-1: a co-terminous add-on's first period
// covers only the days left in its base's billing period, but a license's
// daily value stays the full period's price over the full period's days.
// Base period 2026-04-10..2026-05-09 (30 days); the add-on (USD 3.15 a
// license a month) is bought on 2026-05-04 at 10:00, 6 days left:
// 10 × 315 × 6 / 30 = 630. Every license is charged, and credited, by
// days of the 30: the 24 days before the add-on existed count as used.
func TestRule_ORD_9_PartialFirstPeriodProratesAtTheFullPeriodsDailyValue(t *testing.T) {
	bought := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	buyAddon := func(t *testing.T) (*world, string) {
		w := taWorld(t)
		w.buy(t0, taBasic, "P1Y", "monthly", 10)
		w.advance(bought)
		out, res := taLineResult(w, bought, messages.OrderLine{LineID: "A1", OfferID: taArchive, Quantity: intp(10)})
		if res.Status != messages.LineFulfilled {
			t.Fatalf("rejected %+v", res.Rejection)
		}
		if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 630 || c.PeriodStart != "2026-05-04" {
			t.Fatalf("purchase charge %+v", c)
		}
		return w, res.SubscriptionID
	}
	t.Run("ORD-9 QTY-1 increase", func(t *testing.T) {
		w, id := buyAddon(t)
		// +10 an hour later: 24 days before the add-on + 1 started day
		// used, 5 of 30 left: 3150 × 5 / 30 = 525 (not 3150 × 5 / 6).
		out, _ := changeQty(t, w, bought.Add(time.Hour), id, 20)
		c := billsOf(out)[0]
		if c.AmountMinor != 525 || c.PeriodStart != "2026-05-04" || c.PeriodEnd != "2026-05-09" ||
			*c.Proration != (messages.Proration{BaseMinor: 3150, UsedDays: 25, UnusedDays: 5, PeriodDays: 30}) {
			t.Fatalf("increase charge %d %+v", c.AmountMinor, c.Proration)
		}
		// Cancelled at 13:00, every license held 1 started day: the
		// purchased lot gives back 5 of its 6 charged days (3150 × 5), the
		// added one 4 of its 5 (3150 × 4): 28350 / 30 = 945. Paid in all:
		// 630 + 525 - 945 = 210 = 20 licenses × 1 day × 10.5.
		out = w.do(partnerA, bought.Add(3*time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
		wantAccepted(t, out)
		cr := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
		if cr.AmountMinor != 945 || len(cr.LotProrations) != 2 ||
			cr.LotProrations[0] != (messages.Proration{BaseMinor: 3150, UsedDays: 25, UnusedDays: 5, PeriodDays: 30}) ||
			cr.LotProrations[1] != (messages.Proration{BaseMinor: 3150, UsedDays: 26, UnusedDays: 4, PeriodDays: 30}) {
			t.Fatalf("cancellation credit %d %+v %+v", cr.AmountMinor, cr.LotProrations, cr.Proration)
		}
	})
	t.Run("ORD-9 QTY-2 decrease", func(t *testing.T) {
		w, id := buyAddon(t)
		// 10 -> 1 an hour later: the 9 licenses were charged
		// 2835 × 6 / 30 = 567 and held 1 started day: credit
		// 2835 × 5 / 30 = 472.5 -> 473 (not 2835 × 5 / 6 = 2363, four
		// times what they were charged).
		out, _ := changeQty(t, w, bought.Add(time.Hour), id, 1)
		c := billsOf(out)[0]
		if c.AmountMinor != 473 || *c.Proration != (messages.Proration{BaseMinor: 2835, UsedDays: 25, UnusedDays: 5, PeriodDays: 30}) {
			t.Fatalf("decrease credit %d %+v", c.AmountMinor, c.Proration)
		}
		if s := w.state.Subscriptions[id]; s.PeriodCharge != 63 { // 630 - 567: the remaining license's share
			t.Fatalf("period charge %d", s.PeriodCharge)
		}
		// The last license cancelled at 13:00: its 63 prorated by the
		// covered days, 5 of 6 unused: 52.5 -> 53 (= 315 × 5 / 30).
		out = w.do(partnerA, bought.Add(3*time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
		wantAccepted(t, out)
		if cr := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit); cr.AmountMinor != 53 {
			t.Fatalf("cancellation credit %+v", cr)
		}
	})
}
