package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

// site is a processor running in this process against an embedded NATS
// server and a private redis-server (simulator/stack), with one command
// partition, and what the tests drive it with.
type site struct {
	t      *testing.T
	st     *stack.Stack
	up     *simulator.Upstream
	events *simulator.Watcher
}

func startSite(t *testing.T) *site {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{Processor: stack.InProcess, Partitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("stopping the stack: %v", err)
		}
	})
	events, err := simulator.WatchEvents(context.Background(), st.JS, bus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(events.Stop)
	return &site{t: t, st: st, up: &simulator.Upstream{JS: st.JS}, events: events}
}

// cspctl runs the command line against the site and returns its exit code
// and output.
func (s *site) cspctl(args ...string) (code int, stdout, stderr string) {
	s.t.Helper()
	env := map[string]string{"NATS_URL": s.st.NC.ConnectedUrl()}
	var out, errs bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errs)
	return code, out.String(), errs.String()
}

// mustCspctl runs the command line and fails the test unless it exits 0.
func (s *site) mustCspctl(args ...string) string {
	s.t.Helper()
	code, out, errs := s.cspctl(args...)
	if code != exitOK {
		s.t.Fatalf("cspctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// waitUntil calls ok until it reports true, failing the test after 30 s.
func (s *site) waitUntil(what string, ok func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		if time.Now().After(deadline) {
			s.t.Fatalf("not within 30 s: %s", what)
		}
		<-tick.C
	}
}

// send publishes a command and returns it.
func (s *site) send(partner, customer string, typ messages.CommandType, id string, data any) messages.Command {
	s.t.Helper()
	cmd := messages.Command{ID: id, Type: typ, CustomerID: customer, Data: data}
	if _, err := s.up.Send(context.Background(), partner, cmd); err != nil {
		s.t.Fatal(err)
	}
	return cmd
}

// eventsOf waits until the command's events include one of type last and
// returns them all.
func (s *site) eventsOf(cmd messages.Command, last messages.EventType) []messages.Event {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []messages.Event
	if err := s.events.WaitFor(ctx, func(evs []messages.Event) bool {
		got = got[:0]
		done := false
		for _, ev := range evs {
			if ev.CommandID == cmd.ID && ev.CustomerID == cmd.CustomerID {
				got = append(got, ev)
				done = done || ev.Type == last
			}
		}
		return done
	}); err != nil {
		s.t.Fatalf("command %s: no %s event: %v", cmd.ID, last, err)
	}
	return append([]messages.Event(nil), got...)
}

// consumerCaughtUp waits until the command partition's consumer has acked
// every command up to seq.
func (s *site) consumerCaughtUp(seq uint64) {
	s.t.Helper()
	name := bus.ConsumerName(bus.DefaultConsumerPrefix, 0, 1)
	s.waitUntil(fmt.Sprintf("command %d acked", seq), func() bool {
		c, err := s.st.JS.Consumer(context.Background(), bus.DefaultCommandStream, name)
		if err != nil {
			return false
		}
		info := c.CachedInfo()
		return info.AckFloor.Stream >= seq && info.NumAckPending == 0
	})
}

// The headline: a command the processor cannot apply (its customer's
// stored subscription damaged) is dead-lettered after its attempts; the
// operator sees it with cspctl, repairs the record, replays the dead letter
// with cspctl, and the command's events appear exactly once. Replaying it
// again publishes nothing, and even the replay published once more past
// cspctl's checks changes nothing: the inbox drops it.
func TestReplayAppliesADeadLetteredCommandOnceAfterTheFaultIsFixed(t *testing.T) {
	s := startSite(t)
	ctx := context.Background()
	// JetStream would drop a replay within its duplicate window of the
	// original (2 minutes); shorten it as an operator could, so the test
	// need not wait that long.
	cmds, err := s.st.JS.Stream(ctx, bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := cmds.CachedInfo().Config
	cfg.Duplicates = 200 * time.Millisecond
	if _, err := s.st.JS.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	const partner, cust = "P-OPS", "C-REPLAY"
	s.eventsOf(s.send(partner, cust, messages.CmdCustomerCreated, "create-1", &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}), messages.EvtCustomerCreated)
	qty := 4
	order := s.eventsOf(s.send(partner, cust, messages.CmdOrderPlaced, "order-1", &messages.OrderPlacedData{OrderID: "O-1",
		Lines: []messages.OrderLine{{LineID: "L1", OfferID: "CFQ7TTC0LH18:0001", Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}}),
		messages.EvtOrderProcessed)
	sub := order[len(order)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID

	// The fault: the subscription's stored record is damaged (the version
	// bumped, so no cached copy is used).
	key, field := "csp:{"+cust+"}:state", "sub:"+sub
	record, err := s.st.Redis.HGet(ctx, key, field).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.st.Redis.HSet(ctx, key, field, "\x00 damaged").Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.st.Redis.HIncrBy(ctx, key, "v", 1).Err(); err != nil {
		t.Fatal(err)
	}
	suspend := s.send(partner, cust, messages.CmdSubscriptionSuspend, "suspend-1", &messages.SuspendData{SubscriptionID: sub, Reason: "fraud"})
	rejected := s.eventsOf(suspend, messages.EvtCommandRejected)
	if len(rejected) != 1 || rejected[0].Data.(*messages.CommandRejectedEvent).Code != messages.CodeInternalError {
		t.Fatalf("the failing command's events: %+v", rejected)
	}

	// cspctl lists the dead letter with its command set aside.
	var letter messages.DeadLetterSummary
	s.waitUntil("the dead letter listed as set aside", func() bool {
		var page messages.DeadLetterList
		out := s.mustCspctl("-json", "dlq", "list", "-code", messages.CodeInternalError)
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatalf("dlq list -json: %v\n%s", err, out)
		}
		for _, d := range page.DeadLetters {
			if d.CommandID == suspend.ID && d.CommandStatus == messages.DeadCommandSetAside {
				letter = d
				return true
			}
		}
		return false
	})
	if letter.CustomerID != cust || letter.PartnerID != partner || letter.Attempts < 1 || !strings.Contains(letter.Reason, cust) {
		t.Fatalf("dead letter %+v", letter)
	}
	seq := strconv.FormatUint(letter.Seq, 10)
	if out := s.mustCspctl("dlq", "list"); !strings.Contains(out, seq) || !strings.Contains(out, "set_aside") {
		t.Fatalf("dlq list:\n%s", out)
	}
	if code, _, errs := s.cspctl("customer", cust); code != exitError || !strings.Contains(errs, "state_undecodable") {
		t.Fatalf("customer with a damaged record: exit %d, %s", code, errs)
	}

	// The operator repairs the record and replays the dead letter.
	if err := s.st.Redis.HSet(ctx, key, field, record).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.st.Redis.HIncrBy(ctx, key, "v", 1).Err(); err != nil {
		t.Fatal(err)
	}
	var replayed string
	s.waitUntil("the replay accepted past the original's duplicate window", func() bool {
		code, out, errs := s.cspctl("dlq", "replay", seq)
		if code != exitOK && !strings.Contains(errs, "duplicate_window") {
			t.Fatalf("dlq replay %s: exit %d\n%s%s", seq, code, out, errs)
		}
		replayed = out
		return code == exitOK
	})
	if !strings.Contains(replayed, "published") || !strings.Contains(replayed, "Nats-Msg-Id "+messages.CommandMsgID(cust, suspend.ID)) {
		t.Fatalf("dlq replay:\n%s", replayed)
	}
	evs := s.eventsOf(suspend, messages.EvtSubscriptionSuspended)
	if n := countType(evs, messages.EvtSubscriptionSuspended); n != 1 {
		t.Fatalf("%d subscription.suspended events for the replayed command", n)
	}

	// Replayed again: nothing is published.
	if out := s.mustCspctl("dlq", "replay", seq); !strings.Contains(out, "already applied") {
		t.Fatalf("second replay:\n%s", out)
	}
	// Published once more anyway (two operators replaying at once): within
	// the duplicate window JetStream drops it, after it the command stream
	// stores it and the processor's inbox drops it.
	m, err := bus.DeadLetters{JS: s.st.JS, Stream: bus.DefaultDeadLetterStream}.Get(ctx, letter.Seq)
	if err != nil {
		t.Fatal(err)
	}
	r, err := bus.ReplayOf(m)
	if err != nil {
		t.Fatal(err)
	}
	var stored uint64
	s.waitUntil("the replay stored again past the duplicate window", func() bool {
		ack, err := s.st.JS.PublishMsg(ctx, r.Msg)
		if err != nil {
			t.Fatalf("publishing the replay again: %v", err)
		}
		stored = ack.Sequence
		return !ack.Duplicate
	})
	s.consumerCaughtUp(stored)
	after := s.eventsOf(suspend, messages.EvtSubscriptionSuspended)
	if len(after) != 2 || countType(after, messages.EvtSubscriptionSuspended) != 1 || s.events.Duplicates() != 0 {
		t.Fatalf("after replaying twice and publishing again: %d events of the command (%d delivered twice), want the rejection and one suspension",
			len(after), s.events.Duplicates())
	}

	if out := s.mustCspctl("dlq", "show", seq); !strings.Contains(out, "command status:   applied") {
		t.Fatalf("dlq show:\n%s", out)
	}
	if out := s.mustCspctl("subscriptions", cust); !strings.Contains(out, sub) || !strings.Contains(out, "suspended") {
		t.Fatalf("subscriptions:\n%s", out)
	}
	var view struct {
		DeadLettered map[string]time.Time `json:"dead_lettered"`
	}
	if err := json.Unmarshal([]byte(s.mustCspctl("customer", cust)), &view); err != nil || len(view.DeadLettered) != 0 {
		t.Fatalf("customer after the replay: %+v %v", view, err)
	}

	// Purged only with -yes.
	if code, _, errs := s.cspctl("dlq", "purge", seq); code != exitError || !strings.Contains(errs, "confirmation_required") {
		t.Fatalf("purge without -yes: exit %d, %s", code, errs)
	}
	if out := s.mustCspctl("dlq", "purge", "-yes", seq); !strings.Contains(out, "removed 1 dead letter\n") {
		t.Fatalf("purge -yes:\n%s", out)
	}
	if code, _, errs := s.cspctl("dlq", "show", seq); code != exitError || !strings.Contains(errs, "not_found") {
		t.Fatalf("show after the purge: exit %d, %s", code, errs)
	}
}

// countType counts the events of one type.
func countType(evs []messages.Event, typ messages.EventType) int {
	return len(slices.DeleteFunc(slices.Clone(evs), func(ev messages.Event) bool { return ev.Type != typ }))
}
