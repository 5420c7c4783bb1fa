package rules

import (
	"bytes"
	"fmt"
	"maps"
	"strconv"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// testCatalog is a small catalog with one offer of each kind the rules
// distinguish. Prices are per license per billing period, in minor units.
const testCatalog = `{
 "version": "test",
 "currencies": {"USD": {"exponent": 2}, "JPY": {"exponent": 0}},
 "policy": {"tax_inclusive_countries": ["AU", "BR"], "segments": ["commercial", "education", "government", "nonprofit"], "max_subscription_updates": 1200},
 "offers": [
  {"id": "CFQ7TTC0LH18:0001", "name": "Microsoft 365 Business Basic", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "upgrade_paths": ["CFQ7TTC0LDPB:0009"],
   "plans": [
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 7200, "JPY": 10800}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 630, "JPY": 945}},
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 720, "JPY": 1080}}
   ]},
  {"id": "CFQ7TTC0LDPB:0009", "name": "Microsoft 365 Business Standard", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 300, "cancel_window_hours": 168,
   "plans": [
    {"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 15000, "JPY": 22500}},
    {"term": "P1Y", "billing_frequency": "monthly", "prices": {"USD": 1313, "JPY": 1969}},
    {"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 1500, "JPY": 2250}}
   ]},
  {"id": "CFQ7TTC0LDPB:0001", "name": "Microsoft 365 Business Premium (Nonprofit Grant)", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": true,
   "segments": ["commercial", "nonprofit"], "min_quantity": 1, "max_quantity": 10, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 100, "JPY": 150}}]},
  {"id": "CFQ7TTC0LF8Q:0001", "name": "Microsoft 365 A3 for faculty", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "license", "one_per_customer": false,
   "segments": ["education"], "min_quantity": 1, "max_quantity": 50000, "cancel_window_hours": 168,
   "plans": [{"term": "P1Y", "billing_frequency": "annual", "prices": {"USD": 3900, "JPY": 5850}}]},
  {"id": "DZH318Z0BPS6:0001", "name": "Azure plan", "publisher": "microsoft",
   "commerce_type": "new_commerce", "billing_type": "usage", "one_per_customer": true,
   "segments": ["commercial", "education", "government", "nonprofit"], "min_quantity": 0, "max_quantity": 0, "cancel_window_hours": 168,
   "plans": [{"term": "P1M", "billing_frequency": "monthly", "prices": {"USD": 0, "JPY": 0}}]}
 ]
}`

const (
	offerBasic   = "CFQ7TTC0LH18:0001"
	offerGrant   = "CFQ7TTC0LDPB:0001"
	offerFaculty = "CFQ7TTC0LF8Q:0001"
	offerStd     = "CFQ7TTC0LDPB:0009"
	offerAzure   = "DZH318Z0BPS6:0001"
	partnerA     = "P-A"
	partnerB     = "P-B"
	customer1    = "C-1"
)

// t0 is the purchase instant used by most cases: mid-day, so that "hour
// 167" and calendar days differ.
var t0 = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)

func mustCatalog(t testing.TB) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Parse([]byte(testCatalog))
	if err != nil {
		t.Fatalf("test catalog: %v", err)
	}
	return c
}

// world applies commands one after another, like the processor does for one
// customer, and keeps the state between them.
type world struct {
	t     testing.TB
	cat   *catalog.Catalog
	state CustomerState
	n     int
	// archive runs the archive sweep in every decision (Input.Archive).
	archive bool
	// activity is the customer's activity log as the store keeps it
	// (keepActivity).
	activity ActivityLog
}

func newWorld(t testing.TB) *world {
	return &world{t: t, cat: mustCatalog(t), state: CustomerState{Subscriptions: map[string]*Subscription{}, Orders: map[string]*Order{}, Timers: map[string]*Timer{}}}
}

// do decides a command as partner at time now and keeps the new state.
func (w *world) do(partner string, now time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	w.n++
	out := Decide(Input{
		Command:   messages.Command{ID: "cmd-" + itoa(w.n), Type: typ, SchemaVersion: 1, CustomerID: customer1, Data: data},
		PartnerID: partner, Now: now, State: w.state, Catalog: w.cat, Archive: w.archive,
	})
	w.committable(w.state, out)
	w.state = out.State
	return out
}

// committable fails the test when an outcome could not be committed as
// decided: a field both changed and deleted is refused by the commit
// script (state.Commit.check), and the command would then be retried
// forever; and the new state must be exactly what the store holds after
// the commit, since the processor caches it and decides the customer's
// next command on it (see committedAs).
func (w *world) committable(before CustomerState, out Outcome) {
	w.t.Helper()
	if both := bothSetAndDeleted(out); len(both) > 0 {
		w.t.Fatalf("outcome both sets and deletes %v (changed %v, deleted %v)", both, out.Changed, out.Deleted)
	}
	if err := committedAs(before, out); err != nil {
		w.t.Fatal(err)
	}
}

// committedAs checks that an outcome's state is its input state with the
// commit applied: every stored field the decision changed is in Changed,
// every one it removed in Deleted or Archived. A change missing from them would live
// only in the processor's cache of decoded state, and a customer's next
// decision would depend on whether the cache still held it.
func committedAs(before CustomerState, out Outcome) error {
	if out.Ignored {
		return nil
	}
	stored, err := encodeAll(before)
	if err != nil {
		return err
	}
	set, err := out.State.EncodeFields(out.Changed)
	if err != nil {
		return err
	}
	maps.Copy(stored, set)
	for _, f := range out.Deleted {
		delete(stored, f)
	}
	for _, a := range out.Archived { // moved to the archive by the same commit
		delete(stored, a.Field)
	}
	decided, err := encodeAll(out.State)
	if err != nil {
		return err
	}
	// An empty list (parked, refunds, activity) is stored as no field.
	for _, m := range []map[string][]byte{stored, decided} {
		maps.DeleteFunc(m, func(_ string, v []byte) bool { return string(v) == "null" })
	}
	for f, v := range decided {
		if !bytes.Equal(stored[f], v) {
			return fmt.Errorf("the decided state's %q is not what the commit stores (changed %v, deleted %v):\n decided %s\n stored  %s", f, out.Changed, out.Deleted, v, stored[f])
		}
	}
	for f := range stored {
		if _, ok := decided[f]; !ok {
			return fmt.Errorf("the commit keeps %q, which the decided state no longer holds (deleted %v)", f, out.Deleted)
		}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }

func (w *world) createCustomer(segment, currency string) {
	w.t.Helper()
	out := w.do(partnerA, t0.Add(-time.Hour), messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: segment, Country: "US", Currency: currency})
	if out.Rejected != nil {
		w.t.Fatalf("customer.created rejected: %+v", out.Rejected)
	}
}

// buy places a one-line order and returns the new subscription's ID.
func (w *world) buy(at time.Time, offer, term, freq string, qty int) string {
	w.t.Helper()
	q := &qty
	if offer == offerAzure {
		q = nil
	}
	out := w.do(partnerA, at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + itoa(w.n+1),
		Lines: []messages.OrderLine{{LineID: "L1", OfferID: offer, Quantity: q, Term: term, BillingFrequency: freq}}})
	ev := findEvent[*messages.OrderProcessedEvent](w.t, out, messages.EvtOrderProcessed)
	if ev.Status != messages.OrderCompleted {
		w.t.Fatalf("order not completed: %+v", ev.Lines[0].Rejection)
	}
	return ev.Lines[0].SubscriptionID
}

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }

func findEvent[T any](t testing.TB, out Outcome, typ messages.EventType) T {
	t.Helper()
	for _, e := range out.Events {
		if e.Type == typ {
			return e.Data.(T)
		}
	}
	t.Fatalf("no %s event in %+v", typ, out.Events)
	var zero T
	return zero
}

func eventTypes(out Outcome) []messages.EventType {
	var ts []messages.EventType
	for _, e := range out.Events {
		ts = append(ts, e.Type)
	}
	return ts
}

// wantRejected asserts a rejection with the code and rule. The command
// itself changes nothing and emits one command.rejected; overdue timers
// that Decide fired before it keep their changes and events (their events
// name the timer as their cause).
func wantRejected(t testing.TB, out Outcome, code, rule string) *messages.Rejection {
	t.Helper()
	if out.Rejected == nil {
		t.Fatalf("want rejection %s (%s), got events %v", code, rule, eventTypes(out))
	}
	if out.Rejected.Code != code || out.Rejected.Rule != rule {
		t.Fatalf("want rejection %s (%s), got %s (%s): %s", code, rule, out.Rejected.Code, out.Rejected.Rule, out.Rejected.Description)
	}
	own := commandEvents(out)
	if len(out.Changed) != 0 && len(own) == len(out.Events) {
		t.Fatalf("a rejection changed %v", out.Changed)
	}
	if len(own) != 1 || own[0].Type != messages.EvtCommandRejected {
		t.Fatalf("a rejection must emit exactly one command.rejected, got %v", eventTypes(out))
	}
	return out.Rejected
}

// commandEvents are an outcome's events less those of the overdue timers
// fired before the command.
func commandEvents(out Outcome) []EventDraft {
	var own []EventDraft
	for _, e := range out.Events {
		if e.CauseType != messages.CmdTimerFired {
			own = append(own, e)
		}
	}
	return own
}

func wantAccepted(t testing.TB, out Outcome) {
	t.Helper()
	if out.Rejected != nil {
		t.Fatalf("unexpected rejection %s (%s): %s", out.Rejected.Code, out.Rejected.Rule, out.Rejected.Description)
	}
}

// advance fires every timer due up to and including to, earliest first,
// each at its due time, the way the scheduler does; it returns the outcomes.
func (w *world) advance(to time.Time) []Outcome {
	w.t.Helper()
	var outs []Outcome
	for {
		var next *Timer
		for _, t := range w.state.Timers {
			if !t.DueAt.After(to) && (next == nil || t.DueAt.Before(next.DueAt) || t.DueAt.Equal(next.DueAt) && t.ID < next.ID) {
				next = t
			}
		}
		if next == nil {
			return outs
		}
		w.n++
		out := Decide(Input{
			Command: messages.Command{ID: next.ID, Type: messages.CmdTimerFired, SchemaVersion: 1, CustomerID: customer1,
				Data: &messages.TimerFiredData{TimerID: next.ID, Kind: next.Kind, SubscriptionID: next.SubscriptionID, DueAt: next.DueAt}},
			PartnerID: messages.SystemPartner, Now: next.DueAt, State: w.state, Catalog: w.cat, Archive: w.archive,
		})
		if out.Rejected != nil {
			w.t.Fatalf("timer %s rejected: %+v", next.ID, out.Rejected)
		}
		w.committable(w.state, out)
		w.state = out.State
		outs = append(outs, out)
	}
}

// eventsOf flattens the events of several outcomes.
func eventsOf(outs []Outcome) []EventDraft {
	var evs []EventDraft
	for _, o := range outs {
		evs = append(evs, o.Events...)
	}
	return evs
}
