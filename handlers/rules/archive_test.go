package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// retentionPolicy has every window a horizon reads.
func retentionPolicy() catalog.Policy { return withRetention(catalog.Policy{}) }

func withRetention(p catalog.Policy) catalog.Policy {
	p.Software.CancelWindowDays = 60
	p.LegacyDataRetentionMaxDays = 120
	p.TransferRequestExpiryDays = 30
	p.Reservations.RefundCapWindowDays = 365
	return p
}

// Each entity kind stays one instant before its horizon and leaves at it.
func TestArchiveHorizonTable(t *testing.T) {
	pol := retentionPolicy()
	closed := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	bought := closed.Add(-24 * time.Hour)
	sub := func(edit func(*Subscription)) *Subscription {
		s := &Subscription{ID: "s1", PartnerID: "pA", Status: StatusCancelled, CancelledAt: &closed, CommerceType: "new_commerce",
			TermEnd: closed.AddDate(0, 1, 0), CancellableUntil: bought.Add(168 * time.Hour)}
		if edit != nil {
			edit(s)
		}
		return s
	}
	cases := []struct {
		name    string
		field   string
		st      CustomerState
		horizon time.Time
	}{
		{"subscription cancelled inside its CAN-1 window: at the window's end", "sub:s1",
			CustomerState{Subscriptions: map[string]*Subscription{"s1": sub(nil)}}, bought.Add(168 * time.Hour)},
		{"subscription expired after its window: at its close", "sub:s1",
			CustomerState{Subscriptions: map[string]*Subscription{"s1": sub(func(s *Subscription) {
				s.Status, s.CancelledAt, s.ExpiredAt, s.CancellableUntil = StatusExpired, nil, &closed, bought
			})}}, closed},
		{"legacy: 120 days after its close", "sub:s1",
			CustomerState{Subscriptions: map[string]*Subscription{"s1": sub(func(s *Subscription) { s.CommerceType = catalog.CommerceTypeLegacy })}},
			closed.AddDate(0, 0, 120)},
		{"reservation: the 365-day refund cap window after its close", "sub:s1",
			CustomerState{Subscriptions: map[string]*Subscription{"s1": sub(func(s *Subscription) { s.Reservation = &ReservationState{} })}},
			closed.AddDate(0, 0, 365)},
		{"a live timer naming it holds it until the timer's due time", "sub:s1",
			CustomerState{Subscriptions: map[string]*Subscription{"s1": sub(nil)},
				Timers: map[string]*Timer{"t": {ID: "t", Kind: TimerWindowClosed, SubscriptionID: "s1", DueAt: closed.AddDate(0, 0, 9)}}},
			closed.AddDate(0, 0, 9)},
		{"order: the 60-day software window after its placement", "order:o1",
			CustomerState{Orders: map[string]*Order{"o1": {ID: "o1", PlacedAt: bought, Status: messages.OrderCompleted,
				Lines: []OrderLineRecord{{LineID: "L1", Status: messages.LineFulfilled, SubscriptionID: "gone"}}}}},
			bought.AddDate(0, 0, 60)},
		{"transfer: 30 days after it finished", "transfer:x1",
			CustomerState{Transfers: map[string]*Transfer{"x1": {ID: "x1", Status: messages.TransferRejected, RejectedAt: &closed}}},
			closed.Add(30 * 24 * time.Hour)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, m := range []*map[string]*Subscription{&c.st.Subscriptions} {
				if *m == nil {
					*m = map[string]*Subscription{}
				}
			}
			if c.st.Orders == nil {
				c.st.Orders = map[string]*Order{}
			}
			if c.st.Timers == nil {
				c.st.Timers = map[string]*Timer{}
			}
			if c.st.Transfers == nil {
				c.st.Transfers = map[string]*Transfer{}
			}
			before := Outcome{State: c.st}
			sweepArchive(&before, c.horizon.Add(-time.Nanosecond), pol)
			if len(before.Archived) != 0 {
				t.Fatalf("archived %v one instant before the horizon", before.Archived[0].Field)
			}
			if len(before.TimersSet) != 1 || before.TimersSet[0].Kind != TimerArchive || !before.TimersSet[0].DueAt.Equal(c.horizon) {
				t.Fatalf("archive timer %+v, want one due at %s", before.TimersSet, c.horizon)
			}
			at := Outcome{State: c.st}
			sweepArchive(&at, c.horizon, pol)
			if len(at.Archived) != 1 || at.Archived[0].Field != c.field || at.State.holds(c.field) {
				t.Fatalf("at the horizon: archived %+v", at.Archived)
			}
			if c.st.holds(c.field) != true {
				t.Fatal("the sweep changed the state it was given")
			}
		})
	}
}

// archiveWorld is a world that archives, with a customer and the policy's
// windows.
func archiveWorld(t *testing.T) *world {
	w := newWorld(t)
	w.cat.Policy = withRetention(w.cat.Policy)
	w.archive = true
	w.createCustomer("commercial", "USD")
	return w
}

// A cancelled subscription answers PTN-1 and CAN-2 the same before and
// after it was archived, and a new order reusing an archived order's ID is
// the same ORD-1 duplicate.
func TestRule_PTN_1_CAN_2_ArchivedSubscriptionRejectionsAreExact(t *testing.T) {
	w := archiveWorld(t)
	sub := w.buy(t0, offerBasic, "P1M", "monthly", 3)
	orderID := w.state.Subscriptions[sub].OrderID
	if out := w.do(partnerA, t0.Add(time.Hour), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}); out.Rejected != nil {
		t.Fatalf("cancel: %+v", out.Rejected)
	}
	commands := []struct {
		partner string
		typ     messages.CommandType
		data    any
	}{
		{partnerA, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}},
		{partnerA, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: messages.ReasonCustomerRequest}},
		{partnerA, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: sub}},
		{partnerA, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: intp(5)}},
		{partnerB, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}},
		{partnerA, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: orderID,
			Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: intp(1), Term: "P1M", BillingFrequency: "monthly"}}}},
	}
	answers := func(now time.Time) []messages.Rejection {
		var out []messages.Rejection
		for _, c := range commands {
			o := Decide(Input{Command: messages.Command{ID: "probe", Type: c.typ, SchemaVersion: 1, CustomerID: customer1, Data: c.data},
				PartnerID: c.partner, Now: now, State: w.state, Catalog: w.cat})
			if o.Rejected == nil {
				t.Fatalf("%s by %s accepted", c.typ, c.partner)
			}
			out = append(out, *o.Rejected)
		}
		return out
	}
	live := answers(t0.Add(2 * time.Hour))
	if live[0].Rule != "CAN-2" || live[4].Rule != "PTN-1" || live[5].Rule != "ORD-1" {
		t.Fatalf("live answers %+v", live)
	}
	w.advance(t0.AddDate(0, 0, 70)) // past the cancellation window and the order's software window
	if _, ok := w.state.Subscriptions[sub]; ok {
		t.Fatal("the cancelled subscription is still in the state")
	}
	if _, ok := w.state.Orders[orderID]; ok {
		t.Fatal("the order is still in the state")
	}
	if w.state.Tombstones[SubscriptionField(sub)] == nil || w.state.Tombstones[OrderField(orderID)] == nil {
		t.Fatalf("tombstones %v", w.state.Tombstones)
	}
	archived := answers(t0.Add(2 * time.Hour))
	if !reflect.DeepEqual(live, archived) {
		t.Fatalf("answers changed with archiving:\nlive     %+v\narchived %+v", live, archived)
	}
	// A decision on state without the tombstone (a cached snapshot) lists
	// the named field as absent, so the commit sends it back for a load.
	noTombs := w.state
	noTombs.Tombstones = nil
	o := Decide(Input{Command: messages.Command{ID: "probe", Type: messages.CmdSubscriptionCancel, SchemaVersion: 1, CustomerID: customer1,
		Data: &messages.CancelData{SubscriptionID: sub}}, PartnerID: partnerA, Now: t0.AddDate(0, 0, 71), State: noTombs, Catalog: w.cat})
	if !reflect.DeepEqual(o.Absent, []string{SubscriptionField(sub)}) {
		t.Fatalf("absent %v", o.Absent)
	}
}

// hotSize is the encoded hot state: every entity field's bytes and the
// number of fields.
func hotSize(t *testing.T, st CustomerState) (bytes, fields int) {
	enc, err := encodeAll(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range enc {
		if string(v) != "null" { // an empty list is stored as no field
			bytes += len(v)
			fields++
		}
	}
	return bytes, fields
}

// A year of subscriptions bought and cancelled leaves the state a command
// decodes the same size as the year before: closed history left it.
func TestDecodedStateStaysTheSameSizeAfterAYearOfClosedHistory(t *testing.T) {
	w := archiveWorld(t)
	w.buy(t0, offerStd, "P1Y", "monthly", 2) // one live subscription throughout
	var sizes [][2]int
	day := 0
	for _, end := range []int{365, 730} {
		for ; day < end; day += 5 {
			at := t0.AddDate(0, 0, day)
			w.advance(at)
			sub := w.buy(at, offerBasic, "P1M", "monthly", 1)
			if out := w.do(partnerA, at.Add(time.Hour), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}); out.Rejected != nil {
				t.Fatalf("cancel on day %d: %+v", day, out.Rejected)
			}
		}
		w.advance(t0.AddDate(0, 0, end))
		b, n := hotSize(t, w.state)
		sizes = append(sizes, [2]int{b, n})
	}
	t.Logf("hot state at day 365: %d bytes in %d fields; at day 730: %d bytes in %d fields; %d tombstones",
		sizes[0][0], sizes[0][1], sizes[1][0], sizes[1][1], len(w.state.Tombstones))
	// What is live at a given day (the windows still open, the orders of
	// the last 60 days) varies by a few entities with the calendar; a
	// year's history is over 70 subscriptions and orders.
	if diff(sizes[1][1], sizes[0][1]) > 4 || diff(sizes[1][0], sizes[0][0]) > 1024 {
		t.Fatalf("hot state grew: day 365 %v, day 730 %v", sizes[0], sizes[1])
	}
	if len(w.state.Tombstones) < 100 {
		t.Fatalf("%d tombstones: the closed history did not leave", len(w.state.Tombstones))
	}
	for f := range w.state.Tombstones {
		if strings.HasPrefix(f, fieldSubPrefix) && w.state.Subscriptions[strings.TrimPrefix(f, fieldSubPrefix)] != nil {
			t.Fatalf("%s is both live and tombstoned", f)
		}
	}
}

func diff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}
