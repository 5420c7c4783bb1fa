package messages

import (
	"testing"
	"time"
)

// Every event's CloudEvents attributes come from its subject, ID and time:
// the type keeps its dots, the subject is the customer.
func TestCloudEventsHeadersOfAnEvent(t *testing.T) {
	at := time.Date(2027, 11, 21, 0, 30, 0, 5, time.FixedZone("CET", 3600))
	h, err := CloudEventsHeaders("ev-1", EventSubject("P-1", "C-9", EvtSubscriptionRenewed), at)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ce-specversion": "1.0", "ce-id": "ev-1", "ce-source": CloudEventsSource,
		"ce-type": "subscription.renewed", "ce-subject": "C-9", "ce-time": "2027-11-20T23:30:00.000000005Z",
		"Content-Type": "application/json"}
	for k, v := range want {
		if h[k] != v {
			t.Errorf("%s = %q, want %q", k, h[k], v)
		}
	}
	if len(h) != len(want) {
		t.Errorf("headers %v, want exactly %v", h, want)
	}
	for _, bad := range []string{"csp.evt.P-1.C-9", "csp.cmd.P-1.C-9.x", "csp.evt..C-9.x"} {
		if _, err := CloudEventsHeaders("ev-1", bad, at); err == nil {
			t.Errorf("subject %q accepted", bad)
		}
	}
}
