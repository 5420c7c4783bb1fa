package handlers

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// Every test here runs against a real embedded NATS server (one per test)
// and a real redis-server (one per package, flushed per test).
func TestMain(m *testing.M) { redistest.Main(m) }

const (
	partnerA   = "P-A"
	partnerB   = "P-B"
	offerBasic = "CFQ7TTC0LH18:0001" // Microsoft 365 Business Basic
)

type env struct {
	t      testing.TB
	srv    *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	rdb    *redis.Client
	cat    *catalog.Catalog
	store  *state.Store
	up     *simulator.Upstream
	events *simulator.Watcher
	bus    bus.Config
}

// newEnv starts a NATS server, flushes Redis and creates the streams with
// 8 partitions, or with partitions[0] when given.
func newEnv(t testing.TB, partitions ...int) *env {
	t.Helper()
	bc := testBus()
	if len(partitions) > 0 {
		bc.Streams.Partitions = partitions[0]
	}
	srv := natstest.RunServer(t)
	nc, js := natstest.Connect(t, srv)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	rdb := redistest.Client(t)
	e := &env{t: t, srv: srv, nc: nc, js: js, rdb: rdb, cat: cat, store: state.NewStore(rdb, state.Options{}), up: &simulator.Upstream{JS: js}, bus: bc}
	if err := bus.EnsureStreams(context.Background(), js, nc, bc.Streams); err != nil {
		t.Fatal(err)
	}
	e.events, err = simulator.WatchEvents(context.Background(), js, bus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.events.Stop)
	return e
}

// testBus is the bus configuration of the tests: 8 partitions, so that
// several commands are in flight at once, and a short ack wait.
func testBus() bus.Config {
	return bus.Config{
		Streams:    bus.StreamsConfig{Partitions: 8},
		Subscriber: bus.SubscriberConfig{AckWait: 2 * time.Second, ShutdownTimeout: 5 * time.Second},
	}.WithDefaults()
}

// startProcessor runs a processor in this process until the test ends (or
// the returned stop is called).
func (e *env) startProcessor(mutate ...func(*Config)) (stop func()) {
	e.t.Helper()
	_, stop = e.runProcessor(mutate...)
	return stop
}

// runProcessor is startProcessor that also returns the processor.
func (e *env) runProcessor(mutate ...func(*Config)) (p *Processor, stop func()) {
	e.t.Helper()
	cfg := Config{NATS: e.nc, Redis: e.rdb, Catalog: e.cat, Bus: e.bus, Logger: watermill.NopLogger{}}
	for _, m := range mutate {
		m(&cfg)
	}
	var err error
	if p, err = NewProcessor(context.Background(), cfg); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-p.Running():
	case err := <-done:
		e.t.Fatalf("processor did not start: %v", err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("processor did not start in 10s")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("processor stopped with: %v", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return p, stop
}

var cmdSeq int

func nextID(prefix string) string {
	cmdSeq++
	return fmt.Sprintf("%s-%d", prefix, cmdSeq)
}

// send publishes a command and returns it.
func (e *env) send(partner, customer string, typ messages.CommandType, data any) messages.Command {
	e.t.Helper()
	cmd := messages.Command{ID: nextID(string(typ)), Type: typ, CustomerID: customer, Data: data}
	if _, err := e.up.Send(context.Background(), partner, cmd); err != nil {
		e.t.Fatal(err)
	}
	return cmd
}

// await waits (with a deadline) until a command's events arrived and
// returns them in order. It knows which to expect from the command's
// inbox record, which is written before any of them is published; the
// record also lists the events of overdue timers applied before the
// command (their command_id is the timer's), which are awaited too but
// not returned.
func (e *env) await(cmd messages.Command) []messages.Event {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var want map[string]bool
	var got []messages.Event
	arrived := 0
	err := e.events.WaitFor(ctx, func(evs []messages.Event) bool {
		got, arrived = got[:0], 0
		for _, ev := range evs {
			if ev.CommandID == cmd.ID && ev.CustomerID == cmd.CustomerID {
				got = append(got, ev)
			}
		}
		if want == nil && len(got) > 0 {
			want = e.eventsOfCommand(ctx, cmd)
		}
		if want == nil {
			return false
		}
		for _, ev := range evs {
			if want[ev.ID] {
				arrived++
			}
		}
		return arrived >= len(want)
	})
	if err != nil {
		e.t.Fatalf("command %s (%s): %d events of %d: %v", cmd.ID, cmd.Type, arrived, len(want), err)
	}
	return append([]messages.Event(nil), got...)
}

// eventsOfCommand reads the IDs of the events a command's decision
// emitted from its inbox record (nil when it is not applied yet).
func (e *env) eventsOfCommand(ctx context.Context, cmd messages.Command) map[string]bool {
	snap, err := e.store.Load(ctx, cmd.CustomerID, cmd.ID)
	if err != nil || snap.Seen == nil {
		return nil
	}
	ids := make(map[string]bool, len(snap.Seen.EventIDs))
	for _, id := range snap.Seen.EventIDs {
		ids[id] = true
	}
	return ids
}

func (e *env) createCustomer(partner, customer string) {
	e.t.Helper()
	evs := e.await(e.send(partner, customer, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}))
	if evs[0].Type != messages.EvtCustomerCreated {
		e.t.Fatalf("customer.created: %+v", evs[0].Data)
	}
}

// buy places a one-line order for qty annual Business Basic licenses and
// returns the subscription ID.
func (e *env) buy(partner, customer string, qty int) string {
	e.t.Helper()
	evs := e.await(e.send(partner, customer, messages.CmdOrderPlaced, &messages.OrderPlacedData{
		OrderID: nextID("O"), Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}}))
	res := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent)
	if res.Status != messages.OrderCompleted {
		e.t.Fatalf("order %s: %+v", res.Status, res.Lines)
	}
	return res.Lines[0].SubscriptionID
}

// stateOf is every stored entity of a customer: what "state unchanged"
// means. The version counter is left out: every applied command bumps it,
// a rejection included, because it is the inbox's concurrency token, not
// business state.
func (e *env) stateOf(customer string) map[string]string {
	e.t.Helper()
	snap, err := e.store.Load(context.Background(), customer, "")
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range snap.Fields {
		out[k] = string(v)
	}
	return out
}

func ofType(evs []messages.Event, typ messages.EventType) []messages.Event {
	var out []messages.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// onSimulatedClock starts the processor on the simulated clock, moved to
// now(), with the harness's sender and two more, a partner's sales agent
// and the customer portal's admin, all sending at now() (TRF-1, ROL-1).
func (e *env) onSimulatedClock(now func() time.Time) (clock *simulator.Clock, asPartner, asCustomer *simulator.Upstream) {
	e.t.Helper()
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	clock = &simulator.Clock{NC: e.nc}
	e.up.SimulatedTime = now
	e.advance(clock, now())
	return clock, &simulator.Upstream{JS: e.js, Role: messages.RoleSalesAgent, SimulatedTime: now},
		&simulator.Upstream{JS: e.js, Role: messages.RoleCustomerAdmin, SimulatedTime: now}
}
