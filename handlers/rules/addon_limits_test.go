package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// wantBaseNeeded asserts a base_needed_by_addon rejection naming the
// add-on, its licenses and the limit.
func wantBaseNeeded(t *testing.T, out Outcome, rule, addonSub, addonQty, limitKey, limit, baseAfter string) {
	t.Helper()
	r := wantRejected(t, out, CodeBaseNeededByAddon, rule)
	if r.Data["addon_subscription_ids"] != addonSub || r.Data["addon_quantity"] != addonQty ||
		r.Data[limitKey] != limit || r.Data["base_licenses_after"] != baseAfter {
		t.Fatalf("rejection data %v", r.Data)
	}
}

func TestRule_ORD_8_BaseDecreaseOrCancelBelowCopilotLicensesIsRejected(t *testing.T) {
	w := taWorld(t)
	base := w.buy(t0, taBasic, "P1Y", "annual", 10)
	_, res := taLineResult(w, t0.Add(time.Hour), taLine("C1", taCopilot, 10, "P1Y", "annual"))
	copilot := res.SubscriptionID
	at := t0.Add(2 * time.Hour)

	// 10 Copilot licenses need 10 base licenses: 8 would be too few.
	wantBaseNeeded(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(base, 8)), "ORD-8", copilot, "10", "maximum", "8", "8")
	if w.state.Subscriptions[base].Quantity != 10 {
		t.Fatal("the rejected decrease changed the base")
	}
	// Cancelling the only base would leave none.
	wantBaseNeeded(t, w.do(partnerA, at, messages.CmdSubscriptionCancel, cancelOf(base)), "ORD-8", copilot, "10", "maximum", "0", "0")
	if w.state.Subscriptions[base].Status != StatusActive {
		t.Fatal("the rejected cancellation ended the base")
	}
	// Suspending removes no base license (suspended ones still count).
	wantAccepted(t, w.do(partnerA, at, messages.CmdSubscriptionSuspend, suspendOf(base, messages.ReasonNonPayment)))
	wantAccepted(t, w.do(partnerA, at.Add(time.Minute), messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: base}))

	// Reducing the add-on first makes room: 8 Copilot, then 8 base.
	wantAccepted(t, w.do(partnerA, at.Add(2*time.Minute), messages.CmdQuantityChange, qtyOf(copilot, 8)))
	out := w.do(partnerA, at.Add(3*time.Minute), messages.CmdQuantityChange, qtyOf(base, 8))
	wantAccepted(t, out)
	// 2 of 10 annual licenses at USD 72.00, 1 day used of 365:
	// round_half_up(14400 × 364 / 365) = 14361.
	if ev := findEvent[*messages.QuantityChangedEvent](t, out, messages.EvtQuantityChanged); ev.Quantity != 8 || ev.CreditedMinor != 14361 {
		t.Fatalf("decrease %+v", ev)
	}

	// Another base offer's licenses count: 8 Premium more let the Basic
	// base go down to 1 with 8 Copilot (1 + 8 >= 8).
	w.buy(at.Add(4*time.Minute), taPremium, "P1Y", "annual", 8)
	wantAccepted(t, w.do(partnerA, at.Add(5*time.Minute), messages.CmdQuantityChange, qtyOf(base, 1)))
}

func TestRule_ORD_8_UpgradeMovingBaseLicensesAwayIsChecked(t *testing.T) {
	// Premium upgrades to E5, both Copilot bases: moving licenses between
	// them keeps the count, so the upgrade is accepted.
	w := taWorld(t)
	premium := w.buy(t0, taPremium, "P1Y", "annual", 10)
	taLineResult(w, t0.Add(time.Hour), taLine("C1", taCopilot, 10, "P1Y", "annual"))
	out := w.do(partnerA, t0.Add(2*time.Hour), messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: premium, TargetOfferID: taE5, Quantity: intp(4)})
	wantAccepted(t, out)
	if n := licensesOfIn(w, taPremium, taE5); n != 10 {
		t.Fatalf("base licenses after the upgrade %d", n)
	}

	// With E5 no Copilot base, moving 4 of 10 Premium licenses to it would
	// leave 6 base licenses under 10 Copilot licenses.
	w = taWorld(t)
	offer, _ := w.cat.Offer(taCopilot)
	offer.Addon.BaseOfferIDs = []string{taBasic, taPremium}
	premium = w.buy(t0, taPremium, "P1Y", "annual", 10)
	_, res := taLineResult(w, t0.Add(time.Hour), taLine("C1", taCopilot, 10, "P1Y", "annual"))
	out = w.do(partnerA, t0.Add(2*time.Hour), messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: premium, TargetOfferID: taE5, Quantity: intp(4)})
	wantBaseNeeded(t, out, "ORD-8", res.SubscriptionID, "10", "maximum", "6", "6")
}

// licensesOfIn counts the active licenses of the offers in w's state.
func licensesOfIn(w *world, offers ...string) int {
	n := 0
	for _, s := range w.state.Subscriptions {
		for _, o := range offers {
			if s.OfferID == o && s.Status == StatusActive {
				n += s.Quantity
			}
		}
	}
	return n
}

func TestRule_ORD_7_CancellingTheLastBaseOfAMultiGeoAddonIsRejected(t *testing.T) {
	w := taWorld(t)
	premium := w.buy(t0, taPremium, "P1Y", "annual", 300)
	_, res := taLineResult(w, t0.Add(time.Hour), taLine("G1", taGeo, 15, "P1Y", "annual"))
	geo := res.SubscriptionID
	at := t0.Add(2 * time.Hour)

	// A decrease lowers the minimum with the base: 300 → 20 leaves a
	// minimum of 1, 15 multi-geo licenses are enough.
	wantAccepted(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(premium, 20)))
	// No base license left: ORD-7 needs a base.
	wantBaseNeeded(t, w.do(partnerA, at.Add(time.Minute), messages.CmdSubscriptionCancel, cancelOf(premium)), "ORD-7", geo, "15", "minimum", "0", "0")

	// Once the add-on is cancelled, the base can be.
	wantAccepted(t, w.do(partnerA, at.Add(2*time.Minute), messages.CmdSubscriptionCancel, cancelOf(geo)))
	wantAccepted(t, w.do(partnerA, at.Add(3*time.Minute), messages.CmdSubscriptionCancel, cancelOf(premium)))
}

// ORD-8 holds for the add-on's whole life: a Copilot increase above the
// base licenses is rejected with the purchase's code and changes nothing;
// up to the base it is accepted.
func TestRule_ORD_8_CopilotIncreaseAboveTheBaseIsRejected(t *testing.T) {
	w := taWorld(t)
	w.buy(t0, taBasic, "P1Y", "annual", 10)
	_, res := taLineResult(w, t0.Add(time.Hour), taLine("C1", taCopilot, 6, "P1Y", "annual"))
	copilot := res.SubscriptionID
	at := t0.Add(2 * time.Hour)
	r := wantRejected(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(copilot, 11)), CodeAddonAboveMaximum, "ORD-8")
	if r.Data["maximum"] != "10" || r.Data["held_addon_licenses"] != "6" || r.Data["addon_licenses_after"] != "11" {
		t.Fatalf("rejection data %v", r.Data)
	}
	if w.state.Subscriptions[copilot].Quantity != 6 {
		t.Fatal("the rejected increase changed the add-on")
	}
	wantAccepted(t, w.do(partnerA, at.Add(time.Minute), messages.CmdQuantityChange, qtyOf(copilot, 10)))
}

// ORD-7 holds for the add-on's whole life: a multi-geo decrease under its
// share of the base licenses (5 % of 200, 10) is rejected with the
// purchase's code; down to the share it is accepted.
func TestRule_ORD_7_MultiGeoDecreaseUnderItsShareIsRejected(t *testing.T) {
	w := taWorld(t)
	w.buy(t0, taPremium, "P1Y", "annual", 200)
	_, res := taLineResult(w, t0.Add(time.Hour), taLine("G1", taGeo, 12, "P1Y", "annual"))
	geo := res.SubscriptionID
	at := t0.Add(2 * time.Hour)
	r := wantRejected(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(geo, 9)), CodeAddonBelowMinimum, "ORD-7")
	if r.Data["minimum"] != "10" || r.Data["addon_licenses_after"] != "9" {
		t.Fatalf("rejection data %v", r.Data)
	}
	if w.state.Subscriptions[geo].Quantity != 12 {
		t.Fatal("the rejected decrease changed the add-on")
	}
	wantAccepted(t, w.do(partnerA, at.Add(time.Minute), messages.CmdQuantityChange, qtyOf(geo, 10)))
	// Cancelling the add-on as a whole stays possible.
	wantAccepted(t, w.do(partnerA, at.Add(2*time.Minute), messages.CmdSubscriptionCancel, cancelOf(geo)))
}
