package bus_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// payload of a test command: "<customer>:<n>", n counting per customer.
func cmdPayload(customer string, n int) string { return customer + ":" + strconv.Itoa(n) }

func parsePayload(t testing.TB, m *message.Message) (string, int) {
	customer, n, ok := strings.Cut(string(m.Payload), ":")
	if !ok {
		t.Errorf("payload %q", m.Payload)
		return "", 0
	}
	i, err := strconv.Atoi(n)
	if err != nil {
		t.Errorf("payload %q", m.Payload)
	}
	return customer, i
}

func TestSubscriberMessageMetadata(t *testing.T) {
	e := newEnv(t, 8)
	ctx := ctxT(t)
	msgID := "order-42"
	ack, err := e.js.PublishMsg(ctx, natsMsg("csp.cmd.P1.admin_agent.C1.order.placed", `{"x":1}`, map[string]string{
		"Nats-Msg-Id":   msgID,
		"Trace-Id":      "abc",
		bus.MetaSubject: "csp.evt.forged", // a sender cannot set the metadata
		"Csp-Timestamp": "2001-01-01T00:00:00Z",
		bus.MetaAttempt: "99",
	}))
	if err != nil {
		t.Fatal(err)
	}
	stream, _ := e.js.Stream(ctx, e.streams.CommandStream)
	stored, err := stream.GetMsg(ctx, ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}

	sub := e.subscriber(t, e.js, bus.SubscriberConfig{})
	ch, err := sub.Subscribe(ctx, "commands")
	if err != nil {
		t.Fatal(err)
	}
	m := receive(t, ch, 10*time.Second)
	p := bus.PartitionOf("C1", 8)
	want := map[string]string{
		bus.MetaSubject:      fmt.Sprintf("csp.cmdp.%d.P1.admin_agent.C1.order.placed", bus.SlotOf("C1")),
		bus.MetaStream:       "CSP_COMMANDS",
		bus.MetaStreamSeq:    strconv.FormatUint(ack.Sequence, 10),
		bus.MetaTimestamp:    stored.Time.UTC().Format(time.RFC3339Nano),
		bus.MetaNumDelivered: "1",
		bus.MetaPartition:    strconv.Itoa(p),
		bus.MetaAttempt:      "1",
		"Nats-Msg-Id":        msgID,
		"Trace-Id":           "abc",
	}
	if m.UUID != fmt.Sprintf("CSP_COMMANDS:%d", ack.Sequence) {
		t.Errorf("UUID %q", m.UUID)
	}
	if string(m.Payload) != `{"x":1}` {
		t.Errorf("payload %q", m.Payload)
	}
	for k, v := range want {
		if got := m.Metadata.Get(k); got != v {
			t.Errorf("metadata %s = %q, want %q", k, got, v)
		}
	}
	ts, err := time.Parse(time.RFC3339Nano, m.Metadata.Get(bus.MetaTimestamp))
	if err != nil || !ts.Equal(stored.Time) {
		t.Errorf("timestamp %v (%v), stored %v", ts, err, stored.Time)
	}
	route, err := messages.ParseStoredCommandSubject(m.Metadata.Get(bus.MetaSubject))
	if err != nil || route.Slot != bus.SlotOf("C1") || route.Type != "order.placed" {
		t.Errorf("route %+v, %v", route, err)
	}
	m.Ack()
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if info := e.consumerInfo(t, "processor", p); info.AckFloor.Stream != ack.Sequence {
			return fmt.Errorf("ack floor %d", info.AckFloor.Stream)
		}
		return nil
	})
}

// 500 commands of 20 customers through a watermill router on 8 partitions:
// every customer's commands are handled in publish order, and partitions
// are handled concurrently.
func TestRouterHandlesEachCustomerInPublishOrder(t *testing.T) {
	const partitions, customers, commands = 8, 20, 500
	e := newEnv(t, partitions)

	// 20 customers spread over at least 2 partitions.
	var ids []string
	used := map[int]bool{}
	for i := 0; i < customers; i++ {
		c := fmt.Sprintf("cust%02d", i)
		ids = append(ids, c)
		used[bus.PartitionOf(c, partitions)] = true
	}
	if len(used) < 2 {
		t.Fatalf("customers fall into %d partition(s)", len(used))
	}
	next := map[string]int{}
	types := []string{"order.placed", "subscription.suspend", "subscription.autorenew.set"}
	for i := 0; i < commands; i++ {
		c := ids[(i*7+i/3)%customers]
		next[c]++
		e.publishCommand(t, "P1", c, types[i%len(types)], cmdPayload(c, next[c]))
	}

	rec := newRecorder()
	var inFlight, maxInFlight, gated atomic.Int32
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{})
	runRouter(t, sub, func(m *message.Message) error {
		cur := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			old := maxInFlight.Load()
			if cur <= old || maxInFlight.CompareAndSwap(old, cur) {
				break
			}
		}
		// The first handler blocks its partition until another handler
		// started while it was in flight: possible only if two partitions
		// run concurrently (one partition never has two in flight).
		if gated.Add(1) == 1 {
			deadline := time.Now().Add(10 * time.Second)
			for maxInFlight.Load() < 2 {
				if time.Now().After(deadline) {
					t.Error("a second partition never ran while the first was in flight")
					break
				}
				runtimeYield()
			}
		}
		customer, n := parsePayload(t, m)
		rec.add(customer, n)
		return nil
	})

	checkFor(t, 60*time.Second, 20*time.Millisecond, rec.waitCount(commands))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.n != commands {
		t.Errorf("handled %d commands, published %d", rec.n, commands)
	}
	for _, c := range ids {
		got := rec.seen[c]
		if len(got) != next[c] {
			t.Errorf("%s: handled %d, published %d", c, len(got), next[c])
		}
		for i, n := range got {
			if n != i+1 {
				t.Errorf("%s: handled order %v", c, got)
				break
			}
		}
	}
	if maxInFlight.Load() < 2 {
		t.Errorf("at most %d handler in flight", maxInFlight.Load())
	}
}

// runtimeYield gives other goroutines a moment without sleeping a fixed
// time.
func runtimeYield() {
	t := time.NewTimer(time.Millisecond)
	<-t.C
}

// Two processor replicas on their own connections consume the same
// consumers with MaxInFlight 1 (the only way static replicas may overlap):
// each customer's commands are still handled in publish order.
func TestTwoReplicasKeepCustomerOrder(t *testing.T) {
	const partitions, customers, commands = 4, 10, 300
	e := newEnv(t, partitions)
	next := map[string]int{}
	for i := 0; i < commands; i++ {
		c := fmt.Sprintf("c%d", i%customers)
		next[c]++
		e.publishCommand(t, "P1", c, "subscription.renew", cmdPayload(c, next[c]))
	}
	rec := newRecorder()
	var perReplica [2]atomic.Int32
	for r := 0; r < 2; r++ {
		_, js := natstest.Connect(t, e.srv)
		sub := e.subscriber(t, js, bus.SubscriberConfig{MaxInFlight: 1})
		runRouter(t, sub, func(m *message.Message) error {
			perReplica[r].Add(1)
			customer, n := parsePayload(t, m)
			rec.add(customer, n)
			return nil
		})
	}
	checkFor(t, 60*time.Second, 20*time.Millisecond, rec.waitCount(commands))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for c, got := range rec.seen {
		for i, n := range got {
			if n != i+1 {
				t.Errorf("%s: handled order %v", c, got)
				break
			}
		}
	}
	if rec.n != commands {
		t.Errorf("handled %d, published %d", rec.n, commands)
	}
	t.Logf("replica 1 handled %d, replica 2 handled %d", perReplica[0].Load(), perReplica[1].Load())
}

// A handler error makes the router Nack: the subscriber hands the same
// command over again in process, and the customer's next command waits
// until it is acked; another customer of the partition does not wait.
func TestNackRetriesInProcessAndKeepsOrder(t *testing.T) {
	const partitions = 4
	e := newEnv(t, partitions)
	cs := customersInPartition(2, partitions, 2) // two customers sharing partition 2
	seqs := []uint64{
		e.publishCommand(t, "P1", cs[0], "order.placed", cmdPayload(cs[0], 1)),
		e.publishCommand(t, "P1", cs[1], "order.placed", cmdPayload(cs[1], 1)),
		e.publishCommand(t, "P1", cs[0], "subscription.cancel", cmdPayload(cs[0], 2)),
	}

	type attempt struct {
		uuid, delivered, payload string
	}
	var mu sync.Mutex
	var attempts []attempt
	failures := 0
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{Partitions: []int{2}})
	runRouter(t, sub, func(m *message.Message) error {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, attempt{m.UUID, m.Metadata.Get(bus.MetaNumDelivered), string(m.Payload)})
		if m.UUID == fmt.Sprintf("CSP_COMMANDS:%d", seqs[0]) && failures < 3 {
			failures++
			m.Payload = []byte("changed by the handler") // must not leak into the retry
			return errors.New("transient failure")
		}
		return nil
	})
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(attempts) < 6 {
			return fmt.Errorf("%d attempts", len(attempts))
		}
		return nil
	})
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 6 {
		t.Fatalf("attempts %+v", attempts)
	}
	// cs[0]: four attempts of its first command, then its second.
	var first []attempt
	other := -1
	for i, a := range attempts {
		if a.delivered != "1" {
			t.Errorf("attempt %d: %+v, want every command delivered once by the server", i+1, a)
		}
		if a.uuid == fmt.Sprintf("CSP_COMMANDS:%d", seqs[1]) {
			other = i
			continue
		}
		first = append(first, a)
	}
	want := []uint64{seqs[0], seqs[0], seqs[0], seqs[0], seqs[2]}
	for i, a := range first {
		if a.uuid != fmt.Sprintf("CSP_COMMANDS:%d", want[i]) {
			t.Errorf("%s's attempt %d: %s, want command %d", cs[0], i+1, a.uuid, want[i])
		}
		if i < 4 && a.payload != cmdPayload(cs[0], 1) {
			t.Errorf("attempt %d payload %q", i+1, a.payload)
		}
	}
	// The other customer's command did not wait for the retries.
	if other < 0 || other > 3 {
		t.Errorf("%s's command was attempt %d of %+v; it should not wait behind %s's retries", cs[1], other+1, attempts, cs[0])
	}
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		info := e.consumerInfo(t, "processor", 2)
		if info.AckFloor.Stream != seqs[2] {
			return fmt.Errorf("ack floor %d", info.AckFloor.Stream)
		}
		if info.NumRedelivered != 0 {
			return fmt.Errorf("server redelivered %d", info.NumRedelivered)
		}
		return nil
	})
}

// While a command is with the handler, or waiting for an in-process retry,
// longer than AckWait, "in progress" keeps the server from redelivering it,
// and the customer's next command, held back meanwhile, too.
func TestInProgressPreventsRedelivery(t *testing.T) {
	const partitions = 2
	const ackWait = 600 * time.Millisecond
	e := newEnv(t, partitions)
	customer := customersInPartition(0, partitions, 1)[0]
	first := e.publishCommand(t, "P1", customer, "order.placed", cmdPayload(customer, 1))
	second := e.publishCommand(t, "P1", customer, "order.placed", cmdPayload(customer, 2))

	sub := e.subscriber(t, e.js, bus.SubscriberConfig{
		Partitions:           []int{0},
		AckWait:              ackWait,
		RetryInitialInterval: 2 * ackWait,
		RetryMaxInterval:     2 * ackWait,
	})
	ch, err := sub.Subscribe(ctxT(t), "commands")
	if err != nil {
		t.Fatal(err)
	}

	// Held by the handler for 4 x AckWait.
	m := receive(t, ch, 10*time.Second)
	if m.UUID != fmt.Sprintf("CSP_COMMANDS:%d", first) {
		t.Fatalf("first message %s", m.UUID)
	}
	hold := time.NewTimer(4 * ackWait)
	select {
	case other := <-ch:
		t.Fatalf("got %s while the first command was with the handler", other.UUID)
	case <-hold.C:
	}
	// Nacked: the retry comes after a backoff longer than AckWait.
	m.Nack()
	m = receive(t, ch, 10*time.Second)
	if m.UUID != fmt.Sprintf("CSP_COMMANDS:%d", first) || m.Metadata.Get(bus.MetaNumDelivered) != "1" {
		t.Fatalf("retry: %s delivered %s", m.UUID, m.Metadata.Get(bus.MetaNumDelivered))
	}
	if got := bus.Attempts(m); m.Metadata.Get(bus.MetaAttempt) != "2" || got != 2 {
		t.Fatalf("retry: attempt %q, Attempts %d, want 2", m.Metadata.Get(bus.MetaAttempt), got)
	}
	if info := e.consumerInfo(t, "processor", 0); info.NumRedelivered != 0 || info.NumAckPending != 2 {
		t.Fatalf("server redelivered %d, %d pending", info.NumRedelivered, info.NumAckPending)
	}
	m.Ack()
	m = receive(t, ch, 10*time.Second)
	if m.UUID != fmt.Sprintf("CSP_COMMANDS:%d", second) || m.Metadata.Get(bus.MetaNumDelivered) != "1" {
		t.Fatalf("next: %s delivered %s", m.UUID, m.Metadata.Get(bus.MetaNumDelivered))
	}
	m.Ack()
}

// A processor dies with commands in flight: the next processor waits for
// them (AckWait) and gets them again (same stream sequences) before any
// later command of their customers (G3).
func TestCrashedProcessorsCommandIsRedeliveredFirst(t *testing.T) {
	const partitions = 4
	e := newEnv(t, partitions)
	cs := customersInPartition(1, partitions, 2)
	var seqs []uint64
	for i := 0; i < 3; i++ {
		c := cs[i%2]
		seqs = append(seqs, e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, i)))
	}
	cfg := bus.SubscriberConfig{Partitions: []int{1}, AckWait: time.Second, ShutdownTimeout: 200 * time.Millisecond}

	ncA, jsA := natstest.Connect(t, e.srv)
	subA := e.subscriber(t, jsA, cfg)
	chA, err := subA.Subscribe(ctxT(t), "commands")
	if err != nil {
		t.Fatal(err)
	}
	// A holds both customers' first commands; cs[0]'s second waits.
	got := map[string]bool{}
	for range 2 {
		got[receive(t, chA, 10*time.Second).UUID] = true
	}
	if !got[fmt.Sprintf("CSP_COMMANDS:%d", seqs[0])] || !got[fmt.Sprintf("CSP_COMMANDS:%d", seqs[1])] {
		t.Fatalf("A got %v first", got)
	}
	// A dies: connection gone, never acks.
	ncA.Close()
	if err := subA.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, chA, 5*time.Second)

	_, jsB := natstest.Connect(t, e.srv)
	subB := e.subscriber(t, jsB, cfg)
	chB, err := subB.Subscribe(ctxT(t), "commands")
	if err != nil {
		t.Fatal(err)
	}
	// Both redeliveries first (handed at once: two customers), then the
	// later command of cs[0].
	redelivered := map[string]string{}
	var ms []*message.Message
	for range 2 {
		m := receive(t, chB, 10*time.Second)
		redelivered[m.UUID] = m.Metadata.Get(bus.MetaNumDelivered)
		ms = append(ms, m)
	}
	for _, seq := range seqs[:2] {
		if d := redelivered[fmt.Sprintf("CSP_COMMANDS:%d", seq)]; d != "2" {
			t.Errorf("B's first messages %v: want stream sequence %d delivered twice", redelivered, seq)
		}
	}
	select {
	case m := <-chB:
		t.Fatalf("B got %s before acking the redeliveries", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
	for _, m := range ms {
		m.Ack()
	}
	// A may have held it too, behind cs[0]'s first (then this is its
	// second delivery).
	m := receive(t, chB, 10*time.Second)
	if d := m.Metadata.Get(bus.MetaNumDelivered); m.UUID != fmt.Sprintf("CSP_COMMANDS:%d", seqs[2]) || (d != "1" && d != "2") {
		t.Fatalf("B's third message %s delivered %s times, want %d once or twice", m.UUID, d, seqs[2])
	}
	m.Ack()
}

// Cancelling the Subscribe context waits for the in-flight command's ack;
// Close with an unanswered command gives up after ShutdownTimeout and
// leaves it unacked. Nothing is acked that the handler did not ack.
func TestShutdownNeverAcksForTheHandler(t *testing.T) {
	const partitions = 1
	e := newEnv(t, partitions)
	s1 := e.publishCommand(t, "P1", "C1", "order.placed", "1")
	s2 := e.publishCommand(t, "P1", "C1", "order.placed", "2")
	cfg := bus.SubscriberConfig{ShutdownTimeout: 300 * time.Millisecond, AckWait: time.Second}

	// 1. ctx cancelled while the handler holds s1; the handler acks after.
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{ShutdownTimeout: 10 * time.Second, AckWait: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, "commands")
	if err != nil {
		t.Fatal(err)
	}
	m := receive(t, ch, 10*time.Second)
	cancel()
	if m.Context().Err() != nil {
		t.Error("the message context was cancelled with the subscription")
	}
	m.Ack()
	waitClosed(t, ch, 10*time.Second)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if info := e.consumerInfo(t, "processor", 0); info.AckFloor.Stream != s1 {
			return fmt.Errorf("ack floor %d, want %d", info.AckFloor.Stream, s1)
		}
		return nil
	})
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Subscribe(context.Background(), "commands"); err == nil {
		t.Error("Subscribe after Close succeeded")
	}

	// 2. Close while the handler holds s2 and never answers.
	sub2 := e.subscriber(t, e.js, cfg)
	ch2, err := sub2.Subscribe(context.Background(), "commands")
	if err != nil {
		t.Fatal(err)
	}
	m2 := receive(t, ch2, 10*time.Second)
	if m2.UUID != fmt.Sprintf("CSP_COMMANDS:%d", s2) {
		t.Fatalf("got %s", m2.UUID)
	}
	closed := make(chan error, 1)
	go func() { closed <- sub2.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after the shutdown timeout")
	}
	waitClosed(t, ch2, time.Second)
	if info := e.consumerInfo(t, "processor", 0); info.AckFloor.Stream != s1 || info.NumAckPending != 1 {
		t.Errorf("after Close: ack floor %d, %d pending; want %d and 1", info.AckFloor.Stream, info.NumAckPending, s1)
	}
	// The unanswered command comes back to the next subscriber.
	sub3 := e.subscriber(t, e.js, cfg)
	ch3, err := sub3.Subscribe(context.Background(), "commands")
	if err != nil {
		t.Fatal(err)
	}
	m3 := receive(t, ch3, 10*time.Second)
	if m3.UUID != m2.UUID || m3.Metadata.Get(bus.MetaNumDelivered) <= m2.Metadata.Get(bus.MetaNumDelivered) {
		t.Errorf("redelivered %s (delivered %s), want %s", m3.UUID, m3.Metadata.Get(bus.MetaNumDelivered), m2.UUID)
	}
	m3.Ack()
}

func TestSubscriberRejectsBadPartitions(t *testing.T) {
	e := newEnv(t, 4)
	for _, parts := range [][]int{{4}, {-1}, {1, 1}} {
		sub := e.subscriber(t, e.js, bus.SubscriberConfig{Partitions: parts})
		if _, err := sub.Subscribe(ctxT(t), "commands"); err == nil {
			t.Errorf("partitions %v accepted", parts)
		}
	}
	if _, err := bus.NewCommandSubscriber(e.js, e.streams, bus.SubscriberConfig{ConsumerPrefix: "a.b"}); err == nil {
		t.Error("consumer prefix with a dot accepted")
	}
}

// A partition whose consumer disappears ends the whole subscription (the
// channel closes, so the router stops) instead of leaving some customers
// silently unprocessed.
func TestLostConsumerEndsTheSubscription(t *testing.T) {
	e := newEnv(t, 4)
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{ShutdownTimeout: time.Second})
	ch, err := sub.Subscribe(ctxT(t), "commands")
	if err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if info := e.consumerInfo(t, "processor", 3); info.NumWaiting == 0 {
			return errors.New("no pull request waiting yet")
		}
		return nil
	})
	if err := e.js.DeleteConsumer(ctxT(t), e.streams.CommandStream, bus.ConsumerName("processor", 3, 4)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, ch, 20*time.Second)
}

// Attempts counts the in-process attempts of this delivery and one for
// each earlier server delivery.
func TestAttemptsCountsRetriesAndEarlierDeliveries(t *testing.T) {
	for _, tc := range []struct {
		attempt, delivered string
		want               int
	}{
		{"1", "1", 1},
		{"4", "1", 4},
		{"1", "3", 3},
		{"2", "3", 4},
		{"", "", 1},
		{"x", "0", 1},
	} {
		m := message.NewMessage("u", nil)
		m.Metadata.Set(bus.MetaAttempt, tc.attempt)
		m.Metadata.Set(bus.MetaNumDelivered, tc.delivered)
		if got := bus.Attempts(m); got != tc.want {
			t.Errorf("attempt %q, delivered %q: Attempts %d, want %d", tc.attempt, tc.delivered, got, tc.want)
		}
	}
}
