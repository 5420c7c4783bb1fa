package handlers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/state"
)

// A full event stream (DiscardNew) refuses the events of a committed
// command: they stay in the customer's outbox, neither the handler nor the
// outbox relay deletes them, and once there is room again they are
// published, once each.
func TestFullEventStreamKeepsEventsInTheOutbox(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.fastRetries()
	e.bus.Streams.EventMaxBytes = bus.EventMaxMsgBytes
	if err := bus.EnsureStreams(ctx, e.js, e.nc, e.bus.Streams); err != nil {
		t.Fatal(err)
	}
	// Fill the stream to within 64 bytes of its limit: no event fits.
	if _, err := e.js.Publish(ctx, "csp.evt.filler", make([]byte, bus.EventMaxMsgBytes-100)); err != nil {
		t.Fatal(err)
	}
	var refused atomic.Int64
	e.startProcessor(func(c *Config) {
		c.onFailure = func(_ *message.Message, err error, transient bool) {
			if !transient {
				t.Errorf("permanent failure on a full event stream: %v", err)
			}
			if strings.Contains(err.Error(), "maximum bytes exceeded") {
				refused.Add(1)
			}
		}
	})

	cmd := e.send(partnerA, "C-FULL", messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"})
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := waitFor(waitCtx, func() bool { return refused.Load() >= 3 }); err != nil {
		t.Fatalf("publishing was refused %d times: %v", refused.Load(), err)
	}
	pending := func() []state.OutboxEntry {
		snap, err := e.store.Load(ctx, cmd.CustomerID, cmd.ID)
		if err != nil || snap.Seen == nil {
			t.Fatalf("command not committed: %v", err)
		}
		return snap.Seen.Pending
	}
	if n := len(pending()); n == 0 {
		t.Fatal("the refused events are not in the outbox")
	}
	// The relay, too, keeps what JetStream refused.
	relay := state.NewOutboxRelay(e.store, func(_ context.Context, _ string, entries []state.OutboxEntry) error {
		pub, err := bus.NewPublisher(e.js, bus.PublisherConfig{})
		if err != nil {
			return err
		}
		return PublishOutbox(pub, entries)
	}, state.RelayOptions{MinAge: time.Nanosecond, Logger: func(string, error) {}})
	if _, err := relay.SweepOnce(ctx); err == nil || !strings.Contains(err.Error(), "maximum bytes exceeded") {
		t.Fatalf("relay sweep on a full event stream: %v", err)
	}
	if n := len(pending()); n == 0 {
		t.Fatal("the relay deleted events JetStream refused")
	}

	st, err := e.js.Stream(ctx, bus.DefaultEventStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject("csp.evt.filler")); err != nil {
		t.Fatal(err)
	}
	evs := e.await(cmd)
	if len(evs) != 1 || evs[0].Type != messages.EvtCustomerCreated {
		t.Fatalf("events after making room: %+v", evs)
	}
	if err := waitFor(waitCtx, func() bool { return len(pending()) == 0 }); err != nil {
		t.Fatalf("outbox still holds %d entries after publishing", len(pending()))
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("event stream holds %d events, want the one event once", info.State.Msgs)
	}
}
