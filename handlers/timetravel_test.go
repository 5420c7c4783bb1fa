package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

const (
	offerPremiumTrial = "CFQ7TTC0LCHC:0007" // Microsoft 365 Business Premium Trial
	offerPremium      = "CFQ7TTC0LCHC:0002" // Microsoft 365 Business Premium
	offerM365E3       = "CFQ7TTC0LFLZ:0001" // Microsoft 365 E3
)

// halfUp is GEN-3 written out again for the test: amount * num / den,
// rounded half up, in integers.
func halfUp(amount int64, num, den int) int64 {
	return (amount*int64(num)*2 + int64(den)) / (2 * int64(den))
}

// One customer's life over real NATS and Redis, with the simulated clock:
// a trial, its scheduled conversion at the trial's end, quantity changes
// inside and outside the 168-hour window, three renewals each applying
// scheduled changes (quantity, an upgrade, quantity), and a cancellation
// inside the third renewal's window. Every event and every amount is
// checked against amounts computed here from the catalog's prices.
func TestTimeTravel_TrialConversionRenewalsQuantitiesAndCancellation(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock := &simulator.Clock{NC: e.nc}
	price := func(offer string) int64 {
		o, _ := e.cat.Offer(offer)
		p, ok := o.Plan("P1M", "monthly")
		if !ok {
			t.Fatalf("%s has no P1M monthly plan", offer)
		}
		return p.Prices["USD"]
	}
	pPremium, pE3 := price(offerPremium), price(offerM365E3)
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	at := func(t time.Time) { now = t; e.advance(clock, t) }
	const cust = "C-LIFE"
	var charges, credits []int64
	billing := func(evs []messages.Event) {
		for _, ev := range evs {
			if b, ok := ev.Data.(*messages.BillingEvent); ok {
				if ev.Type == messages.EvtBillingCharge {
					charges = append(charges, b.AmountMinor)
				} else {
					credits = append(credits, b.AmountMinor)
				}
			}
		}
	}
	send := func(typ messages.CommandType, data any) []messages.Event {
		t.Helper()
		evs := e.await(e.send(partnerA, cust, typ, data))
		billing(evs)
		return evs
	}
	want := func(evs []messages.Event, wantTypes ...messages.EventType) {
		t.Helper()
		if len(evs) != len(wantTypes) {
			t.Fatalf("events %v, want %v", types(evs), wantTypes)
		}
		for i := range wantTypes {
			if evs[i].Type != wantTypes[i] {
				t.Fatalf("events %v, want %v", types(evs), wantTypes)
			}
		}
	}
	fromTimers := func(evs []messages.Event) []messages.Event {
		var out []messages.Event
		for _, ev := range evs {
			if ev.CustomerID == cust && ev.CommandType == messages.CmdTimerFired {
				out = append(out, ev)
			}
		}
		return out
	}
	// timerEvents waits until the events of this customer's timers since
	// from include every type in until (the clock's answer means the
	// timers were applied; their events may still be on their way), then
	// returns them all.
	timerEvents := func(from int, until ...messages.EventType) []messages.Event {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		var out []messages.Event
		err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
			out = fromTimers(evs[from:])
			for _, typ := range until {
				if len(ofType(out, typ)) == 0 {
					return false
				}
			}
			return true
		})
		if err != nil {
			t.Fatalf("timer events %v, waiting for %v: %v", types(out), until, err)
		}
		billing(out)
		return out
	}

	at(now)
	want(send(messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "Life Ltd", Segment: "commercial", Country: "US", Currency: "USD"}),
		messages.EvtCustomerCreated)
	// The trial: 25 free licenses, no charge (TRI-1, ORD-10).
	evs := send(messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-T", Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerPremiumTrial}}})
	want(evs, messages.EvtSubscriptionCreated, messages.EvtOrderProcessed)
	trial := evs[0].Data.(*messages.SubscriptionCreatedEvent)
	if trial.Quantity != 25 {
		t.Fatalf("trial %+v", trial)
	}
	// Its conversion at the trial's end: 30 licenses, monthly term (TRI-6).
	at(now.Add(24 * time.Hour))
	q30 := 30
	want(send(messages.CmdTrialConvert, &messages.TrialConvertData{SubscriptionID: trial.SubscriptionID, Quantity: &q30,
		Term: "P1M", BillingFrequency: "monthly", When: "trial_end"}), messages.EvtTrialConverted)

	// The trial ends on 2026-04-09; the conversion runs at 2026-04-10T00:00Z.
	mark := len(e.events.Events())
	at(time.Date(2026, 4, 10, 1, 0, 0, 0, time.UTC))
	evs = timerEvents(mark, messages.EvtTrialConverted, messages.EvtBillingCharge)
	var sub string
	for _, ev := range evs {
		if c, ok := ev.Data.(*messages.TrialConvertedEvent); ok {
			sub = c.TargetSubscriptionID
		}
	}
	if sub == "" || len(charges) != 1 || charges[0] != 30*pPremium {
		t.Fatalf("conversion: events %v, charges %v (want one of %d)", types(evs), charges, 30*pPremium)
	}

	// Inside the window: +5 licenses 60 hours into the 30-day period (3 days
	// used), then -3 a day later, from the newest lot (1 day held).
	at(time.Date(2026, 4, 12, 12, 0, 0, 0, time.UTC))
	q := func(n int) *int { return &n }
	want(send(messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: q(35)}),
		messages.EvtQuantityChanged, messages.EvtBillingCharge)
	at(time.Date(2026, 4, 13, 12, 0, 0, 0, time.UTC))
	want(send(messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: q(32)}),
		messages.EvtQuantityChanged, messages.EvtBillingCredit)
	// Outside the window: the licenses left were added more than 168 hours ago.
	at(time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC))
	evs = send(messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: q(31)})
	want(evs, messages.EvtCommandRejected)
	if r := evs[0].Data.(*messages.CommandRejectedEvent); r.Rule != "QTY-2" {
		t.Fatalf("decrease outside the window: %+v", r)
	}

	// Renewal 1 applies a scheduled quantity; renewal 2 a scheduled upgrade;
	// renewal 3 another quantity. Each renewal starts at 00:00 UTC the day
	// after the term end and completes 30 minutes later (policy).
	schedule := func(d time.Time, data *messages.ScheduleSetData) {
		at(d)
		data.SubscriptionID = sub
		want(send(messages.CmdScheduleSet, data), messages.EvtScheduleChanged)
	}
	renewal := func(d time.Time) []messages.Event {
		mark := len(e.events.Events())
		at(d.Add(45 * time.Minute))
		evs := timerEvents(mark, messages.EvtSubscriptionRenewed, messages.EvtBillingCharge)
		want(evs, messages.EvtSubscriptionRenewed, messages.EvtBillingCharge)
		if r := evs[0].Data.(*messages.SubscriptionRenewedEvent); !r.CancellableUntil.Equal(d.Add(30*time.Minute+168*time.Hour)) || evs[0].PartnerID != partnerA {
			t.Fatalf("renewal %+v to %s", r, evs[0].PartnerID)
		}
		return evs
	}
	schedule(time.Date(2026, 4, 25, 9, 0, 0, 0, time.UTC), &messages.ScheduleSetData{Quantity: q(40)})
	r1 := renewal(time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC))
	schedule(time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC), &messages.ScheduleSetData{OfferID: offerM365E3})
	r2 := renewal(time.Date(2026, 6, 10, 0, 0, 0, 0, time.UTC))
	schedule(time.Date(2026, 6, 20, 9, 0, 0, 0, time.UTC), &messages.ScheduleSetData{Quantity: q(45)})
	r3 := renewal(time.Date(2026, 7, 10, 0, 0, 0, 0, time.UTC))
	if a, b, c := r1[0].Data.(*messages.SubscriptionRenewedEvent), r2[0].Data.(*messages.SubscriptionRenewedEvent), r3[0].Data.(*messages.SubscriptionRenewedEvent); a.Quantity != 40 || b.OfferID != offerM365E3 || c.Quantity != 45 || c.TermEnd != "2026-08-09" {
		t.Fatalf("renewals %+v / %+v / %+v", a, b, c)
	}

	// Cancel inside the third renewal's window: 60 hours after it
	// completed, 3 of the 31 days used.
	at(time.Date(2026, 7, 12, 12, 30, 0, 0, time.UTC))
	want(send(messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}), messages.EvtBillingCredit, messages.EvtSubscriptionCancelled)

	wantCharges := []int64{30 * pPremium, halfUp(5*pPremium, 27, 30), 40 * pPremium, 40 * pE3, 45 * pE3}
	wantCredits := []int64{halfUp(3*pPremium, 26, 30), halfUp(45*pE3, 28, 31)}
	if !equalInts(charges, wantCharges) || !equalInts(credits, wantCredits) {
		t.Fatalf("charges %v, want %v; credits %v, want %v", charges, wantCharges, credits, wantCredits)
	}
	// Nothing else fired for this customer afterwards.
	mark = len(e.events.Events())
	at(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	if evs := timerEvents(mark); len(evs) != 0 {
		t.Fatalf("timers after the cancellation: %v", types(evs))
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatal(c[0])
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
