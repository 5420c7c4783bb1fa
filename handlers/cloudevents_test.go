package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/state"
)

// eventHeaders reads the stored event id from the event stream and
// returns its headers.
func (e *env) eventHeaders(id string) map[string]string {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.js.OrderedConsumer(ctx, bus.DefaultEventStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		e.t.Fatal(err)
	}
	for {
		m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			e.t.Fatalf("event %s not found in the event stream: %v", id, err)
		}
		if m.Headers().Get(jetstream.MsgIDHeader) != id {
			continue
		}
		out := map[string]string{}
		for k := range m.Headers() {
			out[k] = m.Headers().Get(k)
		}
		return out
	}
}

// Every event is a CloudEvent in binary mode: the processor's direct
// publish and the outbox relay (an entry read back from Redis, whose time
// comes from the body) both set the ce- headers. The direct publish also
// says when its commit returned (Csp-Committed-At); the relay, which does
// not know, leaves that header out.
func TestEventsCarryCloudEventsHeaders(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	const cust = "C-CE"
	sent := time.Now()
	evs := e.await(e.send(partnerA, cust, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
		CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}))
	if len(evs) == 0 {
		t.Fatal("no event")
	}
	ev := evs[0]
	h := e.eventHeaders(ev.ID)
	want := map[string]string{"ce-specversion": "1.0", "ce-id": ev.ID, "ce-source": messages.CloudEventsSource,
		"ce-type": string(ev.Type), "ce-subject": cust, "ce-time": ev.OccurredAt.UTC().Format(time.RFC3339Nano),
		"Content-Type": "application/json"}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("direct publish: header %s = %q, want %q", k, h[k], v)
		}
	}
	committed, err := messages.ParseCommittedAt(h[messages.HeaderCommittedAt])
	if err != nil || committed.Before(sent) || committed.After(time.Now()) {
		t.Errorf("direct publish: %s %q (%v), want an instant between the send at %s and now",
			messages.HeaderCommittedAt, h[messages.HeaderCommittedAt], err, sent.UTC().Format(time.RFC3339Nano))
	}

	// The relay's path: no OccurredAt on the entry; the body says when.
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	relayed := messages.Event{ID: "ce-relayed-1", Type: messages.EvtCustomerCreated, SchemaVersion: messages.SchemaVersion,
		CommandID: "cmd-ce", CommandType: messages.CmdCustomerCreated, PartnerID: partnerA, CustomerID: cust, OccurredAt: at,
		Data: &messages.CustomerCreatedEvent{CompanyName: "Contoso", Segment: "commercial", Country: "US"}}
	body, err := messages.EncodeEvent(relayed)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := bus.NewPublisher(e.js, bus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	entry := state.OutboxEntry{ID: relayed.ID, Subject: messages.EventSubject(partnerA, cust, relayed.Type), Data: body,
		WrittenAt: at.Add(time.Hour)}
	if err := PublishOutbox(pub, []state.OutboxEntry{entry}); err != nil {
		t.Fatal(err)
	}
	rh := e.eventHeaders(relayed.ID)
	if got := rh["ce-time"]; got != at.Format(time.RFC3339Nano) {
		t.Errorf("relayed: ce-time %q, want the body's occurred_at %s", got, at.Format(time.RFC3339Nano))
	}
	if got, ok := rh[messages.HeaderCommittedAt]; ok {
		t.Errorf("relayed: %s %q, want none (the relay does not know when the commit was)", messages.HeaderCommittedAt, got)
	}
}
