package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// G2: what a crash left in the outbox (committed, never confirmed as
// published) reaches the event stream through the relay when the processor
// starts, with its original ID and bytes.
func TestG2_OutboxRelayPublishesWhatACrashLeftBehind(t *testing.T) {
	e := newEnv(t)
	ev := messages.Event{ID: messages.EventID("C-RELAY", "lost-1", 0), Type: messages.EvtCustomerCreated, SchemaVersion: 1,
		CommandID: "lost-1", CommandType: messages.CmdCustomerCreated, PartnerID: partnerA, CustomerID: "C-RELAY",
		OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Data:       &messages.CustomerCreatedEvent{CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}}
	body, err := messages.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	// The state of a processor that died after its commit: the event sits in
	// the outbox, written ten minutes ago.
	_, err = e.store.Commit(context.Background(), state.Commit{CustomerID: "C-RELAY", CommandID: "lost-1",
		Events: []state.OutboxEntry{{ID: ev.ID, Subject: messages.EventSubject(partnerA, "C-RELAY", ev.Type), Data: body}},
		Result: []byte(`{"outcome":"accepted","events":1}`), At: time.Now().Add(-10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	e.startProcessor(func(c *Config) { c.RelayMinAge = time.Minute })

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(evs) == 1 }); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.events.Body(ev.ID); string(got) != string(body) {
		t.Fatalf("relayed %s, want %s", got, body)
	}
	// And it is gone from the outbox once published.
	if err := waitFor(ctx, func() bool {
		d, _ := e.store.Dump(context.Background(), "C-RELAY")
		_, left := d["csp:{C-RELAY}:outbox"]
		return !left
	}); err != nil {
		t.Fatal("the relayed entry stayed in the outbox")
	}
}

// waitFor polls cond until it holds or ctx ends (for state that has no
// event to wait on).
func waitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
