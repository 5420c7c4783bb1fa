package model

import (
	"testing"
	"time"
)

// TRF-3 as the model expects it from the contract: a relationship request
// waits 30 days (the deployed policy), a declined or expired one cannot
// be answered and gives no relationship; a transfer waits 30 days, and
// once withdrawn, rejected or expired every later answer is
// transfer_not_open, with no bill.
func TestRule_TRF_3_ModelLifecycleOfRequests(t *testing.T) {
	m, c := newModel(t)
	at := time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	const q, r = "P-Q", "P-R"

	m.AskRelationship(c, q, at)
	if dl := c.AskDeadline(q); !dl.Equal(at.Add(30 * day)) {
		t.Fatalf("relationship deadline %s", dl)
	}
	if out := m.AnswerRelationship(c, q, true, at.Add(30*day)); out.Rejected != RejectNoRelationshipRequest {
		t.Fatalf("accept at the deadline: %+v", out)
	}
	if out := m.RequestTransfer(c, "TR-0", q, at.Add(31*day)); out.Rejected != RejectNoRelationship {
		t.Fatalf("request after an expired relationship: %+v", out)
	}
	m.AskRelationship(c, r, at)
	if out := m.AnswerRelationship(c, r, false, at.Add(time.Hour)); out.Rejected != "" || len(out.Bills) != 0 || c.Asks[r].State != StateDeclined {
		t.Fatalf("decline: %+v %+v", out, c.Asks[r])
	}
	if out := m.RequestTransfer(c, "TR-0", r, at.Add(2*time.Hour)); out.Rejected != RejectNoRelationship {
		t.Fatalf("request after a decline: %+v", out)
	}

	m.AskRelationship(c, q, at.Add(40*day))
	if out := m.AnswerRelationship(c, q, true, at.Add(40*day+time.Minute)); out.Rejected != "" {
		t.Fatalf("accept in time: %+v", out)
	}
	start := at.Add(41 * day)
	for _, tc := range []struct {
		name, state string
		after       time.Duration
	}{{"withdrawn", StateWithdrawn, time.Hour}, {"rejected", StateRejected, time.Hour}, {"expired", "", 30 * day}} {
		id := "TR-" + tc.name
		if out := m.RequestTransfer(c, id, q, start); out.Rejected != "" {
			t.Fatalf("%s: request %+v", tc.name, out)
		}
		if !m.TransferOpen(c, id, start.Add(30*day-time.Nanosecond)) {
			t.Fatalf("%s: closed before its deadline", tc.name)
		}
		if tc.state != "" {
			if out := m.CloseTransfer(c, id, tc.state, start.Add(tc.after)); out.Rejected != "" || len(out.Bills) != 0 {
				t.Fatalf("%s: %+v", tc.name, out)
			}
		}
		at := start.Add(tc.after)
		if out := m.CloseTransfer(c, id, StateWithdrawn, at); out.Rejected != RejectTransferNotOpen {
			t.Fatalf("%s: withdrawn again %+v", tc.name, out)
		}
		out, err := m.SubmitClosed(c, id, at)
		if err != nil || out.Rejected != RejectTransferNotOpen || len(out.Bills) != 0 {
			t.Fatalf("%s: submit %+v %v", tc.name, out, err)
		}
		if want := map[string]string{"": StateExpired}[tc.state]; want != "" && c.Requests[id].State != want {
			t.Fatalf("%s: state %s", tc.name, c.Requests[id].State)
		}
		start = start.Add(time.Minute)
	}
	m.RequestTransfer(c, "TR-open", q, start)
	if _, err := m.SubmitClosed(c, "TR-open", start); err == nil {
		t.Fatal("an open transfer was taken for closed")
	}
}
