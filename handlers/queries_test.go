package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// seeder builds a customer's state by deciding commands with the real
// rules at chosen instants and committing them to the real Redis store,
// the way the command handler does (without NATS in between).
type seeder struct {
	e        *env
	customer string
	st       rules.CustomerState
	version  int64
	n        int
}

func newSeeder(e *env, customer string) *seeder {
	st, err := rules.DecodeState(map[string][]byte{})
	if err != nil {
		e.t.Fatal(err)
	}
	return &seeder{e: e, customer: customer, st: st}
}

func (s *seeder) do(partner string, at time.Time, typ messages.CommandType, data any) rules.Outcome {
	s.e.t.Helper()
	s.n++
	cmd := messages.Command{ID: fmt.Sprintf("seed-%d", s.n), Type: typ, SchemaVersion: 1, CustomerID: s.customer, Data: data}
	out := rules.Decide(rules.Input{Command: cmd, PartnerID: partner, Now: at, State: s.st, Catalog: s.e.cat})
	if out.Rejected != nil {
		s.e.t.Fatalf("seed %s rejected: %+v", typ, out.Rejected)
	}
	// The processor's commit (state and activity log), without its events
	// and timers: a seeded state is only read.
	commit, _, err := buildCommit(cmd, messages.Route{CustomerID: s.customer, Type: typ}, at, out)
	if err != nil {
		s.e.t.Fatal(err)
	}
	commit.ExpectedVersion, commit.Events, commit.Timers = s.version, nil, nil
	res, err := s.e.store.Commit(context.Background(), commit)
	if err != nil || res.Status != state.Committed {
		s.e.t.Fatalf("seed commit: %v %v", res.Status, err)
	}
	s.version, s.st = res.Version, out.State
	return out
}

// buy creates the customer (first time) and buys qty annual Business Basic
// licenses at the instant; it returns the subscription ID.
func (s *seeder) buy(partner string, at time.Time, qty int) string {
	s.e.t.Helper()
	if s.st.Customer == nil {
		s.do(partner, at.Add(-time.Hour), messages.CmdCustomerCreated, &messages.CustomerCreatedData{
			CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"})
	}
	out := s.do(partner, at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: fmt.Sprintf("O-%d", s.n+1),
		Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}})
	for _, ev := range out.Events {
		if r, ok := ev.Data.(*messages.OrderProcessedEvent); ok && r.Status == messages.OrderCompleted {
			return r.Lines[0].SubscriptionID
		}
	}
	s.e.t.Fatalf("seed order not completed: %+v", out.Events)
	return ""
}

type reducibleReply = messages.QueryReply[messages.ReducibleQuantity]

// ask sends a reducible-quantity request as partner and returns the decoded
// reply and its raw JSON.
func askReducible(t *testing.T, nc *nats.Conn, partner, customer string, body any) (reducibleReply, map[string]any) {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	msg, err := nc.Request(messages.ReducibleQuantitySubject(partner, messages.RoleAdminAgent, customer), b, 10*time.Second)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	var reply reducibleReply
	var raw map[string]any
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		t.Fatalf("reply %s: %v", msg.Data, err)
	}
	if err := json.Unmarshal(msg.Data, &raw); err != nil {
		t.Fatal(err)
	}
	return reply, raw
}

func startQueries(t *testing.T, e *env, simulated bool) *QueryService {
	t.Helper()
	q := &QueryService{Store: e.store, NATS: e.nc, Simulated: simulated}
	if err := q.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := q.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return q
}

func queryLot(n int, added time.Time) messages.LotView {
	return messages.LotView{Quantity: n, AddedAt: added, ReducibleUntil: added.Add(168 * time.Hour)}
}

// QTY-3 over NATS request/reply against the stored state, in simulation
// mode, where the request may name the instant.
func TestQuery_QTY_3_ReducibleQuantityOverNATS(t *testing.T) {
	e := newEnv(t)
	startQueries(t, e, true)
	bought := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	sd := newSeeder(e, "C-Q1")
	sub := sd.buy(partnerA, bought, 10)
	added := bought.Add(30 * time.Hour)
	sd.do(partnerA, added, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: qtyp(15)})
	stored := e.stateOf("C-Q1")

	for _, tc := range []struct {
		name  string
		at    time.Time
		total int
		lots  []messages.LotView
	}{
		{"QTY-3 both lots, newest first", bought.Add(100 * time.Hour), 15, []messages.LotView{queryLot(5, added), queryLot(10, bought)}},
		{"QTY-3 the purchase lot's window closed", bought.Add(170 * time.Hour), 5, []messages.LotView{queryLot(5, added)}},
		{"QTY-3 nothing reducible", bought.Add(300 * time.Hour), 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reply, raw := askReducible(t, e.nc, partnerA, "C-Q1", messages.ReducibleQuantityRequest{SubscriptionID: sub, At: tc.at.Format(time.RFC3339Nano)})
			v := reply.Result
			if reply.Error != nil || v == nil {
				t.Fatalf("error %+v", reply.Error)
			}
			if v.SubscriptionID != sub || v.Quantity != 15 || v.Total != tc.total || !v.AsOf.Equal(tc.at) {
				t.Fatalf("view %+v", v)
			}
			if len(tc.lots) > 0 && !reflect.DeepEqual(v.Lots, tc.lots) || len(tc.lots) == 0 && len(v.Lots) != 0 {
				t.Fatalf("lots %+v, want %+v", v.Lots, tc.lots)
			}
			if (tc.total == 0) != (v.Message != "") {
				t.Fatalf("message %q with total %d", v.Message, v.Total)
			}
			// The wire shape: {"result": {..., "lots": [...]}} and no error.
			res, _ := raw["result"].(map[string]any)
			if _, ok := res["lots"].([]any); !ok || raw["error"] != nil {
				t.Fatalf("raw reply %v", raw)
			}
		})
	}

	t.Run("QTY-3 the simulated clock when no instant is named", func(t *testing.T) {
		if _, err := e.store.SetSimClock(context.Background(), bought.Add(170*time.Hour)); err != nil {
			t.Fatal(err)
		}
		reply, _ := askReducible(t, e.nc, partnerA, "C-Q1", messages.ReducibleQuantityRequest{SubscriptionID: sub})
		if reply.Result == nil || reply.Result.Total != 5 || !reply.Result.AsOf.Equal(bought.Add(170*time.Hour)) {
			t.Fatalf("reply %+v %+v", reply.Result, reply.Error)
		}
	})

	// PTN-1: the subject's partner token is the actor. Another partner's
	// customer and a customer that does not exist get the same answer.
	foreign, _ := askReducible(t, e.nc, partnerB, "C-Q1", messages.ReducibleQuantityRequest{SubscriptionID: sub})
	unknown, _ := askReducible(t, e.nc, partnerB, "C-NOPE", messages.ReducibleQuantityRequest{SubscriptionID: sub})
	for _, r := range []reducibleReply{foreign, unknown} {
		if r.Result != nil || r.Error == nil || r.Error.Code != rules.CodeNoRelationship || r.Error.Rule != "PTN-1" || r.Error.Source != "processor" {
			t.Fatalf("PTN-1 reply %+v %+v", r.Result, r.Error)
		}
	}
	if !reflect.DeepEqual(slices.Sorted(maps.Keys(foreign.Error.Data)), slices.Sorted(maps.Keys(unknown.Error.Data))) {
		t.Fatalf("the answers differ in shape: %v vs %v", foreign.Error.Data, unknown.Error.Data)
	}
	for _, tc := range []struct {
		name string
		body any
		code string
	}{
		{"PTN-1 unknown subscription", messages.ReducibleQuantityRequest{SubscriptionID: "sub-nope"}, rules.CodeSubscriptionNotFound},
		{"GEN-6 not JSON", "nope", CodeQueryMalformed},
		{"GEN-6 unknown field", `{"subscription_id": "` + sub + `", "partner_id": "P-B"}`, CodeQueryMalformed},
		{"GEN-6 bad instant", messages.ReducibleQuantityRequest{SubscriptionID: sub, At: "yesterday"}, rules.CodeInvalidField},
		{"GEN-6 missing subscription", `{}`, rules.CodeInvalidField},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := askReducible(t, e.nc, partnerA, "C-Q1", tc.body)
			if r.Result != nil || r.Error == nil || r.Error.Code != tc.code {
				t.Fatalf("reply %+v %+v", r.Result, r.Error)
			}
		})
	}
	if got := e.stateOf("C-Q1"); !reflect.DeepEqual(got, stored) || e.version("C-Q1") != sd.version {
		t.Fatal("a query changed the stored state")
	}
}

func qtyp(n int) *int { return &n }

// Outside simulation mode a query is answered as of the wall clock, and a
// request naming another instant is refused.
func TestQuery_QTY_3_WallClockOutsideSimulation(t *testing.T) {
	e := newEnv(t)
	startQueries(t, e, false)
	bought := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	sd := newSeeder(e, "C-Q2")
	sub := sd.buy(partnerA, bought, 10)

	before := time.Now()
	reply, _ := askReducible(t, e.nc, partnerA, "C-Q2", messages.ReducibleQuantityRequest{SubscriptionID: sub})
	after := time.Now()
	v := reply.Result
	if v == nil || v.Total != 10 || !reflect.DeepEqual(v.Lots, []messages.LotView{queryLot(10, bought)}) ||
		v.AsOf.Before(before.Add(-time.Second)) || v.AsOf.After(after.Add(time.Second)) {
		t.Fatalf("reply %+v %+v", v, reply.Error)
	}
	reply, _ = askReducible(t, e.nc, partnerA, "C-Q2", messages.ReducibleQuantityRequest{SubscriptionID: sub, At: bought.Add(time.Hour).Format(time.RFC3339)})
	if reply.Result != nil || reply.Error == nil || reply.Error.Code != rules.CodeInvalidField || reply.Error.Data["field"] != "at" {
		t.Fatalf("a normal processor answered for another instant: %+v %+v", reply.Result, reply.Error)
	}
}

// End to end: subscriptions bought and changed through the processor are
// visible to the query the processor serves; once it stopped nobody answers.
func TestQuery_QTY_3_AfterCommandsThroughTheProcessor(t *testing.T) {
	e := newEnv(t)
	stop := e.startProcessor()
	e.createCustomer(partnerA, "C-Q3")
	sub := e.buy(partnerA, "C-Q3", 10)

	reply, _ := askReducible(t, e.nc, partnerA, "C-Q3", messages.ReducibleQuantityRequest{SubscriptionID: sub})
	if reply.Result == nil || reply.Result.Total != 10 || len(reply.Result.Lots) != 1 {
		t.Fatalf("after purchase %+v %+v", reply.Result, reply.Error)
	}
	cmd := e.send(partnerA, "C-Q3", messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: qtyp(12)})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var changed *messages.QuantityChangedEvent
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
		var charged bool
		for _, ev := range evs {
			if ev.CommandID != cmd.ID {
				continue
			}
			switch d := ev.Data.(type) {
			case *messages.QuantityChangedEvent:
				changed = d
			case *messages.BillingEvent:
				charged = d.Reason == messages.BillingReasonIncrease
			case *messages.CommandRejectedEvent:
				t.Errorf("quantity change rejected: %+v", d.Rejection)
				return true
			}
		}
		return changed != nil && charged
	}); err != nil {
		t.Fatalf("quantity change: %v", err)
	}
	reply, _ = askReducible(t, e.nc, partnerA, "C-Q3", messages.ReducibleQuantityRequest{SubscriptionID: sub})
	if v := reply.Result; v == nil || v.Total != 12 || !reflect.DeepEqual(v.Lots, []messages.LotView{changed.Lots[1], changed.Lots[0]}) {
		t.Fatalf("after the increase %+v %+v (event lots %+v)", reply.Result, reply.Error, changed.Lots)
	}

	stop()
	_, err := e.nc.Request(messages.ReducibleQuantitySubject(partnerA, messages.RoleAdminAgent, "C-Q3"), []byte(`{"subscription_id":"`+sub+`"}`), 2*time.Second)
	if !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("after shutdown: %v", err)
	}
}

func TestQuery_SubjectBuilders(t *testing.T) {
	s := messages.ReducibleQuantitySubject("P-1", messages.RoleSalesAgent, "C-1")
	if s != "csp.query.P-1.sales_agent.C-1.reducible_quantity" {
		t.Fatal(s)
	}
	r, err := messages.ParseQuerySubject(s)
	if err != nil || r != (messages.QueryRoute{PartnerID: "P-1", Role: messages.RoleSalesAgent, CustomerID: "C-1", Query: messages.QueryReducibleQuantity}) {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"csp.cmd.P-1.admin_agent.C-1.reducible_quantity", "csp.query.P-1.reducible_quantity", "csp.query.P*1.admin_agent.C-1.x", "csp.query.P-1.C-1.reducible_quantity", "csp.query.P-1.janitor.C-1.reducible_quantity"} {
		if _, err := messages.ParseQuerySubject(bad); err == nil || !strings.Contains(err.Error(), "subject") {
			t.Fatalf("%s parsed", bad)
		}
	}
}

// ROL-1 for queries: a role that may not manage subscriptions is refused.
func TestQuery_ROL_1_RoleMustBeAllowed(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	e.createCustomer(partnerA, "C-QR")
	sub := e.buy(partnerA, "C-QR", 3)
	msg, err := e.nc.Request(messages.ReducibleQuantitySubject(partnerA, messages.RoleGlobalAdmin, "C-QR"),
		[]byte(`{"subscription_id":"`+sub+`"}`), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var reply messages.QueryReply[messages.ReducibleQuantity]
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		t.Fatal(err)
	}
	if reply.Result != nil || reply.Error == nil || reply.Error.Code != "forbidden" || reply.Error.Rule != "ROL-1" {
		t.Fatalf("global admin asked: %+v %+v", reply.Result, reply.Error)
	}
}
