package handlers

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// CAN-1's worked example, end to end over NATS and Redis with the
// simulator's clock: a 10-license annual new-commerce subscription
// cancelled at hour 167 gets exactly one credit equal to the GEN-2/GEN-3
// prorated amount; at hour 169 the cancel is rejected with the window's end.
func TestRule_CAN_1_WorkedExampleEndToEnd(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	t0 := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	now := t0
	e.up.SimulatedTime = func() time.Time { return now }

	const cust = "C-WORKED"
	e.createCustomer(partnerA, cust)
	early := e.buy(partnerA, cust, 10)
	late := e.buy(partnerA, cust, 10)

	now = t0.Add(167 * time.Hour)
	evs := e.await(e.send(partnerA, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: early}))
	credits := ofType(evs, messages.EvtBillingCredit)
	if len(credits) != 1 {
		t.Fatalf("want exactly one credit, got %v", types(evs))
	}
	c := credits[0].Data.(*messages.BillingEvent)
	// USD 72.00 x 10 = 72000 cents for the year 2026-03-10..2027-03-09 (365
	// days); 167 hours = 7 started days used; 72000 * 358 / 365 = 70619.18.
	if c.AmountMinor != 70619 || c.Currency != "USD" || c.Proration.UsedDays != 7 || c.Proration.PeriodDays != 365 {
		t.Fatalf("credit %+v proration %+v, want 70619 USD (7 of 365 days used)", c, c.Proration)
	}

	now = t0.Add(169 * time.Hour)
	evs = e.await(e.send(partnerA, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: late}))
	rej, ok := evs[0].Data.(*messages.CommandRejectedEvent)
	if !ok || len(evs) != 1 || rej.Code != "cancellation_window_closed" || rej.Rule != "CAN-1" {
		t.Fatalf("cancel at hour 169: %v %+v", types(evs), evs[0].Data)
	}
	if want := t0.Add(168 * time.Hour).Format(time.RFC3339Nano); rej.Data["window_end"] != want {
		t.Fatalf("window_end %q, want %q", rej.Data["window_end"], want)
	}
}
