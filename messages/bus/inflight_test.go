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

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// G3 with several commands in flight per partition: 40 customers in 2
// partitions, commands interleaved, a handler that is slow for one
// customer and nacks some commands once. Every customer's commands are
// applied in publish order, and the slow customer does not hold back
// another customer of its partition: that one finishes all its commands
// while the slow one's first command is still with the handler. (The slow
// customer has 3 commands: its later ones wait in the partition, and once
// MaxInFlight of a partition's commands wait behind stuck customers the
// partition waits too.)
func TestG3_SeveralInFlightPerPartitionKeepEachCustomersOrder(t *testing.T) {
	const partitions, customers, commands = 2, 40, 600
	e := newEnv(t, partitions)
	var ids []string
	for i := 0; i < customers; i++ {
		ids = append(ids, fmt.Sprintf("cust%02d", i))
	}
	slow := ids[0]
	var fast string // another customer of slow's partition
	for _, c := range ids[1:] {
		if bus.PartitionOf(c, partitions) == bus.PartitionOf(slow, partitions) {
			fast = c
			break
		}
	}
	if fast == "" {
		t.Fatal("no second customer in the slow customer's partition")
	}
	next := map[string]int{}
	for i := 0; i < commands; i++ {
		c := ids[1+(i*7+i/3)%(customers-1)]
		if i%50 == 0 && next[slow] < 3 {
			c = slow
		}
		next[c]++
		e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, next[c]))
	}

	rec := newRecorder()
	var mu sync.Mutex
	nacked := map[string]bool{}
	fastDone := make(chan struct{})
	var fastSeen atomic.Int32
	var slowBlockedUntilFastDone atomic.Bool
	var inFlight, maxInFlight [partitions]atomic.Int32
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{MaxInFlight: 8})
	runRouter(t, sub, func(m *message.Message) error {
		customer, n := parsePayload(t, m)
		p := bus.PartitionOf(customer, partitions)
		cur := inFlight[p].Add(1)
		defer inFlight[p].Add(-1)
		for old := maxInFlight[p].Load(); cur > old && !maxInFlight[p].CompareAndSwap(old, cur); old = maxInFlight[p].Load() {
		}
		if customer == slow && n == 1 {
			select {
			case <-fastDone:
				slowBlockedUntilFastDone.Store(true)
			case <-time.After(30 * time.Second):
				t.Errorf("%s never finished while %s's first command was with the handler", fast, slow)
			}
		}
		// Nack every command whose number ends in 3 once.
		key := m.UUID
		mu.Lock()
		if n%10 == 3 && !nacked[key] {
			nacked[key] = true
			mu.Unlock()
			return errors.New("transient failure")
		}
		mu.Unlock()
		rec.add(customer, n)
		if customer == fast && int(fastSeen.Add(1)) == next[fast] {
			close(fastDone)
		}
		return nil
	})

	checkFor(t, 90*time.Second, 20*time.Millisecond, rec.waitCount(commands))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, c := range ids {
		got := rec.seen[c]
		if len(got) != next[c] {
			t.Errorf("%s: applied %d, published %d", c, len(got), next[c])
		}
		for i, n := range got {
			if n != i+1 {
				t.Errorf("%s: applied in order %v", c, got)
				break
			}
		}
	}
	if !slowBlockedUntilFastDone.Load() {
		t.Errorf("%s's first command was not held while %s finished", slow, fast)
	}
	if p := bus.PartitionOf(slow, partitions); maxInFlight[p].Load() < 2 {
		t.Errorf("partition %d: at most %d commands in flight", p, maxInFlight[p].Load())
	}
}

// handled is one command a handler saw, with the fence it came under.
type handled struct {
	customer string
	n        int
	fence    string
	uuid     string
}

type log struct {
	mu  sync.Mutex
	all []handled
}

func (l *log) add(t testing.TB, m *message.Message) {
	c, n := parsePayload(t, m)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, handled{c, n, m.Metadata.Get(bus.MetaFence), m.UUID})
}

func (l *log) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.all)
}

// checkOrder fails unless every customer's commands were handled once
// each, 1..published, in that order.
func (l *log) checkOrder(t testing.TB, published map[string]int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	per := map[string][]int{}
	for _, h := range l.all {
		per[h.customer] = append(per[h.customer], h.n)
	}
	for c, want := range published {
		got := per[c]
		ok := len(got) == want
		for i, n := range got {
			ok = ok && n == i+1
		}
		if !ok {
			t.Errorf("%s: handled %v, want 1..%d in order, each once", c, got, want)
		}
	}
}

// dynamicSubscriber subscribes a Dynamic subscriber on its own connection
// and runs h for every message on its own goroutine (as the router does).
func (e *env) dynamicSubscriber(t *testing.T, cfg bus.SubscriberConfig, h func(*message.Message)) *bus.CommandSubscriber {
	t.Helper()
	cfg.Dynamic = true
	_, js := natstest.Connect(t, e.srv)
	sub := e.subscriber(t, js, cfg)
	ch, err := sub.Subscribe(context.Background(), "commands")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for m := range ch {
			go h(m)
		}
	}()
	return sub
}

// A graceful handover: StopPartition on A while A holds commands (some
// with the handler, some waiting behind their customer's), StartPartition
// on B: every command is handled once, each customer's in publish order,
// and each message carries the fence of the partition's owner.
func TestG3_StopPartitionThenStartElsewhereKeepsOrder(t *testing.T) {
	const partitions = 2
	e := newEnv(t, partitions)
	cs := customersInPartition(0, partitions, 5)
	published := map[string]int{}
	for i := 0; i < 40; i++ {
		c := cs[i%len(cs)]
		published[c]++
		e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, published[c]))
	}
	// A long AckWait: a handover that waited for the NAKed commands to
	// expire would show (see the check after B's start).
	cfg := bus.SubscriberConfig{MaxInFlight: 8, AckWait: 5 * time.Second, ShutdownTimeout: 10 * time.Second}
	var got log
	release := make(chan struct{})
	var withA atomic.Int32
	subA := e.dynamicSubscriber(t, cfg, func(m *message.Message) {
		withA.Add(1)
		<-release
		got.add(t, m)
		m.Ack()
	})
	subB := e.dynamicSubscriber(t, cfg, func(m *message.Message) {
		got.add(t, m)
		m.Ack()
	})
	if err := subA.StartPartition(ctxT(t), 0, 7); err != nil {
		t.Fatal(err)
	}
	// A holds five heads with the handler and three commands behind them.
	checkFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if n := withA.Load(); n < int32(len(cs)) {
			return fmt.Errorf("%d with A's handler", n)
		}
		if info := e.consumerInfo(t, "processor", 0); info.NumAckPending != 8 {
			return fmt.Errorf("%d held by A", info.NumAckPending)
		}
		return nil
	})
	stopped := make(chan error, 1)
	go func() { stopped <- subA.StopPartition(ctxT(t), 0) }()
	// StopPartition waits for the handlers A handed commands to.
	select {
	case err := <-stopped:
		t.Fatalf("StopPartition returned (%v) while A's handlers held commands", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if p := subA.Partitions(); len(p) != 0 {
		t.Fatalf("A still consumes %v", p)
	}
	handledByA := got.len()
	if handledByA < len(cs) {
		t.Errorf("A handled %d commands, want at least the %d it had handed out before the stop", handledByA, len(cs))
	}
	started := time.Now()
	if err := subB.StartPartition(ctxT(t), 0, 8); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, 5*time.Millisecond, func() error {
		if got.len() == handledByA {
			return errors.New("B handled nothing yet")
		}
		return nil
	})
	// A graceful owner NAKed what it held: B gets those back at once and
	// does not wait for them to expire.
	if took := time.Since(started); took >= cfg.AckWait {
		t.Errorf("B handled its first command %v after its start, want well under AckWait (%v)", took, cfg.AckWait)
	} else {
		t.Logf("graceful handover: B handled its first command %v after its start", took)
	}
	checkFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if n := got.len(); n < 40 {
			return fmt.Errorf("%d of 40 handled", n)
		}
		return nil
	})
	got.checkOrder(t, published)
	got.mu.Lock()
	defer got.mu.Unlock()
	for i, h := range got.all {
		want := "8"
		if i < handledByA {
			want = "7"
		}
		if h.fence != want {
			t.Errorf("command %s handled with fence %q, want %q", h.uuid, h.fence, want)
		}
	}
}

// The previous owner vanished (its connection closed) with commands it had
// received and never acked. B's StartPartition waits for them (AckWait)
// and gets them first, before the later commands of their customers that
// were published after A vanished.
func TestG3_StartPartitionAfterTheOwnerVanishedGetsItsCommandsFirst(t *testing.T) {
	const partitions = 2
	e := newEnv(t, partitions)
	cs := customersInPartition(1, partitions, 2)
	published := map[string]int{}
	publish := func(c string) uint64 {
		published[c]++
		return e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, published[c]))
	}
	first := []uint64{publish(cs[0]), publish(cs[1])}
	const ackWait = 2 * time.Second
	cfg := bus.SubscriberConfig{MaxInFlight: 8, AckWait: ackWait, ShutdownTimeout: 200 * time.Millisecond, Dynamic: true}

	ncA, jsA := natstest.Connect(t, e.srv)
	subA := e.subscriber(t, jsA, cfg)
	chA, err := subA.Subscribe(context.Background(), "commands")
	if err != nil {
		t.Fatal(err)
	}
	// The server delivers A's commands after this instant, so their AckWait
	// runs out no earlier than AckWait after it.
	beforeA := time.Now()
	if err := subA.StartPartition(ctxT(t), 1, 1); err != nil {
		t.Fatal(err)
	}
	for range first {
		receive(t, chA, 10*time.Second) // with A's handler, never answered
	}
	ncA.Close()
	_ = subA.Close()

	// Later commands of the same customers: with 2 of 8 unacked, the
	// server would hand these out at once to a new puller.
	for range 3 {
		publish(cs[0])
		publish(cs[1])
	}
	var got log
	var firstAt atomic.Int64
	subB := e.dynamicSubscriber(t, bus.SubscriberConfig{MaxInFlight: 8, AckWait: ackWait}, func(m *message.Message) {
		firstAt.CompareAndSwap(0, time.Now().UnixNano())
		got.add(t, m)
		m.Ack()
	})
	if err := subB.StartPartition(ctxT(t), 1, 2); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if n := got.len(); n < 8 {
			return fmt.Errorf("%d of 8 handled", n)
		}
		return nil
	})
	got.checkOrder(t, published)
	// Nothing was handed out before A's deliveries expired.
	if at := time.Unix(0, firstAt.Load()); at.Sub(beforeA) < ackWait {
		t.Errorf("B handled its first command %v after A's start, before A's deliveries could expire (%v)", at.Sub(beforeA), ackWait)
	}
	// Each customer's first command at B is the one A held. (Across
	// customers the order is free: their heads go to handlers at once.)
	got.mu.Lock()
	defer got.mu.Unlock()
	firstOf := map[string]string{}
	for _, h := range got.all {
		if _, ok := firstOf[h.customer]; !ok {
			firstOf[h.customer] = h.uuid
		}
	}
	for i, c := range cs {
		if want := "CSP_COMMANDS:" + strconv.FormatUint(first[i], 10); firstOf[c] != want {
			t.Errorf("customer %s: B's first command %s, want A's unacked %s", c, firstOf[c], want)
		}
	}
}

// Changing the partition count creates new consumers, named with the new
// count, starting where the old consumers left off: nothing unacked is
// lost, the old consumers are deleted, and the stream is not touched.
func TestNewPartitionCountStartsWhereTheOldConsumersLeftOff(t *testing.T) {
	e := newEnv(t, 4)
	published := map[string]int{}
	var customers []string
	for i := range 12 {
		customers = append(customers, "K"+strconv.Itoa(i))
	}
	for i := range 48 {
		c := customers[i%len(customers)]
		published[c]++
		e.publishCommand(t, "P1", c, "order.placed", cmdPayload(c, published[c]))
	}
	// Under 4 partitions, the first 3 commands of every customer are
	// applied; the 4th is with the handler when the processor stops.
	var old log
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{MaxInFlight: 16, ShutdownTimeout: 100 * time.Millisecond})
	ch, err := sub.Subscribe(context.Background(), "commands")
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for applied < 36 {
		m := receive(t, ch, 10*time.Second)
		if _, n := parsePayload(t, m); n <= 3 {
			old.add(t, m)
			m.Ack()
			applied++
		}
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}

	streams8 := e.streams
	streams8.Partitions = 8
	var again log
	sub8, err := bus.NewCommandSubscriber(e.js, streams8, bus.SubscriberConfig{MaxInFlight: 4, AckWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub8.Close() })
	runRouter(t, sub8, func(m *message.Message) error {
		again.add(t, m)
		return nil
	})
	// Every customer's commands 4..5 come, in order, after any replay.
	checkFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		again.mu.Lock()
		defer again.mu.Unlock()
		last := map[string]int{}
		for _, h := range again.all {
			if h.n <= last[h.customer] {
				return fmt.Errorf("%s: %d after %d", h.customer, h.n, last[h.customer])
			}
			last[h.customer] = h.n
		}
		for _, c := range customers {
			if last[c] != published[c] {
				return fmt.Errorf("%s: last handled %d of %d", c, last[c], published[c])
			}
		}
		return nil
	})
	again.mu.Lock()
	first := map[string]int{}
	for _, h := range again.all {
		if _, ok := first[h.customer]; !ok {
			first[h.customer] = h.n
		}
	}
	again.mu.Unlock()
	for _, c := range customers {
		if first[c] > 4 {
			t.Errorf("%s: the new consumers started at its command %d, skipping the unacked 4th", c, first[c])
		}
	}
	names := map[string]bool{}
	st, err := e.js.Stream(ctxT(t), e.streams.CommandStream)
	if err != nil {
		t.Fatal(err)
	}
	for name := range st.ConsumerNames(ctxT(t)).Name() {
		names[name] = true
	}
	if len(names) != 8 || !names[bus.ConsumerName("processor", 7, 8)] || names[bus.ConsumerName("processor", 0, 4)] {
		t.Errorf("consumers after the change: %v", names)
	}
	if info := st.CachedInfo(); info.Config.SubjectTransform.Destination != bus.CommandTransform().Destination {
		t.Errorf("stream transform %v", info.Config.SubjectTransform)
	}
}

// A processor still consuming with another partition count is not raced:
// starting with a new count refuses, naming the old consumers being pulled
// and what to do, and creates nothing.
func TestNewPartitionCountRefusedWhileTheOldConsumersArePulled(t *testing.T) {
	e := newEnv(t, 4)
	old := e.subscriber(t, e.js, bus.SubscriberConfig{})
	if _, err := old.Subscribe(context.Background(), "commands"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if info := e.consumerInfo(t, "processor", 0); info.NumWaiting == 0 {
			return errors.New("no pull request waiting yet")
		}
		return nil
	})
	streams8 := e.streams
	streams8.Partitions = 8
	sub8, err := bus.NewCommandSubscriber(e.js, streams8, bus.SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub8.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = sub8.Subscribe(ctx, "commands")
	if err == nil || !strings.Contains(err.Error(), bus.ConsumerName("processor", 0, 4)) ||
		!strings.Contains(err.Error(), "stop every processor") || !strings.Contains(err.Error(), "PARTITIONS=8") {
		t.Fatalf("Subscribe with 8 partitions while 4 are consumed: %v", err)
	}
	st, err := e.js.Stream(ctxT(t), e.streams.CommandStream)
	if err != nil {
		t.Fatal(err)
	}
	for name := range st.ConsumerNames(ctxT(t)).Name() {
		if strings.HasSuffix(name, "of8") {
			t.Errorf("consumer %s created although the start was refused", name)
		}
	}
}
