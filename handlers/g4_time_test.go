package handlers

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
)

// storedTime is the broker timestamp of a stored command.
func (e *env) storedTime(seq uint64) time.Time {
	e.t.Helper()
	s, err := e.js.Stream(context.Background(), bus.DefaultCommandStream)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := s.GetMsg(context.Background(), seq)
	if err != nil {
		e.t.Fatal(err)
	}
	return m.Time.UTC()
}

// G4: the effective time is the broker's timestamp of the stored command,
// not a time the sender wrote, and it is the same when the command is
// handled again after a failure between commit and publish (which is also
// G2: the committed events are recovered from the outbox).
func TestG4_EffectiveTimeIsTheBrokerTimestampAlsoOnRedelivery(t *testing.T) {
	e := newEnv(t)
	var failures atomic.Int32
	failures.Store(2)
	e.startProcessor(func(c *Config) { c.wrapPublisher = failFirst(&failures) })

	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	cmd := messages.Command{ID: "g4-create", Type: messages.CmdCustomerCreated, CustomerID: "C-G4", IssuedAt: &past,
		Data: &messages.CustomerCreatedData{CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}}
	seq, err := e.up.Send(context.Background(), partnerA, cmd)
	if err != nil {
		t.Fatal(err)
	}
	evs := e.await(cmd)
	if failures.Load() > 0 {
		t.Fatal("the publisher never failed: the redelivery path was not exercised")
	}
	want := e.storedTime(seq)
	if !evs[0].OccurredAt.Equal(want) {
		t.Fatalf("occurred_at %v, want the broker timestamp %v (issued_at %v is informational)", evs[0].OccurredAt, want, past)
	}
	if len(evs) != 1 || len(e.events.Conflicts()) != 0 {
		t.Fatalf("events %v conflicts %v", types(evs), e.events.Conflicts())
	}
}

// failFirst wraps a publisher so that its first n Publish calls fail after
// nothing was sent, as if the process died between commit and publish.
func failFirst(n *atomic.Int32) func(message.Publisher) message.Publisher {
	return func(p message.Publisher) message.Publisher { return &flakyPublisher{Publisher: p, fail: n} }
}

type flakyPublisher struct {
	message.Publisher
	fail *atomic.Int32
}

func (f *flakyPublisher) Publish(topic string, msgs ...*message.Message) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("injected failure before publish")
	}
	return f.Publisher.Publish(topic, msgs...)
}

// G4: in normal mode no sender can set the time: a command carrying the
// simulator's clock header is dead-lettered and changes nothing.
func TestG4_SimulatedClockRefusedInNormalMode(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	dl := e.watchDeadLetters()
	sim := &simulator.Upstream{JS: e.js, SimulatedTime: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }}
	cmd := messages.Command{ID: "g4-sim", Type: messages.CmdCustomerCreated, CustomerID: "C-G4S",
		Data: &messages.CustomerCreatedData{CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}}
	seq, err := sim.Send(context.Background(), partnerA, cmd)
	if err != nil {
		t.Fatal(err)
	}
	got := dl.await(t, seq)
	if got.code != messages.CodeClockNotAllowed {
		t.Fatalf("dead letter code %q, want %q", got.code, messages.CodeClockNotAllowed)
	}
	if s := e.stateOf("C-G4S"); len(s) != 0 {
		t.Fatalf("state written: %v", s)
	}
}

// In simulation mode the header decides the effective time.
func TestG4_SimulationModeTakesTheSimulatorsClock(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	at := time.Date(2030, 1, 1, 9, 30, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return at }
	evs := e.await(e.send(partnerA, "C-SIM", messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "C", Segment: "commercial", Country: "US", Currency: "USD"}))
	if !evs[0].OccurredAt.Equal(at) {
		t.Fatalf("occurred_at %v, want simulated %v", evs[0].OccurredAt, at)
	}
}
