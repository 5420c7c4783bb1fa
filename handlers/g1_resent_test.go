package handlers

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/state"
)

// G1 beyond the full inbox record: upstream systems retry for days. A
// command re-sent (same command ID, new Nats-Msg-Id, so JetStream does not
// drop it) after its full inbox record was trimmed (7 days) is still known
// as applied: it changes nothing and emits nothing, not even a rejection
// whose event ID would collide with the first application's events.
func TestG1_CommandResentAfterTheInboxRetentionIsNotAppliedTwice(t *testing.T) {
	e := newEnv(t)
	e.startProcessor(func(c *Config) { c.Clock = SimulatedClock })
	shortenEventDuplicateWindow(t, e)
	clock := &simulator.Clock{NC: e.nc}
	now := time.Date(2026, 3, 2, 9, 1, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)
	ctx := context.Background()

	const cust = "C-G1R"
	e.createCustomer(partnerA, cust)
	qty := 10
	order := e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-G1R", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}})
	evs := e.await(order)
	sub := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent).Lines[0].SubscriptionID
	suspend := e.send(partnerA, cust, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: "non_payment"})
	e.await(suspend)
	now = now.Add(time.Hour)
	e.advance(clock, now)
	e.await(e.send(partnerA, cust, messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: sub}))

	// Eight days later a command of the customer commits, which trims the
	// full inbox records older than 7 days.
	now = now.Add(8 * 24 * time.Hour)
	e.advance(clock, now)
	e.await(e.send(partnerA, cust, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: sub, Enabled: boolp(false)}))
	for _, id := range []string{order.ID, suspend.ID} {
		if kept, err := e.rdb.HExists(ctx, "csp:{"+cust+"}:inbox", id).Result(); err != nil || kept {
			t.Fatalf("the full inbox record of %s is still there (%v): the test would not exercise the retention", id, err)
		}
	}

	before, v := e.stateOf(cust), e.version(cust)
	seen, dups := len(e.events.Events()), e.events.Duplicates()
	for i, cmd := range []messages.Command{order, suspend} {
		msg, err := simulator.CommandMsg(partnerA, cmd)
		if err != nil {
			t.Fatal(err)
		}
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("retry-%d", i))
		msg.Header.Set(messages.HeaderSimulatedTime, now.Format(time.RFC3339Nano))
		if _, err := e.js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	// A later command of the customer that changes no entity: once its
	// answer is in, the re-sent commands were handled and their events, if
	// any, stored before it (G3).
	marker := e.send(partnerA, cust, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: "sub-none", Reason: "fraud"})
	if m := e.await(marker); len(m) != 1 || m[0].Type != messages.EvtCommandRejected {
		t.Fatalf("marker: %v", types(m))
	}

	if after := e.stateOf(cust); !reflect.DeepEqual(after, before) {
		t.Errorf("the re-sent commands changed the state:\nbefore %q\nafter  %q", before, after)
	}
	if got := e.version(cust); got != v+1 {
		t.Errorf("version moved by %d for the marker alone: a re-sent command was applied", got-v)
	}
	all := e.events.Events()
	if got := all[seen:]; len(got) != 1 || got[0].CommandID != marker.ID {
		t.Errorf("new events after the re-sends: %v, want only the marker's rejection", types(got))
	}
	if d, c := e.events.Duplicates()-dups, e.events.Conflicts(); d != 0 || len(c) != 0 {
		t.Errorf("%d repeated event IDs, conflicts %v", d, c)
	}
}

// The store recognises an applied command for at least as long as the
// command stream keeps it, whatever the stream's MaxAge is configured to:
// the two retentions cannot drift apart.
func TestG1_AppliedCommandsAreRememberedAsLongAsTheCommandStreamKeepsThem(t *testing.T) {
	if state.DefaultAppliedRetention < bus.DefaultMaxAge {
		t.Errorf("state.DefaultAppliedRetention %v is shorter than the command stream's default MaxAge %v", state.DefaultAppliedRetention, bus.DefaultMaxAge)
	}
	const day = 24 * time.Hour
	for _, tc := range []struct {
		maxAge  time.Duration
		applied time.Duration // State.AppliedRetention as configured
	}{{0, 0}, {7 * day, 0}, {30 * day, 0}, {90 * day, 0}, {90 * day, 10 * day}, {30 * day, 60 * day}} {
		streams := bus.StreamsConfig{CommandMaxAge: tc.maxAge}.WithDefaults()
		s := state.NewStore(nil, stateOptions(state.Options{AppliedRetention: tc.applied}, streams))
		if got := s.AppliedRetention(); got < streams.CommandMaxAge || got < tc.applied {
			t.Errorf("command MaxAge %v, configured %v: applied commands remembered %v", streams.CommandMaxAge, tc.applied, got)
		}
	}
}
