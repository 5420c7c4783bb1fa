package handlers

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// withActivityLogMax makes the environment's catalog keep n activity log
// entries (SW-2).
func withActivityLogMax(e *env, n int) {
	cat := *e.cat
	cat.Policy.Software.ActivityLogMaxEntries = n
	e.cat = &cat
}

// buySoftware creates the customer and buys perpetual software with keys
// through the processor; it returns the subscription ID.
func buySoftware(e *env, customer string) string {
	e.t.Helper()
	e.createCustomer(partnerA, customer)
	evs := e.await(e.send(partnerA, customer, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + customer, Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: swWinServer, Quantity: qtyp(1), Term: "perpetual", BillingFrequency: "one_time"}}}))
	return evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID
}

// keyAccess sends a key access through the processor and returns the
// instant it was logged at.
func keyAccess(e *env, customer, sub, user string) time.Time {
	e.t.Helper()
	evs := e.await(e.send(partnerA, customer, messages.CmdSoftwareKeyAccess, &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: user}))
	rec, ok := evs[0].Data.(*messages.SoftwareActivityRecordedEvent)
	if !ok {
		e.t.Fatalf("key access: %+v", evs[0].Data)
	}
	return rec.At
}

// stateHasActivity tells whether the customer's state hash holds an
// activity log.
func stateHasActivity(e *env, customer string) bool {
	e.t.Helper()
	has, err := e.rdb.HExists(context.Background(), "csp:{"+customer+"}:state", "activity").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	return has
}

// SW-2 through the processor: the log is a list outside the state, capped
// at the policy's entries; the query says up to when entries were dropped
// (the newest dropped entry's time).
func TestQuery_SW_2_ActivityListIsCappedOutsideTheState(t *testing.T) {
	e := newEnv(t)
	withActivityLogMax(e, 3)
	e.startProcessor()
	startQueries(t, e, false)
	start := time.Now().UTC().Add(-time.Minute)
	sub := buySoftware(e, "C-SWL")
	var at []time.Time
	for _, u := range []string{"u1", "u2", "u3", "u4", "u5", "u6", "u7"} {
		at = append(at, keyAccess(e, "C-SWL", sub, u))
	}
	if stateHasActivity(e, "C-SWL") {
		t.Fatal("the state hash holds the activity log")
	}
	log, err := e.store.Activity(context.Background(), "C-SWL")
	if err != nil || len(log.Records) != 3 || !log.TrimmedThrough.Equal(at[3]) {
		t.Fatalf("stored log %+v %v", log, err)
	}
	r := askActivity(t, e.nc, partnerA, messages.RoleGlobalAdmin, "C-SWL", activityRange(start, time.Now().UTC().Add(time.Minute)))
	if r.Result == nil || len(r.Result.Entries) != 3 || r.Result.Entries[0].User != "u5" || r.Result.Entries[2].User != "u7" ||
		r.Result.DroppedThrough == nil || !r.Result.DroppedThrough.Equal(at[3]) {
		t.Fatalf("log %+v %+v", r.Result, r.Error)
	}
}

// SW-2 with a state an earlier version wrote, its log in the state hash
// (field activity, headed by its log_trimmed marker): the query answers
// from it as before, and the customer's next command moves it to the list
// (field deleted, entries first, marker kept).
func TestQuery_SW_2_ActivityKeptInTheStateStillAnswers(t *testing.T) {
	e := newEnv(t)
	stop := e.startProcessor()
	startQueries(t, e, false)
	start := time.Now().UTC().Add(-time.Hour)
	sub := buySoftware(e, "C-SWO")
	h := func(n int) time.Time { return start.Add(time.Duration(n) * time.Minute) }
	legacy := []rules.ActivityEntry{{At: h(1), Kind: rules.ActivityTrimmed},
		{At: h(2), PartnerID: partnerA, User: "old1", Kind: "key_access", SubscriptionID: sub, OfferID: swWinServer},
		{At: h(3), PartnerID: partnerB, User: "other", Kind: "key_access", SubscriptionID: sub, OfferID: swWinServer},
		{At: h(4), PartnerID: partnerA, User: "old2", Kind: "download", SubscriptionID: sub, OfferID: swWinServer, LinkID: "dl-1"}}
	b, err := json.Marshal(legacy)
	if err != nil {
		t.Fatal(err)
	}
	// Written while no processor runs (as by an earlier version before
	// the upgrade): a running one would answer from its state cache.
	stop()
	if err := e.rdb.HSet(context.Background(), "csp:{C-SWO}:state", "activity", b).Err(); err != nil {
		t.Fatal(err)
	}
	e.startProcessor()
	ask := func() messages.SoftwareActivity {
		t.Helper()
		r := askActivity(t, e.nc, partnerA, messages.RoleAccountAdmin, "C-SWO", activityRange(start, time.Now().UTC().Add(time.Minute)))
		if r.Result == nil || r.Result.DroppedThrough == nil || !r.Result.DroppedThrough.Equal(h(1)) {
			t.Fatalf("log %+v %+v", r.Result, r.Error)
		}
		return *r.Result
	}
	if v := ask(); len(v.Entries) != 2 || v.Entries[0].User != "old1" || v.Entries[1].User != "old2" || v.Entries[1].LinkID != "dl-1" {
		t.Fatalf("log %+v", v)
	}
	keyAccess(e, "C-SWO", sub, "new")
	if stateHasActivity(e, "C-SWO") {
		t.Fatal("the log stayed in the state hash")
	}
	if v := ask(); len(v.Entries) != 3 || v.Entries[0].User != "old1" || v.Entries[1].User != "old2" || v.Entries[2].User != "new" {
		t.Fatalf("log %+v", v)
	}
	log, err := e.store.Activity(context.Background(), "C-SWO")
	if err != nil || len(log.Records) != 4 || !log.TrimmedThrough.Equal(h(1)) {
		t.Fatalf("stored log %+v %v", log, err)
	}
}
