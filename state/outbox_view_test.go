package state

import (
	"context"
	"testing"
	"time"
)

// PendingEvents lists what waits in the outboxes oldest first, every
// customer's or one's, cut at the limit (saying so), and no longer lists
// what MarkPublished removed.
func TestPendingEventsAreListedOldestFirst(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	for i, c := range []string{"C-LATE", "C-EARLY"} {
		mustCommit(t, s, Commit{CustomerID: c, CommandID: "cmd-1", Result: []byte(`{}`), At: t0,
			WrittenAt: t0.Add(time.Duration(-i) * time.Minute),
			Events:    []OutboxEntry{{ID: c + "-e1", Subject: "csp.evt.P.x", Data: []byte("abc")}, {ID: c + "-e2", Subject: "csp.evt.P.y", Data: []byte("de")}}})
	}
	all, customers, truncated, err := s.PendingEvents(ctx, "", 10, 100)
	if err != nil || customers != 2 || truncated || len(all) != 4 {
		t.Fatalf("%d entries of %d customers (truncated %v): %v", len(all), customers, truncated, err)
	}
	if all[0].CustomerID != "C-EARLY" || all[0].EventID != "C-EARLY-e1" || all[1].EventID != "C-EARLY-e2" ||
		all[2].CustomerID != "C-LATE" || all[0].Bytes != 3 || !all[0].WrittenAt.Equal(t0.Add(-time.Minute)) {
		t.Fatalf("entries %+v", all)
	}
	first, _, truncated, err := s.PendingEvents(ctx, "", 1, 100)
	if err != nil || len(first) != 1 || !truncated || first[0].EventID != "C-EARLY-e1" {
		t.Fatalf("limit 1: %+v truncated %v: %v", first, truncated, err)
	}
	if err := s.MarkPublished(ctx, "C-LATE", "C-LATE-e1", "C-LATE-e2"); err != nil {
		t.Fatal(err)
	}
	late, customers, _, err := s.PendingEvents(ctx, "C-LATE", 10, 100)
	if err != nil || len(late) != 0 || customers != 0 {
		t.Fatalf("C-LATE after publishing: %+v, %d customers: %v", late, customers, err)
	}
	if _, _, _, err := s.PendingEvents(ctx, "C{1}", 10, 100); err == nil {
		t.Fatal("a customer ID with braces was accepted")
	}
}
