package handlers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
)

// G1: the same command delivered many times changes state once and emits
// its events once. The copies are published with distinct Nats-Msg-Ids so
// that JetStream's duplicate window does not hide them: every copy reaches
// the processor and only the inbox stands between it and a second
// application. The event stream's own duplicate window is shortened so that
// it cannot hide a second, different event published under the same ID
// either: the watcher would report it as a conflict.
func TestG1_SameCommandDeliveredManyTimesHasOneEffect(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	shortenEventDuplicateWindow(t, e)
	e.createCustomer(partnerA, "C-G1")
	sub := e.buy(partnerA, "C-G1", 10)
	v0 := e.version("C-G1")

	cancel := messages.Command{ID: "cancel-once", Type: messages.CmdSubscriptionCancel, CustomerID: "C-G1",
		Data: &messages.CancelData{SubscriptionID: sub}}
	const copies = 25
	info, err := e.js.Stream(context.Background(), bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	before := info.CachedInfo().State.Msgs
	for i := range copies {
		msg, err := simulator.CommandMsg(partnerA, cancel)
		if err != nil {
			t.Fatal(err)
		}
		msg.Header.Set(jetstream.MsgIDHeader, fmt.Sprintf("copy-%d", i))
		if _, err := e.js.PublishMsg(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	si, err := e.js.Stream(context.Background(), bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	if got := si.CachedInfo().State.Msgs - before; got != copies {
		t.Fatalf("the stream stored %d copies, want %d: the test would not exercise the inbox", got, copies)
	}
	// A later command of the same customer: once its answer is in, every
	// copy before it was handled (G3).
	marker := e.send(partnerA, "C-G1", messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: sub, Enabled: boolp(true)})
	e.await(marker)

	var mine []messages.Event
	for _, ev := range e.events.Events() {
		if ev.CommandID == cancel.ID {
			mine = append(mine, ev)
		}
	}
	if len(mine) != 2 || len(ofType(mine, messages.EvtBillingCredit)) != 1 || len(ofType(mine, messages.EvtSubscriptionCancelled)) != 1 {
		t.Fatalf("want exactly one credit and one cancellation for %d deliveries, got %d events: %v", copies, len(mine), types(mine))
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatalf("different events under one ID: %v", c)
	}
	// The cancellation and the marker committed; the 24 other copies did not.
	if got := e.version("C-G1"); got != v0+2 {
		t.Fatalf("customer version moved by %d for one cancellation and one marker: copies were applied", got-v0)
	}
}

// version is the customer's commit counter.
func (e *env) version(customer string) int64 {
	e.t.Helper()
	snap, err := e.store.Load(context.Background(), customer, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return snap.Version
}

func shortenEventDuplicateWindow(t *testing.T, e *env) {
	t.Helper()
	shortenDuplicateWindow(t, e, bus.DefaultEventStream)
}

// shortenDuplicateWindow shortens a stream's JetStream duplicate window to
// 100 ms, so a test need not wait the 2 minutes a repeat takes to pass it.
func shortenDuplicateWindow(t *testing.T, e *env, stream string) {
	t.Helper()
	s, err := e.js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	// Twice: on a change of the window, nats-server (2.15.2) fires its
	// purge of remembered message IDs at once but may run it before it
	// has taken the new window, with the old one (2 minutes), and then
	// keeps the IDs that long. The second change's purge runs with the
	// first's short window at the latest.
	cfg := s.CachedInfo().Config
	for _, w := range []time.Duration{150 * time.Millisecond, 100 * time.Millisecond} {
		cfg.Duplicates = w
		if _, err := e.js.UpdateStream(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
}

func boolp(b bool) *bool { return &b }

func types(evs []messages.Event) []messages.EventType {
	out := make([]messages.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}
