package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

var clockT0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

func createOnClock(w *world, fact *TestClockFact) Outcome {
	w.t.Helper()
	w.n++
	out := Decide(Input{
		Command: messages.Command{ID: "cmd-" + itoa(w.n), Type: messages.CmdCustomerCreated, SchemaVersion: 1, CustomerID: customer1,
			Data: &messages.CustomerCreatedData{CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD", TestClockID: "TC-1"}},
		PartnerID: partnerA, Now: clockT0, State: w.state, Catalog: w.cat, TestClock: fact,
	})
	w.committable(w.state, out)
	w.state = out.State
	return out
}

// Outside simulation mode no test clock can be created, advanced or named
// by a new customer.
func TestRule_TCK_1_RefusedOutsideSimulationMode(t *testing.T) {
	if r := DecideTestClockCreate(false, "TC-1", clockT0, nil); r == nil || r.Code != CodeTestClocksNotEnabled || r.Rule != "TCK-1" || r.Data["test_clock_id"] != "TC-1" {
		t.Fatalf("create: %+v", r)
	}
	cur := clockT0
	if r := DecideTestClockAdvance(false, "TC-1", clockT0.Add(time.Hour), &cur); r == nil || r.Code != CodeTestClocksNotEnabled || r.Rule != "TCK-1" {
		t.Fatalf("advance: %+v", r)
	}
	for name, fact := range map[string]*TestClockFact{"no fact": nil, "not enabled": {ID: "TC-1", Exists: true, Now: clockT0}} {
		w := newWorld(t)
		wantRejected(t, createOnClock(w, fact), CodeTestClocksNotEnabled, "TCK-1")
		if w.state.Customer != nil {
			t.Fatalf("%s: customer created", name)
		}
	}
}

// A new customer lives on an existing clock only; the customer record and
// its event name the clock.
func TestRule_TCK_2_CustomerAttachedToAnExistingClock(t *testing.T) {
	w := newWorld(t)
	r := wantRejected(t, createOnClock(w, &TestClockFact{ID: "TC-1", Enabled: true}), CodeTestClockNotFound, "TCK-2")
	if r.Data["test_clock_id"] != "TC-1" || w.state.Customer != nil {
		t.Fatalf("missing clock: %+v, customer %+v", r, w.state.Customer)
	}
	out := createOnClock(w, &TestClockFact{ID: "TC-1", Enabled: true, Exists: true, Now: clockT0})
	ev := findEvent[*messages.CustomerCreatedEvent](t, out, messages.EvtCustomerCreated)
	if ev.TestClockID != "TC-1" || w.state.Customer.TestClockID != "TC-1" || !w.state.Customer.CreatedAt.Equal(clockT0) {
		t.Fatalf("event %+v, customer %+v", ev, w.state.Customer)
	}
	if r := DecideTestClockAdvance(true, "TC-9", clockT0, nil); r == nil || r.Code != CodeTestClockNotFound || r.Rule != "TCK-2" {
		t.Fatalf("advance a missing clock: %+v", r)
	}
}

// A clock ID is created once: again at the same time is a retry,
// at another time a clash that names the existing clock's time.
func TestRule_TCK_3_ClockCreatedOnce(t *testing.T) {
	if r := DecideTestClockCreate(true, "TC-1", clockT0, nil); r != nil {
		t.Fatalf("new clock: %+v", r)
	}
	same := clockT0
	if r := DecideTestClockCreate(true, "TC-1", clockT0, &same); r != nil {
		t.Fatalf("retry: %+v", r)
	}
	r := DecideTestClockCreate(true, "TC-1", clockT0.Add(time.Minute), &same)
	if r == nil || r.Code != CodeTestClockExists || r.Rule != "TCK-3" || r.Data["frozen_time"] != "2026-03-10T09:00:00Z" {
		t.Fatalf("clash: %+v", r)
	}
}

// A clock moves forward or stays; never back.
func TestRule_TCK_4_ClockNeverMovesBack(t *testing.T) {
	cur := clockT0
	for _, to := range []time.Time{clockT0, clockT0.Add(time.Nanosecond), clockT0.Add(90 * 24 * time.Hour)} {
		if r := DecideTestClockAdvance(true, "TC-1", to, &cur); r != nil {
			t.Fatalf("to %v: %+v", to, r)
		}
	}
	r := DecideTestClockAdvance(true, "TC-1", clockT0.Add(-time.Nanosecond), &cur)
	if r == nil || r.Code != CodeTestClockBackwards || r.Rule != "TCK-4" ||
		r.Data["frozen_time"] != "2026-03-10T09:00:00Z" || r.Data["requested"] != "2026-03-10T08:59:59.999999999Z" {
		t.Fatalf("backwards: %+v", r)
	}
}
