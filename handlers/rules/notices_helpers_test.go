package rules

import "github.com/cspreseller/csp-processor/messages"

// isNotice tells a window notice (CAN-1, QTY-2) apart: tests of other rules that
// move the clock past a refund window leave these notices out of the
// event lists they assert.
func isNotice(t messages.EventType) bool {
	return t == messages.EvtRefundWindowClosing || t == messages.EvtRefundWindowClosed
}

func withoutNotices(evs []EventDraft) []EventDraft {
	var out []EventDraft
	for _, e := range evs {
		if !isNotice(e.Type) {
			out = append(out, e)
		}
	}
	return out
}

// typesWithoutNotices is eventTypes less the window notices.
func typesWithoutNotices(out Outcome) []messages.EventType {
	var ts []messages.EventType
	for _, t := range eventTypes(out) {
		if !isNotice(t) {
			ts = append(ts, t)
		}
	}
	return ts
}

// withoutNoticeTimers leaves out the outcomes of timers that only sent
// window notices.
func withoutNoticeTimers(outs []Outcome) []Outcome {
	var kept []Outcome
	for _, o := range outs {
		if len(o.Events) == 0 || len(withoutNotices(o.Events)) > 0 {
			kept = append(kept, o)
		}
	}
	return kept
}
