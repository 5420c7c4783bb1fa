package handlers

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

const (
	testTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	testSpanID  = "00f067aa0ba902b7"
)

// sendTraced stores cmd with the given extra headers (traceparent,
// tracestate) and returns it.
func (e *env) sendTraced(partner string, cmd messages.Command, headers map[string]string) messages.Command {
	e.t.Helper()
	msg, err := messages.NewCommandMsg(partner, messages.RoleAdminAgent, cmd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		msg.Header.Set(k, v)
	}
	if _, err := e.js.PublishMsg(context.Background(), msg); err != nil {
		e.t.Fatal(err)
	}
	return cmd
}

// eventTrace is an event's trace headers, split.
type eventTrace struct {
	traceID, spanID, flags, parentSpan, state string
}

func (e *env) traceOf(eventID string) eventTrace {
	e.t.Helper()
	h := e.eventHeaders(eventID)
	parts := strings.Split(h[messages.HeaderTraceparent], "-")
	if len(parts) != 4 || parts[0] != "00" || len(parts[1]) != 32 || len(parts[2]) != 16 {
		e.t.Fatalf("event %s: traceparent %q is not a W3C traceparent", eventID, h[messages.HeaderTraceparent])
	}
	return eventTrace{traceID: parts[1], spanID: parts[2], flags: parts[3], parentSpan: h[messages.HeaderParentSpanID], state: h[messages.HeaderTracestate]}
}

// checkContinued requires every event to continue the command's trace:
// its trace ID, flags and state, a span of its own whose parent is the
// command's span.
func (e *env) checkContinued(evs []messages.Event, traceID, parentSpan, flags, state string) {
	e.t.Helper()
	spans := map[string]bool{}
	for _, ev := range evs {
		tr := e.traceOf(ev.ID)
		if tr.traceID != traceID || tr.parentSpan != parentSpan || tr.flags != flags || tr.state != state {
			e.t.Errorf("event %s (%s): %+v, want trace %s, parent span %s, flags %s, state %q", ev.ID, ev.Type, tr, traceID, parentSpan, flags, state)
		}
		if tr.spanID == parentSpan || spans[tr.spanID] {
			e.t.Errorf("event %s (%s): span %s is the command's or another event's", ev.ID, ev.Type, tr.spanID)
		}
		spans[tr.spanID] = true
	}
}

// A command's traceparent and tracestate reach every event it causes: the
// same trace, each event a span of its own whose parent is the command's
// span. A command without one (or with an invalid one) starts a trace its
// events share.
func TestTraceContextIsCarriedFromACommandToItsEvents(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	const cust = "C-TRACE"
	e.createCustomer(partnerA, cust)

	qty := 2
	order := e.sendTraced(partnerA, messages.Command{ID: "trace-order", Type: messages.CmdOrderPlaced, CustomerID: cust,
		Data: &messages.OrderPlacedData{OrderID: "O-T1", Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}}},
		map[string]string{"traceparent": "00-" + testTraceID + "-" + testSpanID + "-01", "tracestate": "vendor=abc"})
	evs := e.await(order)
	if len(evs) < 3 {
		t.Fatalf("order: events %v, want order.processed, subscription.created and billing.charge", types(evs))
	}
	e.checkContinued(evs, testTraceID, testSpanID, "01", "vendor=abc")

	// Without a traceparent, and with an all-zero trace ID (invalid): a new
	// trace, one per command, shared by its events.
	var traces []string
	for i, headers := range []map[string]string{nil, {"traceparent": "00-00000000000000000000000000000000-" + testSpanID + "-01"}} {
		cmd := e.sendTraced(partnerA, messages.Command{ID: nextID("trace-untraced"), Type: messages.CmdOrderPlaced, CustomerID: cust,
			Data: &messages.OrderPlacedData{OrderID: nextID("O-T"), Lines: []messages.OrderLine{
				{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}}}, headers)
		evs := e.await(cmd)
		if len(evs) < 2 {
			t.Fatalf("untraced order %d: events %v", i, types(evs))
		}
		first := e.traceOf(evs[0].ID)
		if first.traceID == testTraceID || first.traceID == strings.Repeat("0", 32) || first.parentSpan == "" {
			t.Fatalf("untraced order %d: %+v, want a new trace", i, first)
		}
		e.checkContinued(evs, first.traceID, first.parentSpan, "01", "")
		traces = append(traces, first.traceID)
	}
	if traces[0] == traces[1] {
		t.Fatalf("two untraced commands share trace %s", traces[0])
	}
}

// An event that reaches the event stream only through the outbox relay
// (the processor that committed it could not publish it and stopped; the
// command was gone before a redelivery) carries its command's trace: the
// trace context is stored with the outbox entry.
func TestTraceContextSurvivesTheOutboxRelay(t *testing.T) {
	e := newEnv(t)
	const cust = "C-TRACE-RELAY"
	// The first processor commits and can publish nothing.
	var failures atomic.Int32
	failures.Store(1 << 30)
	_, stop := e.runProcessor(func(c *Config) { c.wrapPublisher = failFirst(&failures) })
	cmd := messages.Command{ID: "trace-relay", Type: messages.CmdCustomerCreated, CustomerID: cust,
		Data: &messages.CustomerCreatedData{CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"}}
	msg, err := messages.NewCommandMsg(partnerA, messages.RoleAdminAgent, cmd)
	if err != nil {
		t.Fatal(err)
	}
	msg.Header.Set("traceparent", "00-"+testTraceID+"-"+testSpanID+"-01")
	ack, err := e.js.PublishMsg(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := waitFor(ctx, func() bool { return e.eventsOfCommand(ctx, cmd) != nil }); err != nil {
		t.Fatal("the command was not committed within 20s")
	}
	stop()
	// As if the command had been acked and the outbox's deletion lost: no
	// redelivery republishes it, only the relay can.
	stream, err := e.js.Stream(ctx, e.bus.Streams.CommandStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.DeleteMsg(ctx, ack.Sequence); err != nil {
		t.Fatal(err)
	}
	if n := len(e.events.Events()); n != 0 {
		t.Fatalf("%d events published by the processor that could not publish", n)
	}

	e.startProcessor(func(c *Config) { c.RelayMinAge = time.Millisecond; c.RelayInterval = 50 * time.Millisecond })
	evs := e.await(cmd)
	e.checkContinued(evs, testTraceID, testSpanID, "01", "")
}
