package messages

import (
	"context"
	"crypto/sha256"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// W3C trace context (Trace Context Level 1) on commands and events.
//
// A command may carry a traceparent header (and a tracestate): the span of
// whoever sent it. Every event the command causes carries the same trace
// ID, the same trace flags and tracestate, and a span ID of its own (the
// parent-id field of its traceparent), whose parent is the command's span:
// HeaderParentSpanID names it, since a traceparent has room for one span
// only. A command without a valid traceparent (the scheduler's timer
// commands, a sender that does not trace) starts a trace: the processor
// takes a trace ID and a span ID derived from the customer and command ID,
// sampled, and its events continue it as above.
//
// Every ID is a pure function of its inputs (the command's context, the
// customer, the command and event IDs), so an event published again (a
// redelivered command, the outbox relay after a crash) carries the same
// headers as the first time, as its body is the same bytes.
const (
	HeaderTraceparent = "traceparent"
	HeaderTracestate  = "tracestate"
	// HeaderParentSpanID is the span ID (16 lowercase hex digits) of the
	// command's span: the parent of the event's span in its traceparent.
	HeaderParentSpanID = "Csp-Parent-Span-Id"
)

// traceContext is the W3C propagator (OpenTelemetry's): it parses and
// validates a traceparent and writes one.
var traceContext = propagation.TraceContext{}

// headerGetter reads one header of a message, case-insensitively: NATS
// headers keep their case, and some clients canonicalise "traceparent"
// to "Traceparent".
type headerGetter struct{ get func(key string) string }

func (g headerGetter) Get(key string) string {
	if v := g.get(key); v != "" {
		return v
	}
	if v := g.get(strings.ToUpper(key[:1]) + key[1:]); v != "" {
		return v
	}
	return g.get(strings.ToUpper(key))
}
func (headerGetter) Set(string, string) {}
func (headerGetter) Keys() []string     { return nil }

// CommandTrace is the trace context of a command: the one in its headers
// (get reads one) when its traceparent is valid, else a new trace derived
// from the customer and command ID.
func CommandTrace(get func(key string) string, customerID, commandID string) trace.SpanContext {
	ctx := traceContext.Extract(context.Background(), headerGetter{get: get})
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc
	}
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    deriveTraceID("trace", customerID, commandID),
		SpanID:     deriveSpanID("span", customerID, commandID),
		TraceFlags: trace.FlagsSampled,
	})
}

// FormatTrace writes a span context as a traceparent and a tracestate,
// the form an outbox entry keeps a command's context in.
func FormatTrace(sc trace.SpanContext) (traceparent, tracestate string) {
	c := propagation.MapCarrier{}
	traceContext.Inject(trace.ContextWithRemoteSpanContext(context.Background(), sc), c)
	return c[HeaderTraceparent], c[HeaderTracestate]
}

// EventTraceHeaders are the trace headers of event eventID caused by the
// command whose context is (traceparent, tracestate), as FormatTrace
// wrote it: the command's trace, the event's own span (derived from the
// trace and the event ID), and HeaderParentSpanID the command's span. A
// context that does not parse (an entry written before the processor
// kept one) starts a trace of the event's own.
func EventTraceHeaders(traceparent, tracestate, eventID string) map[string]string {
	cmd := trace.SpanContextFromContext(traceContext.Extract(context.Background(),
		propagation.MapCarrier{HeaderTraceparent: traceparent, HeaderTracestate: tracestate}))
	if !cmd.IsValid() {
		cmd = CommandTrace(func(string) string { return "" }, "event", eventID)
	}
	ev := cmd.WithSpanID(deriveSpanID("event", cmd.TraceID().String(), eventID))
	tp, ts := FormatTrace(ev)
	h := map[string]string{HeaderTraceparent: tp, HeaderParentSpanID: cmd.SpanID().String()}
	if ts != "" {
		h[HeaderTracestate] = ts
	}
	return h
}

// deriveTraceID and deriveSpanID are IDs taken from a hash of the parts.
func deriveTraceID(kind string, parts ...string) trace.TraceID {
	var id trace.TraceID
	fillID(id[:], kind, parts)
	return id
}

func deriveSpanID(kind string, parts ...string) trace.SpanID {
	var id trace.SpanID
	fillID(id[:], kind, parts)
	return id
}

// fillID fills id with the first bytes of a hash of kind and parts, never
// all zero (W3C forbids all-zero IDs).
func fillID(id []byte, kind string, parts []string) {
	h := sha256.New()
	h.Write([]byte("csp-trace\x00" + kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	copy(id, h.Sum(nil))
	if !slices.ContainsFunc(id, func(b byte) bool { return b != 0 }) {
		id[len(id)-1] = 1
	}
}
