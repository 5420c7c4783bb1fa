package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redisserver"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// The classifier: the store or the broker being unavailable is transient,
// everything else permanent; a mark at the point that knows wins.
func TestPoisonClassifierSortsFailures(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	// Real replies of a real Redis.
	reply := func(script string, keys ...string) error {
		err := rdb.Eval(ctx, script, keys).Err()
		if err == nil {
			t.Fatalf("%s: no error", script)
		}
		return err
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_, decodeErr := rules.DecodeState(map[string][]byte{"sub:x": []byte("not json")})
	if decodeErr == nil {
		t.Fatal("bad state decoded")
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "connection refused"}}
	for _, tc := range []struct {
		name      string
		err       error
		transient bool
	}{
		{"connection refused", fmt.Errorf("load customer C: %w", refused), true},
		{"ECONNRESET", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"EOF", fmt.Errorf("commit: %w", io.EOF), true},
		{"redis client closed", redis.ErrClosed, true},
		{"redis pool timeout", fmt.Errorf("x: %w", redis.ErrPoolTimeout), true},
		{"context deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"LOADING", reply("return redis.error_reply('LOADING Redis is loading the dataset in memory')"), true},
		{"BUSY", reply("return redis.error_reply('BUSY Redis is busy running a script')"), true},
		{"CLUSTERDOWN", reply("return redis.error_reply('CLUSTERDOWN The cluster is down')"), true},
		{"TRYAGAIN", reply("return redis.error_reply('TRYAGAIN Multiple keys request during rehashing of slot')"), true},
		{"MASTERDOWN", reply("return redis.error_reply('MASTERDOWN Link with MASTER is down')"), true},
		{"READONLY", reply("return redis.error_reply('READONLY You can not write against a read only replica.')"), true},
		{"OOM", reply("return redis.error_reply('OOM command not allowed when used memory > maxmemory')"), true},
		{"nats timeout", fmt.Errorf("publish: %w", nats.ErrTimeout), true},
		{"nats no responders", nats.ErrNoResponders, true},
		{"nats disconnected", fmt.Errorf("x: %w", nats.ErrDisconnected), true},
		{"jetstream no response", jetstream.ErrNoStreamResponse, true},
		{"marked transient", transient(errors.New("publish 3 events: no PubAck within 10s")), true},
		{"lease fenced", fmt.Errorf("commit command x: %w", state.ErrFenced), true},

		{"Lua script error", reply("return redis.call('HGET', KEYS[1])", "k"), false},
		{"script refuses the commit", reply("return redis.error_reply('ERR csp: commit refused: invalid record')"), false},
		{"WRONGTYPE", rdb.HGet(ctx, "k", "f").Err(), false},
		{"state does not decode", fmt.Errorf("customer C: %w", decodeErr), false},
		{"kept changing", errors.New("command x: customer C kept changing under it"), false},
		{"marked permanent over a network error", permanent(fmt.Errorf("x: %w", refused)), false},
		{"marked transient over a script error", transient(reply("return redis.error_reply('ERR nope')")), true},
	} {
		if got := isTransient(tc.err); got != tc.transient {
			t.Errorf("%s (%v): transient %v, want %v", tc.name, tc.err, got, tc.transient)
		}
	}
}

// awaitWhere waits for a dead letter that satisfies match.
func (d *deadLetters) awaitWhere(t *testing.T, what string, match func(deadLetter) bool) deadLetter {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		d.mu.Lock()
		ch := d.changed
		for _, dl := range d.bySeq {
			if match(dl) {
				d.mu.Unlock()
				return dl
			}
		}
		d.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no dead letter: %s", what)
		}
	}
}

// count is how many dead letters arrived.
func (d *deadLetters) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.bySeq)
}

// awaitEvent waits for the event with the given ID.
func (e *env) awaitEvent(id string) messages.Event {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got messages.Event
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
		for _, ev := range evs {
			if ev.ID == id {
				got = ev
				return true
			}
		}
		return false
	}); err != nil {
		e.t.Fatalf("event %s: %v", id, err)
	}
	return got
}

// corrupt makes one of a customer's stored entities undecodable, and bumps
// the version so that no cached copy of the state is used any more.
func (e *env) corrupt(customer, field string) {
	e.t.Helper()
	ctx := context.Background()
	key := "csp:{" + customer + "}:state"
	if err := e.rdb.HSet(ctx, key, field, "\x00 not an entity").Err(); err != nil {
		e.t.Fatal(err)
	}
	if err := e.rdb.HIncrBy(ctx, key, "v", 1).Err(); err != nil {
		e.t.Fatal(err)
	}
}

// fastRetries makes in-place retries quick, as a test can afford.
func (e *env) fastRetries() {
	e.bus.Subscriber.RetryInitialInterval = 5 * time.Millisecond
	e.bus.Subscriber.RetryMaxInterval = 50 * time.Millisecond
}

// checkInternalError checks the partner's answer to a command set aside.
func checkInternalError(t *testing.T, ev messages.Event, partner string, cmd messages.Command, attempts int) {
	t.Helper()
	rej, ok := ev.Data.(*messages.CommandRejectedEvent)
	if !ok || ev.Type != messages.EvtCommandRejected || ev.PartnerID != partner || ev.CommandID != cmd.ID ||
		ev.CommandType != cmd.Type || ev.CustomerID != cmd.CustomerID {
		t.Fatalf("answer %+v", ev)
	}
	if rej.Code != messages.CodeInternalError || rej.Rule != "GEN-6" || rej.Description == "" || rej.Source != "processor" ||
		rej.Data["attempts"] != strconv.Itoa(attempts) {
		t.Fatalf("rejection %+v", rej.Rejection)
	}
}

// A command whose customer's stored state no longer decodes fails every
// time. After the bounded attempts it is dead-lettered with the error and
// the attempt count, its partner gets command.rejected internal_error, and
// the command behind it in the same partition is applied.
func TestPoisonCommandIsDeadLetteredAndThePartitionGoesOn(t *testing.T) {
	e := newEnv(t, 1) // one partition: every customer's commands queue behind each other
	e.fastRetries()
	e.startProcessor()
	dl := e.watchDeadLetters()

	const bad, good = "C-POISON", "C-HEALTHY"
	e.createCustomer(partnerA, bad)
	badSub := e.buy(partnerA, bad, 3)
	e.createCustomer(partnerA, good)
	goodSub := e.buy(partnerA, good, 3)
	e.corrupt(bad, "sub:"+badSub)
	before := e.stateOf(bad)

	poison := messages.Command{ID: nextID("poison"), Type: messages.CmdSubscriptionSuspend, CustomerID: bad,
		Data: &messages.SuspendData{SubscriptionID: badSub, Reason: "fraud"}}
	seq, err := e.up.Send(context.Background(), partnerA, poison)
	if err != nil {
		t.Fatal(err)
	}
	next := e.send(partnerA, good, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: goodSub, Reason: "fraud"})

	if evs := e.await(next); len(evs) != 1 || evs[0].Type != messages.EvtSubscriptionSuspended {
		t.Fatalf("the command behind the poison one: %v", types(evs))
	}
	got := dl.await(t, seq)
	if got.code != messages.CodeInternalError || got.attempts != strconv.Itoa(DefaultMaxAttempts) ||
		!strings.Contains(got.reason, "customer "+bad) || !strings.Contains(got.origSubject, "."+bad+".") {
		t.Fatalf("dead letter code %q attempts %q reason %q subject %q", got.code, got.attempts, got.reason, got.origSubject)
	}
	checkInternalError(t, e.awaitEvent(messages.InternalErrorEventID(bad, poison.ID)), partnerA, poison, DefaultMaxAttempts)

	// Nothing was written for it: not applied, the state as it was.
	if applied, err := e.store.Applied(context.Background(), bad, poison.ID); err != nil || applied {
		t.Fatalf("poison command in the inbox: %v %v", applied, err)
	}
	if after := e.stateOf(bad); !equalMaps(before, after) {
		t.Fatalf("state changed:\nbefore %v\nafter  %v", before, after)
	}
	// Recorded last, after the dead letter and the answer are published
	// (setAside): wait for it.
	for deadline := time.Now().Add(20 * time.Second); ; {
		dead, err := e.store.DeadLettered(context.Background(), bad, poison.ID)
		if err == nil && dead {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dead letter not recorded within 20s: %v %v", dead, err)
		}
		<-time.After(10 * time.Millisecond)
	}
	if n := dl.count(); n != 1 {
		t.Fatalf("%d dead letters, want 1", n)
	}
}

// A panic in a rule is a permanent failure like any other: the command is
// dead-lettered with the panic as its reason, and the same customer's next
// command is applied.
func TestPoisonPanicInARuleIsDeadLettered(t *testing.T) {
	e := newEnv(t, 1)
	e.fastRetries()
	const panicking = "panic-cmd"
	e.startProcessor(func(c *Config) {
		c.MaxAttempts = 3
		c.onDecide = func(cmd messages.Command) {
			if cmd.ID == panicking {
				panic("rule bug")
			}
		}
	})
	dl := e.watchDeadLetters()
	const cust = "C-PANIC"
	e.createCustomer(partnerA, cust)
	sub := e.buy(partnerA, cust, 2)

	boom := messages.Command{ID: panicking, Type: messages.CmdSubscriptionSuspend, CustomerID: cust,
		Data: &messages.SuspendData{SubscriptionID: sub, Reason: "fraud"}}
	seq, err := e.up.Send(context.Background(), partnerA, boom)
	if err != nil {
		t.Fatal(err)
	}
	next := e.send(partnerA, cust, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: "fraud"})
	if evs := e.await(next); len(evs) != 1 || evs[0].Type != messages.EvtSubscriptionSuspended {
		t.Fatalf("the customer's next command: %v", types(evs))
	}
	got := dl.await(t, seq)
	if got.code != messages.CodeInternalError || got.attempts != "3" || !strings.Contains(got.reason, "panic") ||
		!strings.Contains(got.reason, "rule bug") {
		t.Fatalf("dead letter code %q attempts %q reason %q", got.code, got.attempts, got.reason)
	}
	checkInternalError(t, e.awaitEvent(messages.InternalErrorEventID(cust, boom.ID)), partnerA, boom, 3)
}

// A simulated clock move fires a timer whose customer's state no longer
// decodes: the timer command is dead-lettered, and the clock move returns
// instead of waiting for a command that will never be applied.
func TestPoisonTimerDoesNotHoldTheSimulatedClock(t *testing.T) {
	e := newEnv(t, 1)
	e.fastRetries()
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	dl := e.watchDeadLetters()
	clock := &simulator.Clock{NC: e.nc}
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)

	const cust = "C-POISON-TIMER"
	e.createCustomer(partnerA, cust)
	qty := 2
	evs := e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-PT", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}}))
	sub := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID
	e.corrupt(cust, "sub:"+sub)

	// The next billing period starts on April 10th.
	now = time.Date(2026, 4, 11, 10, 0, 0, 0, time.UTC)
	if fired := e.advance(clock, now); fired < 1 {
		t.Fatalf("%d timers fired, want the billing period's", fired)
	}
	got := dl.awaitWhere(t, "the billing period timer", func(d deadLetter) bool {
		return d.code == messages.CodeInternalError && strings.Contains(d.origSubject, ".timer.fired")
	})
	if got.attempts != strconv.Itoa(DefaultMaxAttempts) || !strings.Contains(got.reason, "customer "+cust) {
		t.Fatalf("dead letter attempts %q reason %q", got.attempts, got.reason)
	}
	// The partition goes on after it.
	if evs := e.await(e.send(partnerA, "C-AFTER", messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Fabrikam", Segment: "commercial", Country: "US", Currency: "USD"})); evs[0].Type != messages.EvtCustomerCreated {
		t.Fatalf("after the timer: %v", types(evs))
	}
}

// Redis stops while commands are in flight, for longer than the attempts a
// permanent failure gets, and comes back: every command is applied once,
// nothing is dead-lettered, nothing is rejected.
func TestRedisOutageDeadLettersNothing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := redisserver.Start(ctx, redisserver.Options{Dir: dir, Appendonly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	_, portText, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(portText)

	e := newEnv(t, 1)
	e.fastRetries()
	// The processor's client, and another for the test's own reads: go-redis
	// fails calls fast for a moment after repeated dial errors, and a read
	// of the test must not land in that moment of the processor's pool.
	e.rdb = redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = e.rdb.Close() })
	reads := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = reads.Close() })
	e.store = state.NewStore(reads, state.Options{})
	const maxAttempts = 2
	var transientFailures, permanentFailures atomic.Int64
	stop := e.startProcessor(func(c *Config) {
		c.MaxAttempts = maxAttempts
		c.onFailure = func(_ *message.Message, err error, isTransient bool) {
			if isTransient {
				transientFailures.Add(1)
			} else {
				permanentFailures.Add(1)
				t.Errorf("permanent failure during a Redis outage: %v", err)
			}
		}
	})
	dl := e.watchDeadLetters()

	customers := []string{"C-OUT-1", "C-OUT-2", "C-OUT-3"}
	subs := map[string]string{}
	for _, c := range customers {
		e.createCustomer(partnerA, c)
		subs[c] = e.buy(partnerA, c, 4)
	}

	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	var sent []messages.Command
	for _, c := range customers {
		sent = append(sent, e.send(partnerA, c, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: subs[c], Reason: "fraud"}))
	}
	for _, c := range customers {
		sent = append(sent, e.send(partnerA, c, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: subs[c]}))
	}
	// The first command is tried well past the permanent limit while Redis
	// is down.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := waitFor(waitCtx, func() bool { return transientFailures.Load() >= 3*maxAttempts }); err != nil {
		t.Fatalf("%d transient failures while Redis was down", transientFailures.Load())
	}

	restarted, err := redisserver.Start(ctx, redisserver.Options{Dir: dir, Port: port, Appendonly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = restarted.Close() })
	t.Cleanup(stop) // before Redis stops again

	for i, c := range sent {
		evs := e.await(c)
		typ := messages.EvtSubscriptionSuspended
		if i >= len(customers) {
			typ = messages.EvtSubscriptionReactivated
		}
		if len(evs) != 1 || evs[0].Type != typ {
			t.Fatalf("%s %s: %v", c.Type, c.CustomerID, types(evs))
		}
	}
	for _, ev := range e.events.Events() {
		if ev.Type == messages.EvtCommandRejected {
			t.Fatalf("rejected: %+v", ev.Data)
		}
	}
	if n := dl.count(); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
	info, err := e.js.Stream(ctx, bus.DefaultDeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.CachedInfo().State.Msgs; n != 0 {
		t.Fatalf("%d messages on the dead-letter stream", n)
	}
	if len(e.events.Conflicts()) != 0 || permanentFailures.Load() != 0 {
		t.Fatalf("conflicts %v, permanent failures %d", e.events.Conflicts(), permanentFailures.Load())
	}
}
