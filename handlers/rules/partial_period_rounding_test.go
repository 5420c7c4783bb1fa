package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// realCatalogWorld is a world on the shipped catalog with a commercial US
// customer opened at opened.
func realCatalogWorld(t *testing.T, opened time.Time) *world {
	t.Helper()
	w := newWorld(t)
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	w.cat = c
	wantAccepted(t, w.do(partnerA, opened, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}))
	return w
}

func placeLine(t *testing.T, w *world, at time.Time, line messages.OrderLine) (Outcome, string) {
	t.Helper()
	out := w.do(partnerA, at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + itoa(w.n+1), Lines: []messages.OrderLine{line}})
	ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
	if ev.Lines[0].Rejection != nil {
		t.Fatalf("line rejected: %+v", ev.Lines[0].Rejection)
	}
	return out, ev.Lines[0].SubscriptionID
}

// GEN-3 with ORD-9 and SUS-2: a subscription that covers only the tail of
// a billing period (a co-terminous add-on, a legacy subscription
// reactivated mid-period) is charged its covered days at the whole
// period's daily value, rounded once; cancelling it must give back the
// unused days at that same daily value, rounded once — not the rounded
// charge prorated again by the covered days.
func TestRule_GEN_3_PartialPeriodCancellationRoundsOnce(t *testing.T) {
	day := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	credit := func(t *testing.T, out Outcome) int64 {
		t.Helper()
		wantAccepted(t, out)
		return findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit).AmountMinor
	}
	t.Run("ORD-9 co-terminous add-on", func(t *testing.T) {
		w := realCatalogWorld(t, day("2026-01-01T00:17:00Z"))
		// Exchange Online (Plan 1) P1Y billed monthly: period Jan 5..Feb 4, 31 days.
		_, base := placeLine(t, w, day("2026-01-05T06:17:00Z"), messages.OrderLine{LineID: "L1", OfferID: "CFQ7TTC0LH16:0001",
			Quantity: intp(10), Term: "P1Y", BillingFrequency: "monthly"})
		// 4 add-on licenses at 3.15 on Jan 20: 16 covered days,
		// 1260 × 16 / 31 = 650.32 -> 650.
		out, addon := placeLine(t, w, day("2026-01-20T12:17:00Z"), messages.OrderLine{LineID: "L1", OfferID: "CFQ7TTC0LH1G:0001",
			Quantity: intp(4), BaseSubscriptionID: base})
		if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 650 {
			t.Fatalf("ORD-9 charge %d, want 650", c.AmountMinor)
		}
		// Cancelled 12 hours later: 1 started day used, 15 unused:
		// 1260 × 15 / 31 = 609.68 -> 610 (650 × 15 / 16 = 609.375 rounds twice).
		if got := credit(t, w.do(partnerA, day("2026-01-21T00:17:00Z"), messages.CmdSubscriptionCancel,
			&messages.CancelData{SubscriptionID: addon})); got != 610 {
			t.Fatalf("cancellation credit %d, want 610", got)
		}
	})
	t.Run("SUS-2 legacy reactivated mid-period", func(t *testing.T) {
		w := realCatalogWorld(t, day("2025-12-01T00:17:00Z"))
		// Office 365 E3 (legacy) P1M × 2 at 24.00, bought Dec 10, suspended
		// Dec 20; it renews unbilled on Jan 10 (window until Jan 17 00:30).
		_, s := placeLine(t, w, day("2025-12-10T06:17:00Z"), messages.OrderLine{LineID: "L1", OfferID: "LEGACYO365E3:0001",
			Quantity: intp(2), Term: "P1M", BillingFrequency: "monthly"})
		wantAccepted(t, w.do(partnerA, day("2025-12-20T06:17:00Z"), messages.CmdSubscriptionSuspend,
			&messages.SuspendData{SubscriptionID: s, Reason: messages.ReasonNonPayment}))
		w.advance(day("2026-01-12T00:17:00Z"))
		// Reactivated Jan 12: 29 of 31 days, 4800 × 29 / 31 = 4490.3 -> 4490.
		out := w.do(partnerA, day("2026-01-12T00:17:00Z"), messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s})
		if c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCharge); c.AmountMinor != 4490 {
			t.Fatalf("SUS-2 reactivation charge %d, want 4490", c.AmountMinor)
		}
		// Cancelled 30 hours later: 2 started days used, 27 unused:
		// 4800 × 27 / 31 = 4180.6 -> 4181 (4490 × 27 / 29 = 4180.3 rounds twice).
		if got := credit(t, w.do(partnerA, day("2026-01-13T06:17:00Z"), messages.CmdSubscriptionCancel,
			&messages.CancelData{SubscriptionID: s})); got != 4181 {
			t.Fatalf("cancellation credit %d, want 4181", got)
		}
	})
}
