package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/state"
)

// ops calls an operator endpoint and decodes its answer into reply.
func (e *env) ops(subject string, req, reply any) error {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return messages.OperatorCall(ctx, e.nc, subject, req, reply)
}

// mustOps is ops that fails the test on an error.
func mustOps[T any](e *env, subject string, req any) T {
	e.t.Helper()
	var reply T
	if err := e.ops(subject, req, &reply); err != nil {
		e.t.Fatalf("%s: %v", subject, err)
	}
	return reply
}

// opsRefused calls an endpoint and checks that it answers the micro error
// status and code.
func (e *env) opsRefused(subject string, req any, status, code string) *messages.OperatorError {
	e.t.Helper()
	var raw []byte
	err := e.ops(subject, req, &raw)
	var oe *messages.OperatorError
	if !errors.As(err, &oe) || oe.Status != status || oe.Code != code || oe.Description == "" {
		e.t.Fatalf("%s %v: %v (%s), want a %s %s error", subject, req, err, raw, status, code)
	}
	return oe
}

// The operator service answers every endpoint from what the processor
// keeps, for every partner, and refuses bad requests specifically: a
// customer's state, subscriptions, reducible quantity, orders and export;
// pending timers (index and state); outbox entries; the partitions'
// consumers; the simulated clock; dead letters listed, shown and purged
// (purging only when confirmed). `nats micro info` finds its endpoints.
func TestOperatorServiceAnswersEveryEndpoint(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(&simulator.Clock{NC: e.nc}, now)

	const cust = "C-OPS"
	e.createCustomer(partnerA, cust)
	sub := e.buy(partnerA, cust, 3)

	// Discovery: micro's INFO lists every endpoint on its csp.ops subject.
	m, err := e.nc.Request("$SRV.INFO."+messages.OperatorServiceName, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(m.Data, &info); err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, ep := range info.Endpoints {
		subjects = append(subjects, ep.Subject)
	}
	slices.Sort(subjects)
	want := []string{messages.OpsSubjectClock, messages.OpsSubjectCustomer, messages.OpsSubjectDLQList, messages.OpsSubjectDLQPurge,
		messages.OpsSubjectDLQReplay, messages.OpsSubjectDLQShow, messages.OpsSubjectExport, messages.OpsSubjectOrders,
		messages.OpsSubjectOutbox, messages.OpsSubjectPartitions, messages.OpsSubjectReducible, messages.OpsSubjectSubscriptions,
		messages.OpsSubjectTimers}
	if info.Name != messages.OperatorServiceName || !slices.Equal(subjects, want) {
		t.Fatalf("service %s endpoints %v, want %v", info.Name, subjects, want)
	}

	who := messages.OpsCustomerRequest{CustomerID: cust}
	view := mustOps[operatorCustomer](e, messages.OpsSubjectCustomer, who)
	if view.CustomerID != cust || view.Version != 2 || view.Customer.PartnerID != partnerA || len(view.Subscriptions) != 1 ||
		view.Subscriptions[0].ID != sub || view.Subscriptions[0].Quantity != 3 || len(view.Timers) == 0 || len(view.DeadLettered) != 0 {
		t.Fatalf("customer %+v", view)
	}

	subs := mustOps[messages.OpsSubscriptions](e, messages.OpsSubjectSubscriptions, who)
	if len(subs.Subscriptions) != 1 || subs.Subscriptions[0].ID != sub || subs.Subscriptions[0].PartnerID != partnerA ||
		subs.Subscriptions[0].Quantity != 3 || subs.Subscriptions[0].Status != "active" || subs.Subscriptions[0].OfferID != offerBasic {
		t.Fatalf("subscriptions %+v", subs)
	}
	red := mustOps[messages.ReducibleQuantity](e, messages.OpsSubjectReducible, messages.OpsReducibleRequest{CustomerID: cust, SubscriptionID: sub})
	if red.Total != 3 || red.Quantity != 3 || !red.AsOf.Equal(now) {
		t.Fatalf("reducible %+v", red)
	}
	orders := mustOps[messages.OrderHistory](e, messages.OpsSubjectOrders, messages.OpsOrdersRequest{CustomerID: cust})
	if len(orders.Orders) != 1 || orders.Orders[0].Status != "completed" || orders.Orders[0].Lines[0].SubscriptionID != sub {
		t.Fatalf("orders %+v", orders)
	}
	csv := mustOps[messages.SubscriptionsCSV](e, messages.OpsSubjectExport, who)
	if !strings.HasPrefix(csv.CSV, strings.Join(ExportColumns, ",")+"\r\n") || !strings.Contains(csv.CSV, sub+",") {
		t.Fatalf("export %q", csv.CSV)
	}

	// Timers: the customer's from its state, and the same ones in the index.
	own := mustOps[messages.OpsTimers](e, messages.OpsSubjectTimers, messages.OpsTimersRequest{CustomerID: cust})
	if own.Source != "state" || len(own.Timers) != len(view.Timers) {
		t.Fatalf("the customer's timers %+v, its state has %d", own, len(view.Timers))
	}
	index := mustOps[messages.OpsTimers](e, messages.OpsSubjectTimers, messages.OpsTimersRequest{Limit: 1000})
	for _, want := range own.Timers {
		if !slices.ContainsFunc(index.Timers, func(t messages.OpsTimer) bool { return t.TimerID == want.TimerID && t.CustomerID == cust }) {
			t.Fatalf("timer %s of the state is not in the index answer %+v", want.TimerID, index.Timers)
		}
	}
	first := mustOps[messages.OpsTimers](e, messages.OpsSubjectTimers, messages.OpsTimersRequest{Limit: 1})
	if len(first.Timers) != 1 || !first.Truncated || !first.Timers[0].DueAt.Equal(index.Timers[0].DueAt) {
		t.Fatalf("the earliest timer %+v, of %+v", first, index.Timers)
	}
	if early := mustOps[messages.OpsTimers](e, messages.OpsSubjectTimers, messages.OpsTimersRequest{Before: now.Format(time.RFC3339)}); len(early.Timers) != 0 {
		t.Fatalf("timers due before now: %+v", early.Timers)
	}

	// Outbox: an event committed and never published (as after a crash
	// between the commit and the publish).
	stuck := state.OutboxEntry{ID: "evt-stuck", Subject: messages.EventSubject(partnerA, "C-STUCK", messages.EvtCustomerCreated), Data: []byte(`{}`)}
	if _, err := e.store.Commit(context.Background(), state.Commit{CustomerID: "C-STUCK", CommandID: "stuck-1", Result: []byte(`{}`),
		Events: []state.OutboxEntry{stuck}, At: now, WrittenAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	box := mustOps[messages.OpsOutbox](e, messages.OpsSubjectOutbox, messages.OpsOutboxRequest{})
	if box.Customers != 1 || len(box.Entries) != 1 || box.Entries[0].EventID != "evt-stuck" || box.Entries[0].CustomerID != "C-STUCK" ||
		box.Entries[0].Subject != stuck.Subject || box.Entries[0].Bytes != 2 {
		t.Fatalf("outbox %+v", box)
	}
	if one := mustOps[messages.OpsOutbox](e, messages.OpsSubjectOutbox, messages.OpsOutboxRequest{CustomerID: cust}); len(one.Entries) != 0 {
		t.Fatalf("%s's outbox: %+v", cust, one)
	}

	parts := mustOps[messages.OpsPartitions](e, messages.OpsSubjectPartitions, struct{}{})
	if parts.Partitions != 8 || len(parts.Consumers) != 8 || parts.Ownership != "static" || parts.Consumers[7].LastSlot != 1023 {
		t.Fatalf("partitions %+v", parts)
	}
	for _, p := range parts.Consumers {
		if p.Error != "" || p.Waiting == 0 || p.Unacked != 0 {
			t.Fatalf("partition %+v: want a consumer being pulled with nothing unacked", p)
		}
	}
	if clock := mustOps[messages.OpsClock](e, messages.OpsSubjectClock, struct{}{}); !clock.Set || !clock.Now.Equal(now) {
		t.Fatalf("clock %+v, want %s", clock, now)
	}

	// Dead letters: a malformed command is listed and shown, not
	// replayable, and purged only when confirmed.
	if dl := mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{}); len(dl.DeadLetters) != 0 {
		t.Fatalf("dead letters before any: %+v", dl)
	}
	watch := e.watchDeadLetters()
	ack, err := e.js.PublishMsg(context.Background(), &nats.Msg{Subject: messages.CommandSubject(partnerA, messages.RoleAdminAgent, cust,
		messages.CmdSubscriptionSuspend), Data: []byte(`{"id":`)})
	if err != nil {
		t.Fatal(err)
	}
	watch.await(t, ack.Sequence)
	list := mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{})
	if len(list.DeadLetters) != 1 || list.Next != 0 {
		t.Fatalf("dead letters %+v", list)
	}
	letter := list.DeadLetters[0]
	if letter.Code != messages.CodeMalformed || letter.CustomerID != cust || letter.PartnerID != partnerA ||
		letter.CommandType != string(messages.CmdSubscriptionSuspend) || letter.CommandID != "" || letter.Reason == "" {
		t.Fatalf("dead letter %+v", letter)
	}
	if other := mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{Code: messages.CodeInternalError}); len(other.DeadLetters) != 0 {
		t.Fatalf("internal_error dead letters: %+v", other)
	}
	shown := mustOps[messages.DeadLetterDetail](e, messages.OpsSubjectDLQShow, messages.DeadLetterRequest{Seq: letter.Seq})
	if shown.Body != `{"id":` || shown.Replayable || !strings.Contains(shown.NotReplayable, "does not decode") ||
		shown.Headers["Csp-Dlq-Code"][0] != messages.CodeMalformed {
		t.Fatalf("dead letter shown %+v", shown)
	}
	e.opsRefused(messages.OpsSubjectDLQReplay, messages.DeadLetterRequest{Seq: letter.Seq}, "409", "not_replayable")
	e.opsRefused(messages.OpsSubjectDLQPurge, messages.DeadLetterPurgeRequest{Seq: letter.Seq}, "400", "confirmation_required")
	e.opsRefused(messages.OpsSubjectDLQPurge, messages.DeadLetterPurgeRequest{OlderThan: time.Now().Add(time.Hour).Format(time.RFC3339)},
		"400", "confirmation_required")
	if again := mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{}); len(again.DeadLetters) != 1 {
		t.Fatalf("an unconfirmed purge removed something: %+v", again)
	}
	if p := mustOps[messages.DeadLetterPurge](e, messages.OpsSubjectDLQPurge, messages.DeadLetterPurgeRequest{Seq: letter.Seq, Confirm: true}); p.Purged != 1 {
		t.Fatalf("purge %+v", p)
	}
	e.opsRefused(messages.OpsSubjectDLQShow, messages.DeadLetterRequest{Seq: letter.Seq}, "404", "not_found")

	// Bad requests are refused specifically and change nothing.
	e.opsRefused(messages.OpsSubjectCustomer, messages.OpsCustomerRequest{CustomerID: "C-NOBODY"}, "404", "not_found")
	e.opsRefused(messages.OpsSubjectCustomer, messages.OpsCustomerRequest{CustomerID: "C 1"}, "400", "invalid_request")
	e.opsRefused(messages.OpsSubjectCustomer, map[string]string{"customer": cust}, "400", "invalid_request")
	e.opsRefused(messages.OpsSubjectReducible, messages.OpsReducibleRequest{CustomerID: cust, SubscriptionID: "sub-nope"}, "404", "subscription_not_found")
	e.opsRefused(messages.OpsSubjectOrders, messages.OpsOrdersRequest{CustomerID: cust, From: "yesterday"}, "400", "invalid_field")
	e.opsRefused(messages.OpsSubjectTimers, messages.OpsTimersRequest{Limit: 5000}, "400", "invalid_request")
	e.opsRefused(messages.OpsSubjectDLQShow, messages.DeadLetterRequest{}, "400", "invalid_request")
	e.opsRefused(messages.OpsSubjectDLQPurge, messages.DeadLetterPurgeRequest{Seq: 1, OlderThan: "2026-01-01T00:00:00Z", Confirm: true}, "400", "invalid_request")
}

// A customer whose stored state does not decode is shown to the operator
// with the decoder's error (the partner gets only "unavailable"); on a
// processor not in simulation mode the clock endpoint says there is none;
// a dead letter of a command that failed is not replayed within the
// command stream's duplicate window, where JetStream would drop it as the
// original; and a replay that fails again is dead-lettered again.
func TestOperatorServiceNamesBrokenStateAndRefusesEarlyReplays(t *testing.T) {
	e := newEnv(t, 1)
	e.fastRetries()
	e.startProcessor()
	const cust = "C-OPS-BROKEN"
	e.createCustomer(partnerA, cust)
	sub := e.buy(partnerA, cust, 2)
	e.corrupt(cust, "sub:"+sub)

	oe := e.opsRefused(messages.OpsSubjectCustomer, messages.OpsCustomerRequest{CustomerID: cust}, "500", "state_undecodable")
	if !strings.Contains(oe.Description, cust) {
		t.Fatalf("the error does not name the customer: %s", oe.Description)
	}
	e.opsRefused(messages.OpsSubjectClock, struct{}{}, "409", "not_simulated")

	watch := e.watchDeadLetters()
	seq, err := e.up.Send(context.Background(), partnerA, messages.Command{ID: nextID("suspend"), Type: messages.CmdSubscriptionSuspend,
		CustomerID: cust, Data: &messages.SuspendData{SubscriptionID: sub, Reason: "fraud"}})
	if err != nil {
		t.Fatal(err)
	}
	watch.await(t, seq)
	list := mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{Code: messages.CodeInternalError})
	if len(list.DeadLetters) != 1 || list.DeadLetters[0].Attempts != DefaultMaxAttempts {
		t.Fatalf("dead letters %+v", list)
	}
	first := list.DeadLetters[0].Seq
	oe = e.opsRefused(messages.OpsSubjectDLQReplay, messages.DeadLetterRequest{Seq: first}, "409", "duplicate_window")
	if !strings.Contains(oe.Description, "replay after") {
		t.Fatalf("the refusal does not say when: %s", oe.Description)
	}

	// Replayed past the window while the state is still broken, the
	// command fails again: it gets its attempts and a dead letter of its
	// own, instead of being acked as a command set aside before.
	shortenDuplicateWindow(t, e, bus.DefaultCommandStream)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// JetStream forgets a message ID on its own schedule after the window:
	// until it has, the publish is answered duplicate and nothing is
	// stored, so the operator asks again.
	var replay messages.DeadLetterReplay
	if err := waitFor(ctx, func() bool {
		err := e.ops(messages.OpsSubjectDLQReplay, messages.DeadLetterRequest{Seq: first}, &replay)
		var oe *messages.OperatorError
		if err != nil && (!errors.As(err, &oe) || oe.Code != "duplicate_window") {
			t.Fatalf("replay: %v", err)
		}
		return err == nil && replay.Outcome != messages.ReplayDuplicate
	}); err != nil {
		t.Fatal(err)
	}
	if replay.Outcome != messages.ReplayPublished || replay.StreamSeq == 0 {
		t.Fatalf("replay %+v", replay)
	}
	again := watch.await(t, replay.StreamSeq)
	if again.code != messages.CodeInternalError || again.attempts != strconv.Itoa(DefaultMaxAttempts) {
		t.Fatalf("the failed replay's dead letter: code %q attempts %q", again.code, again.attempts)
	}

	// Two dead letters of the command now, a page of one at a time.
	page := mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{Limit: 1})
	if len(page.DeadLetters) != 1 || page.DeadLetters[0].Seq != first || page.Next != first {
		t.Fatalf("first page %+v", page)
	}
	page = mustOps[messages.DeadLetterList](e, messages.OpsSubjectDLQList, messages.DeadLetterListRequest{After: page.Next, Limit: 1})
	if len(page.DeadLetters) != 1 || page.DeadLetters[0].Seq <= first || page.Next != 0 ||
		page.DeadLetters[0].CommandID != list.DeadLetters[0].CommandID {
		t.Fatalf("second page %+v", page)
	}
}
