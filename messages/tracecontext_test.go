package messages

import (
	"strings"
	"testing"
)

// A command's traceparent is read whatever the case of its header name;
// one that is missing or invalid gives a trace derived from the customer
// and command, the same every time; an event's headers are a function of
// the command's context and the event ID, so a republished event carries
// the same ones.
func TestTraceContextOfCommandsAndEvents(t *testing.T) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, key := range []string{"traceparent", "Traceparent", "TRACEPARENT"} {
		sc := CommandTrace(func(k string) string {
			if k == key {
				return tp
			}
			return ""
		}, "C-1", "cmd-1")
		if got, _ := FormatTrace(sc); got != tp {
			t.Errorf("header %q: trace %q, want %q", key, got, tp)
		}
	}
	none := func(string) string { return "" }
	invalid := func(k string) string {
		if k == HeaderTraceparent {
			return "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01" // all-zero span ID
		}
		return ""
	}
	a, _ := FormatTrace(CommandTrace(none, "C-1", "cmd-1"))
	b, _ := FormatTrace(CommandTrace(invalid, "C-1", "cmd-1"))
	c, _ := FormatTrace(CommandTrace(none, "C-1", "cmd-2"))
	if a != b || a == c || !strings.HasPrefix(a, "00-") || !strings.HasSuffix(a, "-01") || a == tp {
		t.Errorf("derived traces: %q, %q (same command), %q (another); want the first two equal, sampled, and new", a, b, c)
	}

	h1 := EventTraceHeaders(tp, "k=v", "ev-1")
	h2 := EventTraceHeaders(tp, "k=v", "ev-2")
	if h1[HeaderTraceparent][:36] != tp[:36] || h1[HeaderParentSpanID] != "00f067aa0ba902b7" || h1[HeaderTracestate] != "k=v" {
		t.Errorf("event headers %v: want the command's trace, its span as parent and its state", h1)
	}
	if h1[HeaderTraceparent] == h2[HeaderTraceparent] || h1[HeaderTraceparent] == tp {
		t.Errorf("events share a span or reuse the command's: %v %v", h1, h2)
	}
	if again := EventTraceHeaders(tp, "k=v", "ev-1"); again[HeaderTraceparent] != h1[HeaderTraceparent] {
		t.Errorf("republished event: %v, first %v", again, h1)
	}
	// An entry stored without a context still gets a valid traceparent.
	if h := EventTraceHeaders("", "", "ev-1"); !strings.HasPrefix(h[HeaderTraceparent], "00-") || h[HeaderParentSpanID] == "" {
		t.Errorf("entry without a stored context: %v", h)
	}
}
