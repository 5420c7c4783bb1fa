package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func qtyOf(id string, n int) *messages.QuantityChangeData {
	return &messages.QuantityChangeData{SubscriptionID: id, Quantity: intp(n)}
}

// changeQty applies a quantity change that must be accepted and returns
// its notification.
func changeQty(t *testing.T, w *world, at time.Time, id string, n int) (Outcome, *messages.QuantityChangedEvent) {
	t.Helper()
	out := w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(id, n))
	wantAccepted(t, out)
	return out, findEvent[*messages.QuantityChangedEvent](t, out, messages.EvtQuantityChanged)
}

func billsOf(out Outcome) []*messages.BillingEvent {
	var bs []*messages.BillingEvent
	for _, e := range out.Events {
		if e.Type == messages.EvtBillingCharge || e.Type == messages.EvtBillingCredit {
			bs = append(bs, e.Data.(*messages.BillingEvent))
		}
	}
	return bs
}

func wantLots(t *testing.T, got []messages.LotView, want ...messages.LotView) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lots\n got %+v\nwant %+v", got, want)
	}
}

func lv(n int, added time.Time) messages.LotView {
	return messages.LotView{Quantity: n, AddedAt: added, ReducibleUntil: added.Add(168 * time.Hour)}
}

func TestRule_QTY_1_IncreaseIsChargedForTheRestOfTheBillingPeriod(t *testing.T) {
	for _, tc := range []struct {
		name                    string
		term, freq              string
		qty, to                 int
		at                      time.Time
		want                    int64
		base                    int64
		used, unused, period    int
		periodStart, periodEnd  string
		wantPeriodCharge        int64
		advanceTo               time.Time // then the next period charges the new quantity in full
		nextPeriodCharge        int64
		nextPeriodStartExpected string
	}{
		// 5 more annual licenses (USD 72.00) after 49 hours: 3 started days
		// used of 365; 36000 * 362 / 365 = 35704.11 -> 35704.
		{name: "annual billing", term: "P1Y", freq: "annual", qty: 10, to: 15, at: t0.Add(49 * time.Hour),
			want: 35704, base: 36000, used: 3, unused: 362, period: 365, periodStart: "2026-03-10", periodEnd: "2027-03-09",
			wantPeriodCharge: 72000 + 35704},
		// Annual term billed monthly (USD 6.30): the increase is charged to
		// the end of the month's period only; 1260 * 28 / 31 = 1138.06.
		{name: "annual term billed monthly", term: "P1Y", freq: "monthly", qty: 10, to: 12, at: t0.Add(49 * time.Hour),
			want: 1138, base: 1260, used: 3, unused: 28, period: 31, periodStart: "2026-03-10", periodEnd: "2026-04-09",
			wantPeriodCharge: 6300 + 1138, advanceTo: date("2026-04-10"), nextPeriodCharge: 12 * 630, nextPeriodStartExpected: "2026-04-10"},
		// Monthly term (USD 7.20) after 25 hours: 2 days used of 31;
		// 720 * 29 / 31 = 673.55 -> 674 (half up).
		{name: "monthly term", term: "P1M", freq: "monthly", qty: 4, to: 5, at: t0.Add(25 * time.Hour),
			want: 674, base: 720, used: 2, unused: 29, period: 31, periodStart: "2026-03-10", periodEnd: "2026-04-09",
			wantPeriodCharge: 2880 + 674},
		// At the very instant of purchase (14:00) the period's first day
		// has started and counts as used, as it does a minute later
		// (GEN-2: at least 1): 7200 * 364 / 365 = 7180.27.
		{name: "at the purchase instant", term: "P1Y", freq: "annual", qty: 10, to: 11, at: t0,
			want: 7180, base: 7200, used: 1, unused: 364, period: 365, periodStart: "2026-03-10", periodEnd: "2027-03-09",
			wantPeriodCharge: 79180},
		{name: "a minute after the purchase", term: "P1Y", freq: "annual", qty: 10, to: 11, at: t0.Add(time.Minute),
			want: 7180, base: 7200, used: 1, unused: 364, period: 365, periodStart: "2026-03-10", periodEnd: "2027-03-09",
			wantPeriodCharge: 79180},
	} {
		t.Run("QTY-1 "+tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			id := w.buy(t0, offerBasic, tc.term, tc.freq, tc.qty)
			out, ev := changeQty(t, w, tc.at, id, tc.to)
			if got := eventTypes(out); !reflect.DeepEqual(got, []messages.EventType{messages.EvtQuantityChanged, messages.EvtBillingCharge}) {
				t.Fatalf("events %v", got)
			}
			c := billsOf(out)[0]
			if c.AmountMinor != tc.want || c.Reason != messages.BillingReasonIncrease || c.Rule != "QTY-1" ||
				c.Quantity != tc.to-tc.qty || c.PeriodStart != tc.periodStart || c.PeriodEnd != tc.periodEnd || c.Currency != "USD" ||
				*c.Proration != (messages.Proration{BaseMinor: tc.base, UsedDays: tc.used, UnusedDays: tc.unused, PeriodDays: tc.period}) {
				t.Fatalf("charge %+v %+v", c, c.Proration)
			}
			if ev.PreviousQuantity != tc.qty || ev.Quantity != tc.to || ev.UpdateCount != 1 || ev.ChargedMinor != tc.want ||
				ev.CreditedMinor != 0 || len(ev.BillingEventIDs) != 1 || ev.BillingEventIDs[0] != messages.EventID(customer1, "cmd-"+itoa(w.n), 1) {
				t.Fatalf("quantity.changed %+v", ev)
			}
			wantLots(t, ev.Lots, lv(tc.qty, t0), lv(tc.to-tc.qty, tc.at))
			s := w.state.Subscriptions[id]
			if s.Quantity != tc.to || s.PeriodCharge != tc.wantPeriodCharge || s.UpdateCount != 1 {
				t.Fatalf("state quantity %d period charge %d updates %d", s.Quantity, s.PeriodCharge, s.UpdateCount)
			}
			if !tc.advanceTo.IsZero() {
				evs := withoutNotices(eventsOf(w.advance(tc.advanceTo)))
				if len(evs) != 1 || evs[0].Data.(*messages.BillingEvent).AmountMinor != tc.nextPeriodCharge ||
					evs[0].Data.(*messages.BillingEvent).PeriodStart != tc.nextPeriodStartExpected {
					t.Fatalf("next period %+v", evs)
				}
			}
		})
	}
}

func TestRule_QTY_1_IncreaseInALaterBillingPeriodCountsFromItsStart(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "monthly", 10)
	w.advance(date("2026-04-10"))
	// Period 2026-04-10..2026-05-09 (30 days) started at 00:00 UTC; 5.5
	// days in, 6 started days are used: 3 * 630 * 24 / 30 = 1512.
	out, _ := changeQty(t, w, time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC), id, 13)
	c := billsOf(out)[0]
	if c.AmountMinor != 1512 || *c.Proration != (messages.Proration{BaseMinor: 1890, UsedDays: 6, UnusedDays: 24, PeriodDays: 30}) {
		t.Fatalf("charge %d %+v", c.AmountMinor, c.Proration)
	}
	if got := w.state.Subscriptions[id].PeriodCharge; got != 6300+1512 {
		t.Fatalf("period charge %d", got)
	}
}

func TestRule_QTY_2_DecreaseWithinTheWindowCreditsProrated(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	out, ev := changeQty(t, w, t0.Add(49*time.Hour), id, 7)
	if got := eventTypes(out); !reflect.DeepEqual(got, []messages.EventType{messages.EvtQuantityChanged, messages.EvtBillingCredit}) {
		t.Fatalf("events %v", got)
	}
	// 3 licenses held 49 hours = 3 started days of 365: 21600 * 362 / 365
	// = 21422.47 -> 21422, the same as cancelling them (CAN-1).
	c := billsOf(out)[0]
	if c.AmountMinor != 21422 || c.Reason != messages.BillingReasonDecrease || c.Rule != "QTY-2" || c.Quantity != 3 ||
		*c.Proration != (messages.Proration{BaseMinor: 21600, UsedDays: 3, UnusedDays: 362, PeriodDays: 365}) {
		t.Fatalf("credit %+v %+v", c, c.Proration)
	}
	if ev.CreditedMinor != 21422 || ev.UpdateCount != 1 {
		t.Fatalf("quantity.changed %+v", ev)
	}
	wantLots(t, ev.RemovedLots, lv(3, t0))
	wantLots(t, ev.Lots, lv(7, t0))
	// What the 7 remaining licenses cost for the period.
	if s := w.state.Subscriptions[id]; s.Quantity != 7 || s.PeriodCharge != 7*7200 {
		t.Fatalf("quantity %d period charge %d", s.Quantity, s.PeriodCharge)
	}
}

func TestRule_QTY_2_DecreaseTakesTheNewestLotFirstAcrossTwoLots(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	added := t0.Add(30 * time.Hour)
	// 5 added after 30 hours: 2 days of the period counted as used,
	// 36000 * 363 / 365 = 35802.74 -> 35803.
	out, _ := changeQty(t, w, added, id, 15)
	if c := billsOf(out)[0]; c.AmountMinor != 35803 {
		t.Fatalf("increase charge %d", c.AmountMinor)
	}
	// Down to 8 after 100 hours: all 5 of the newest lot, then 2 of the
	// purchase lot, one credit each.
	out, ev := changeQty(t, w, t0.Add(100*time.Hour), id, 8)
	if got := eventTypes(out); !reflect.DeepEqual(got, []messages.EventType{messages.EvtQuantityChanged, messages.EvtBillingCredit, messages.EvtBillingCredit}) {
		t.Fatalf("events %v", got)
	}
	bills := billsOf(out)
	// Newest lot: 2 days before it was added + 70 hours held (3 started
	// days) = 5 used; 36000 * 360 / 365 = 35506.85 -> 35507.
	if c := bills[0]; c.Quantity != 5 || c.AmountMinor != 35507 ||
		*c.Proration != (messages.Proration{BaseMinor: 36000, UsedDays: 5, UnusedDays: 360, PeriodDays: 365}) {
		t.Fatalf("credit of the newest lot %d %+v", c.AmountMinor, c.Proration)
	}
	// Purchase lot: 100 hours held = 5 days; 14400 * 360 / 365 = 14202.74.
	if c := bills[1]; c.Quantity != 2 || c.AmountMinor != 14203 ||
		*c.Proration != (messages.Proration{BaseMinor: 14400, UsedDays: 5, UnusedDays: 360, PeriodDays: 365}) {
		t.Fatalf("credit of the purchase lot %d %+v", c.AmountMinor, c.Proration)
	}
	if ev.CreditedMinor != 35507+14203 || len(ev.BillingEventIDs) != 2 ||
		ev.BillingEventIDs[1] != messages.EventID(customer1, "cmd-"+itoa(w.n), 2) {
		t.Fatalf("quantity.changed %+v", ev)
	}
	wantLots(t, ev.RemovedLots, lv(5, added), lv(2, t0))
	wantLots(t, ev.Lots, lv(8, t0))
	// The period charge is what the 8 remaining licenses cost: the
	// increase's charge and 2 licenses' full price came off it exactly.
	if s := w.state.Subscriptions[id]; s.PeriodCharge != 8*7200 || s.UpdateCount != 2 {
		t.Fatalf("period charge %d updates %d", s.PeriodCharge, s.UpdateCount)
	}
}

func TestRule_QTY_2_DecreaseOfLicensesOlderThanTheWindowIsRejected(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	added := t0.Add(100 * time.Hour)
	changeQty(t, w, added, id, 12)
	w.advance(t0.Add(200 * time.Hour)) // the purchase lot's window notices (CAN-1, QTY-2)
	before := w.state

	// At hour 200 only the 2 licenses added at hour 100 are reducible.
	r := wantRejected(t, w.do(partnerA, t0.Add(200*time.Hour), messages.CmdQuantityChange, qtyOf(id, 9)), CodeQuantityNotReducible, "QTY-2")
	want := map[string]string{"subscription_id": id, "quantity": "12", "requested_quantity": "9", "requested_decrease": "3",
		"reducible_quantity": "2", "earliest_reducible_until": added.Add(168 * time.Hour).Format(time.RFC3339Nano),
		"latest_reducible_until": added.Add(168 * time.Hour).Format(time.RFC3339Nano), "next_window_opens": "2027-03-10T00:00:00Z"}
	if !reflect.DeepEqual(r.Data, want) {
		t.Fatalf("rejection data\n got %v\nwant %v", r.Data, want)
	}
	if !strings.Contains(r.Description, "168 hours") || !reflect.DeepEqual(w.state, before) {
		t.Fatalf("description %q, or the rejection changed state", r.Description)
	}
	// Exactly at hour 168 the purchase lot's window is closed (half-open,
	// like CAN-1): nothing of it is reducible, only the newer lot.
	r = wantRejected(t, w.do(partnerA, t0.Add(168*time.Hour), messages.CmdQuantityChange, qtyOf(id, 9)), CodeQuantityNotReducible, "QTY-2")
	if r.Data["reducible_quantity"] != "2" {
		t.Fatalf("at hour 168: %v", r.Data)
	}
	// After both windows nothing is reducible and no deadline is named.
	r = wantRejected(t, w.do(partnerA, added.Add(168*time.Hour), messages.CmdQuantityChange, qtyOf(id, 11)), CodeQuantityNotReducible, "QTY-2")
	if r.Data["reducible_quantity"] != "0" || r.Data["earliest_reducible_until"] != "" {
		t.Fatalf("after both windows: %v", r.Data)
	}
	// The reducible lot itself can go.
	_, ev := changeQty(t, w, t0.Add(200*time.Hour), id, 10)
	wantLots(t, ev.RemovedLots, lv(2, added))
	wantLots(t, ev.Lots, lv(10, t0))
}

func TestRule_QTY_2_DecreaseAfterARenewalWithinItsWindow(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1M", "monthly", 10)
	wantRejected(t, w.do(partnerA, t0.Add(200*time.Hour), messages.CmdQuantityChange, qtyOf(id, 6)), CodeQuantityNotReducible, "QTY-2")

	renewal := date("2026-04-10")
	w.advance(renewal)
	if s := w.state.Subscriptions[id]; s.Renewals != 1 {
		t.Fatalf("not renewed: %+v", s)
	}
	// The renewal made every license a lot of its own window: 4 of them
	// go 100 hours in, 5 days used of the 30-day period 2026-04-10..05-09:
	// 2880 * 25 / 30 = 2400.
	out, ev := changeQty(t, w, renewal.Add(100*time.Hour), id, 6)
	c := billsOf(out)[0]
	if c.AmountMinor != 2400 || c.PeriodStart != "2026-04-10" ||
		*c.Proration != (messages.Proration{BaseMinor: 2880, UsedDays: 5, UnusedDays: 25, PeriodDays: 30}) {
		t.Fatalf("credit %d %+v", c.AmountMinor, c.Proration)
	}
	wantLots(t, ev.Lots, lv(6, renewal))
	// Past the renewal's window: rejected again.
	wantRejected(t, w.do(partnerA, renewal.Add(168*time.Hour), messages.CmdQuantityChange, qtyOf(id, 5)), CodeQuantityNotReducible, "QTY-2")
}

func TestRule_QTY_2_DecreaseThenCancelGivesBackExactlyWhatCancellingAllWould(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	at := t0.Add(49 * time.Hour)
	out, _ := changeQty(t, w, at, id, 5)
	decreaseCredit := billsOf(out)[0].AmountMinor
	out = w.do(partnerA, at, messages.CmdSubscriptionCancel, cancelOf(id))
	wantAccepted(t, out)
	cancelCredit := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit).AmountMinor
	// 72000 * 362 / 365 = 71408.2: the same total as cancelling all 10.
	if decreaseCredit != 35704 || cancelCredit != 35704 || decreaseCredit+cancelCredit != prorate(72000, 362, 365) {
		t.Fatalf("decrease credit %d + cancel credit %d, want %d", decreaseCredit, cancelCredit, prorate(72000, 362, 365))
	}
}

func TestRule_CAN_1_CancelAfterAnIncreaseCreditsWhatWasReallyCharged(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	out, _ := changeQty(t, w, t0.Add(30*time.Hour), id, 15)
	if c := billsOf(out)[0]; c.AmountMinor != 35803 {
		t.Fatalf("increase charge %d", c.AmountMinor)
	}
	out = w.do(partnerA, t0.Add(100*time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
	wantAccepted(t, out)
	// Charged 72000 + 35803 = 107803 for the period. Lot by lot: the 10
	// licenses of the purchase were used 5 days (ceil 100 h), the 5 added
	// at hour 30 were charged from day 3 and held 3 days (ceil 70 h), so
	// both give back 360 of 365 days:
	// (72000 + 36000) * 360 / 365 = 106520.55 -> 106521. Prorating the
	// period charge instead (107803 * 360 / 365 = 106326) would charge the
	// 5 licenses again for the 2 days before they were bought.
	c := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
	if c.AmountMinor != 106521 || c.Proration != nil || len(c.LotProrations) != 2 {
		t.Fatalf("cancellation credit %+v", c)
	}
	for i, want := range []messages.Proration{
		{BaseMinor: 72000, UsedDays: 5, UnusedDays: 360, PeriodDays: 365},
		{BaseMinor: 36000, UsedDays: 5, UnusedDays: 360, PeriodDays: 365},
	} {
		if c.LotProrations[i] != want {
			t.Fatalf("lot %d: %+v, want %+v", i, c.LotProrations[i], want)
		}
	}
	// A credit never gives back more than the period was charged.
	if c.AmountMinor > 72000+35803 {
		t.Fatalf("credit %d exceeds the charges", c.AmountMinor)
	}
}

func TestRule_QTY_3_ReducibleQuantityView(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	added := t0.Add(30 * time.Hour)
	changeQty(t, w, added, id, 15)

	for _, tc := range []struct {
		name  string
		at    time.Time
		total int
		lots  []messages.LotView
		msg   string
	}{
		{"both lots, newest first", t0.Add(100 * time.Hour), 15, []messages.LotView{lv(5, added), lv(10, t0)}, ""},
		{"one nanosecond before hour 168", t0.Add(168*time.Hour - 1), 15, []messages.LotView{lv(5, added), lv(10, t0)}, ""},
		{"at hour 168 only the newer lot", t0.Add(168 * time.Hour), 5, []messages.LotView{lv(5, added)}, ""},
		{"nothing reducible: a message", added.Add(168 * time.Hour), 0, nil,
			"No licenses of subscription " + id + " can be reduced now: licenses can be reduced only within 168 hours of being added, at purchase, at renewal or mid-term (QTY-2). The next chance is the window of the renewal that starts on 2027-03-10 at 00:00 UTC."},
	} {
		t.Run("QTY-3 "+tc.name, func(t *testing.T) {
			v := ReducibleQuantity(w.state.Subscriptions[id], tc.at)
			if v.SubscriptionID != id || v.Quantity != 15 || v.Total != tc.total || v.Message != tc.msg || !v.AsOf.Equal(tc.at) {
				t.Fatalf("view %+v", v)
			}
			wantLots(t, v.Lots, tc.lots...)
			if v.Lots == nil {
				t.Fatal("lots must be an empty list, not null")
			}
			// The view agrees with the command: Total can go, one more cannot.
			if tc.total > 0 && 15-tc.total-1 >= 1 {
				probe := newWorld(t)
				probe.state = w.state
				wantRejected(t, probe.do(partnerA, tc.at, messages.CmdQuantityChange, qtyOf(id, 15-tc.total-1)), CodeQuantityNotReducible, "QTY-2")
				wantAccepted(t, probe.do(partnerA, tc.at, messages.CmdQuantityChange, qtyOf(id, 15-tc.total)))
			}
		})
	}

	// Locked subscriptions show nothing and say why.
	for _, tc := range []struct {
		name string
		edit func(s *Subscription)
		want string
	}{
		{"trial", func(s *Subscription) { s.Trial = true }, "is a trial; its license count cannot change until it is converted (TRI-3)"},
		{"suspended", func(s *Subscription) { s.Status = StatusSuspended }, "is suspended; reactivate it"},
		{"cancelled", func(s *Subscription) { s.Status = StatusCancelled }, "cancellation is final"},
		{"renewing", func(s *Subscription) { p := t0; s.RenewalPendingSince = &p }, "is renewing since"},
	} {
		t.Run("QTY-3 "+tc.name, func(t *testing.T) {
			s := w.state.Subscriptions[id].clone()
			tc.edit(&s)
			v := ReducibleQuantity(&s, t0.Add(time.Hour))
			if v.Total != 0 || len(v.Lots) != 0 || !strings.Contains(v.Message, tc.want) {
				t.Fatalf("view %+v", v)
			}
		})
	}
	// Auto-renew off: the message names the term end instead.
	s := w.state.Subscriptions[id].clone()
	s.AutoRenew = false
	if v := ReducibleQuantity(&s, t0.AddDate(0, 1, 0)); !strings.HasSuffix(v.Message, "Auto-renew is off: the term ends on 2027-03-09.") {
		t.Fatalf("message %q", v.Message)
	}
}

func TestRule_QTY_3_QueryAppliesPTN_1(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	at := t0.Add(time.Hour)
	v, r := QueryReducibleQuantity(w.state, partnerA, customer1, id, at)
	if r != nil || v.Total != 10 {
		t.Fatalf("view %+v rejection %+v", v, r)
	}
	for _, tc := range []struct {
		name         string
		st           CustomerState
		partner, sub string
		code         string
	}{
		{"another partner's customer", w.state, partnerB, id, CodeNoRelationship},
		{"unknown customer", CustomerState{}, partnerA, id, CodeNoRelationship},
		{"unknown subscription", w.state, partnerA, "sub-nope", CodeSubscriptionNotFound},
		{"invalid subscription id", w.state, partnerA, "a.b", CodeInvalidField},
	} {
		t.Run("PTN-1 "+tc.name, func(t *testing.T) {
			v, r := QueryReducibleQuantity(tc.st, tc.partner, customer1, tc.sub, at)
			if v != nil || r == nil || r.Code != tc.code || r.Source != Source {
				t.Fatalf("view %+v rejection %+v", v, r)
			}
		})
	}
	other := w.state.Subscriptions[id].clone()
	other.PartnerID = partnerB
	w.state.Subscriptions[id] = &other
	if _, r := QueryReducibleQuantity(w.state, partnerA, customer1, id, at); r == nil || r.Code != CodeNotPartnerOfRecord || r.Rule != "PTN-1" {
		t.Fatalf("rejection %+v", r)
	}
}

func TestRule_QTY_4_UpdateLimit(t *testing.T) {
	t.Run("QTY-4 the limit is policy data", func(t *testing.T) {
		w := newWorld(t)
		w.cat.Policy.MaxSubscriptionUpdates = 3
		w.createCustomer("commercial", "USD")
		id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
		for i, n := range []int{11, 12, 11} {
			if _, ev := changeQty(t, w, t0.Add(time.Duration(i+1)*time.Hour), id, n); ev.UpdateCount != i+1 {
				t.Fatalf("update count %d", ev.UpdateCount)
			}
		}
		r := wantRejected(t, w.do(partnerA, t0.Add(5*time.Hour), messages.CmdQuantityChange, qtyOf(id, 20)), CodeQuantityUpdateLimit, "QTY-4")
		if r.Data["update_count"] != "3" || r.Data["max_updates"] != "3" || r.Data["offer_id"] != offerBasic ||
			!strings.Contains(r.Description, "second subscription of the same SKU") || !strings.Contains(r.Description, "2027-03-09") {
			t.Fatalf("rejection %+v", r)
		}
	})
	for _, tc := range []struct {
		name    string
		updates int
		ok      bool
	}{{"one below the limit", 1199, true}, {"at the limit", 1200, false}, {"over the limit", 1250, false}} {
		t.Run("QTY-4 "+tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
			s := w.state.Subscriptions[id].clone()
			s.UpdateCount = tc.updates
			w.state.Subscriptions[id] = &s
			out := w.do(partnerA, t0.Add(time.Hour), messages.CmdQuantityChange, qtyOf(id, 11))
			if !tc.ok {
				wantRejected(t, out, CodeQuantityUpdateLimit, "QTY-4")
				return
			}
			wantAccepted(t, out)
			if w.state.Subscriptions[id].UpdateCount != 1200 {
				t.Fatalf("update count %d", w.state.Subscriptions[id].UpdateCount)
			}
		})
	}
}

func TestRule_QTY_5_TrialPendingRenewalAndScheduledChanges(t *testing.T) {
	t.Run("TRI-3 a trial cannot change its quantity", func(t *testing.T) {
		w := newWorld(t)
		w.createCustomer("commercial", "USD")
		id := w.buy(t0, offerBasic, "P1M", "monthly", 25)
		s := w.state.Subscriptions[id].clone()
		s.Trial = true
		w.state.Subscriptions[id] = &s
		wantRejected(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdQuantityChange, qtyOf(id, 30)), CodeQuantityTrial, "TRI-3")
		wantRejected(t, w.do(partnerA, t0.Add(time.Hour), messages.CmdQuantityChange, qtyOf(id, 20)), CodeQuantityTrial, "TRI-3")
	})
	t.Run("REN-4 a pending renewal answers conflict", func(t *testing.T) {
		w := newWorld(t)
		w.cat.Policy.RenewalProcessingMinutes = 30
		w.createCustomer("commercial", "USD")
		id := w.buy(t0, offerBasic, "P1M", "monthly", 10)
		start := date("2026-04-10")
		w.advance(start)
		wantRejected(t, w.do(partnerA, start.Add(10*time.Minute), messages.CmdQuantityChange, qtyOf(id, 12)), CodeConflict, "REN-4")
		w.advance(start.Add(30 * time.Minute))
		_, ev := changeQty(t, w, start.Add(time.Hour), id, 12)
		wantLots(t, ev.Lots, lv(10, start.Add(30*time.Minute)), lv(2, start.Add(time.Hour)))
	})
	for _, tc := range []struct {
		name string
		to   int
		bill messages.EventType
	}{{"increase", 12, messages.EvtBillingCharge}, {"decrease", 8, messages.EvtBillingCredit}} {
		t.Run("SCH-3 a mid-term "+tc.name+" deletes the scheduled changes", func(t *testing.T) {
			w := newWorld(t)
			w.createCustomer("commercial", "USD")
			id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
			s := w.state.Subscriptions[id].clone()
			s.Scheduled = &ScheduledChange{Quantity: 20, BillingFrequency: "monthly"}
			w.state.Subscriptions[id] = &s
			out, ev := changeQty(t, w, t0.Add(time.Hour), id, tc.to)
			want := []messages.EventType{messages.EvtQuantityChanged, tc.bill, messages.EvtScheduleChanged}
			if got := eventTypes(out); !reflect.DeepEqual(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
			sc := out.Events[2].Data.(*messages.ScheduleChangedEvent)
			if !ev.ScheduledChangesDeleted || sc.Reason != string(messages.CmdQuantityChange) || sc.Scheduled != nil ||
				w.state.Subscriptions[id].Scheduled != nil {
				t.Fatalf("quantity.changed %+v schedule.changed %+v", ev, sc)
			}
			// Without scheduled changes there is nothing to delete.
			out, ev = changeQty(t, w, t0.Add(2*time.Hour), id, 10)
			if ev.ScheduledChangesDeleted || len(out.Events) != 2 {
				t.Fatalf("events %v", eventTypes(out))
			}
		})
	}
}

func TestRule_QTY_ValidationAndStatus(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	azure := w.buy(t0, offerAzure, "P1M", "monthly", 0)
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		name       string
		data       *messages.QuantityChangeData
		code, rule string
	}{
		{"ORD-6 quantity required", &messages.QuantityChangeData{SubscriptionID: id}, CodeQuantityRequired, "ORD-6"},
		{"ORD-6 zero is below the minimum", qtyOf(id, 0), CodeQuantityOutOfRange, "ORD-6"},
		{"ORD-6 over the offer's maximum", qtyOf(id, 301), CodeQuantityOutOfRange, "ORD-6"},
		{"ORD-6 usage-based has no quantity", qtyOf(azure, 3), CodeQuantityNotAllowed, "ORD-6"},
		{"GEN-6 same quantity", qtyOf(id, 10), CodeQuantityUnchanged, "GEN-6"},
		{"PTN-1 unknown subscription", qtyOf("sub-nope", 3), CodeSubscriptionNotFound, "PTN-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRejected(t, w.do(partnerA, at, messages.CmdQuantityChange, tc.data), tc.code, tc.rule)
		})
	}
	t.Run("PTN-1 another partner", func(t *testing.T) {
		wantRejected(t, w.do(partnerB, at, messages.CmdQuantityChange, qtyOf(id, 11)), CodeNoRelationship, "PTN-1")
	})
	t.Run("ORD-6 an offer gone from the catalog keeps 1..unbounded", func(t *testing.T) {
		probe := newWorld(t)
		probe.state = w.state
		s := w.state.Subscriptions[id].clone()
		s.OfferID = "GONE:0001"
		probe.state.Subscriptions = map[string]*Subscription{id: &s}
		_, ev := changeQty(t, probe, at, id, 1000)
		if ev.Quantity != 1000 {
			t.Fatalf("%+v", ev)
		}
		wantRejected(t, probe.do(partnerA, at, messages.CmdQuantityChange, qtyOf(id, 0)), CodeQuantityOutOfRange, "ORD-6")
	})
	t.Run("SUS-1 suspended: reactivate first", func(t *testing.T) {
		wantAccepted(t, w.do(partnerA, at, messages.CmdSubscriptionSuspend, suspendOf(id, "non_payment")))
		wantRejected(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(id, 11)), CodeSubscriptionSuspended, "SUS-1")
		wantAccepted(t, w.do(partnerA, at, messages.CmdSubscriptionReactivate, reactivateOf(id)))
		changeQty(t, w, at, id, 11)
	})
	t.Run("CAN-2 cancelled is final", func(t *testing.T) {
		wantAccepted(t, w.do(partnerA, at, messages.CmdSubscriptionCancel, cancelOf(id)))
		wantRejected(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(id, 12)), CodeSubscriptionCancelled, "CAN-2")
	})
}

func TestRule_QTY_2_ClosedLotsAreMergedAndInputStateIsNotMutated(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "monthly", 10)
	a := t0.Add(200 * time.Hour)
	_, ev := changeQty(t, w, a, id, 12)
	// In the first billing period (2026-03-10..04-09) a lot added during
	// it keeps its own instant once closed: its days are counted from
	// then (an upgrade moves it lot by lot, UPG-4).
	c := a.Add(170 * time.Hour)
	_, ev = changeQty(t, w, c, id, 13)
	wantLots(t, ev.Lots, messages.LotView{Quantity: 10, AddedAt: t0, ReducibleUntil: t0.Add(168 * time.Hour)},
		messages.LotView{Quantity: 2, AddedAt: a, ReducibleUntil: a.Add(168 * time.Hour)}, lv(1, c))
	changeQty(t, w, c.Add(time.Hour), id, 12)
	b := a.Add(600 * time.Hour) // 2026-04-12, in the second billing period
	before := w.state
	beforeLots := append([]Lot(nil), w.state.Subscriptions[id].Lots...)
	_, ev = changeQty(t, w, b, id, 13)
	// Both older lots are closed at b and came with the period that began
	// on 2026-04-10: one lot of 12 from t0 until the later window's end,
	// then the new one.
	wantLots(t, ev.Lots, messages.LotView{Quantity: 12, AddedAt: t0, ReducibleUntil: a.Add(168 * time.Hour)}, lv(1, b))
	if !reflect.DeepEqual(before.Subscriptions[id].Lots, beforeLots) {
		t.Fatal("the decision mutated the state it was given")
	}
	// A subscription stored without lots: its licenses count as added when
	// its window opened.
	s := w.state.Subscriptions[id].clone()
	s.Lots = nil
	if v := ReducibleQuantity(&s, t0.Add(time.Hour)); v.Total != 13 || len(v.Lots) != 1 || !v.Lots[0].AddedAt.Equal(t0) {
		t.Fatalf("view without lots %+v", v)
	}
}

// QTY-1 with REN-4 and GEN-2: an increase sent while a renewal is being
// processed is parked and applied when the renewal completes, at the very
// instant the new period starts to be used. The first day of the period
// has started by then (it began at 00:00 UTC), so it counts as used, as
// for any other increase: GEN-2's "at least 1".
func TestRule_QTY_1_ParkedIncreaseAtRenewalCompletionCountsTheStartedDay(t *testing.T) {
	// 4 monthly licenses (USD 7.20) renewing from 2026-04-10T00:00Z,
	// completed at 00:30; the new period 2026-04-10..2026-05-09 has 30 days.
	w, id, start := renewingWorld(t, 120)
	out := w.do(partnerA, start.Add(10*time.Minute), messages.CmdQuantityChange, qtyOf(id, 6))
	incID := "cmd-" + itoa(w.n)
	if got := eventTypes(out); len(got) != 1 || got[0] != messages.EvtCommandDeferred {
		t.Fatalf("increase during the renewal: %v %+v", got, out.Rejected)
	}
	completed := start.Add(30 * time.Minute)
	evs := withoutNotices(eventsOf(w.advance(completed)))
	var got []string
	for _, e := range evs {
		got = append(got, string(e.Type)+"<"+e.CauseID+">")
	}
	want := []string{"subscription.renewed<>", "billing.charge<>", "subscription.quantity.changed<" + incID + ">", "billing.charge<" + incID + ">"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if c := evs[1].Data.(*messages.BillingEvent); c.AmountMinor != 4*720 {
		t.Fatalf("renewal charge %d", c.AmountMinor)
	}
	// 2 licenses × 720 = 1440 for the period, 1 started day of 30 used:
	// 1440 × 29 / 30 = 1392 (not 1440: the day had started).
	c := evs[3].Data.(*messages.BillingEvent)
	if c.AmountMinor != 1392 || c.PeriodStart != "2026-04-10" || c.PeriodEnd != "2026-05-09" ||
		*c.Proration != (messages.Proration{BaseMinor: 1440, UsedDays: 1, UnusedDays: 29, PeriodDays: 30}) {
		t.Fatalf("parked increase charge %d %+v", c.AmountMinor, c.Proration)
	}
	if s := w.state.Subscriptions[id]; s.Quantity != 6 || s.PeriodCharge != 2880+1392 {
		t.Fatalf("quantity %d, period charge %d", s.Quantity, s.PeriodCharge)
	}
	// Cancelling an hour later gives back, lot by lot, what each was
	// charged for the days not used: the 4 renewed licenses 1 of 30 days
	// used (2880 × 29), the 2 added ones the day before them plus the day
	// they were held (1440 × 28): (83520 + 40320) / 30 = 4128. Counted as
	// if it came with the renewal, the added lot would no longer add up
	// to the period charge, and the period charge would be prorated
	// instead (4272 × 29 / 30 = 4130, 2 more than was paid for).
	out = w.do(partnerA, completed.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
	wantAccepted(t, out)
	cr := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit)
	if cr.AmountMinor != 4128 || len(cr.LotProrations) != 2 ||
		cr.LotProrations[1] != (messages.Proration{BaseMinor: 1440, UsedDays: 2, UnusedDays: 28, PeriodDays: 30}) {
		t.Fatalf("cancellation credit %d %+v", cr.AmountMinor, cr.LotProrations)
	}
}

// A subscription stored before lots were marked as increases decodes as
// it was charged: a lot added at the instant its period began, without
// the mark, came with the period and was charged the whole period (the
// parked increase above, charged 1440 before the mark existed), so a
// cancellation gives back lot by lot what each was charged.
func TestRule_QTY_1_LotsStoredWithoutTheIncreaseMarkKeepWhatTheyWereCharged(t *testing.T) {
	w, id, start := renewingWorld(t, 120)
	w.do(partnerA, start.Add(10*time.Minute), messages.CmdQuantityChange, qtyOf(id, 6))
	completed := start.Add(30 * time.Minute)
	w.advance(completed)
	fields, err := w.state.EncodeFields([]string{SubscriptionField(id)})
	if err != nil {
		t.Fatal(err)
	}
	old := strings.ReplaceAll(string(fields[SubscriptionField(id)]), `,"increase":true`, "")
	old = strings.Replace(old, `"period_charge":4272`, `"period_charge":4320`, 1)
	if old == string(fields[SubscriptionField(id)]) || strings.Contains(old, "increase") {
		t.Fatalf("stored form changed: %s", fields[SubscriptionField(id)])
	}
	st, err := DecodeState(map[string][]byte{SubscriptionField(id): []byte(old)})
	if err != nil {
		t.Fatal(err)
	}
	w.state.Subscriptions[id] = st.Subscriptions[id]
	out := w.do(partnerA, completed.Add(time.Hour), messages.CmdSubscriptionCancel, cancelOf(id))
	wantAccepted(t, out)
	// (2880 + 1440) × 29 / 30 = 4176, both lots 1 of 30 days used.
	if cr := findEvent[*messages.BillingEvent](t, out, messages.EvtBillingCredit); cr.AmountMinor != 4176 || len(cr.LotProrations) != 2 {
		t.Fatalf("cancellation credit %d %+v %+v", cr.AmountMinor, cr.LotProrations, cr.Proration)
	}
}
