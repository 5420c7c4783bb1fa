package state

import (
	"context"
	"testing"
	"time"
)

func TestTimerIndexReturnsDueTimersEarliestFirstAndForgetsRemovedOnes(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	a := TimerEntry{CustomerID: "C-1", TimerID: "T.a", Kind: "term_end", SubscriptionID: "s1", DueAt: base.Add(2 * time.Hour)}
	b := TimerEntry{CustomerID: "C-2", TimerID: "T.b", Kind: "term_end", SubscriptionID: "s2", DueAt: base.Add(time.Hour)}
	late := TimerEntry{CustomerID: "C-1", TimerID: "T.c", Kind: "billing_period", SubscriptionID: "s1", DueAt: base.Add(48 * time.Hour)}
	other := TimerEntry{CustomerID: "C-9", TimerID: "T.d", Kind: "term_end", SubscriptionID: "s9", DueAt: base}
	if err := s.IndexTimers(ctx, 3, []TimerEntry{a, b, late}); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexTimers(ctx, 4, []TimerEntry{other}); err != nil {
		t.Fatal(err)
	}
	// Indexing again is idempotent.
	if err := s.IndexTimers(ctx, 3, []TimerEntry{a}); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueTimers(ctx, 3, base.Add(2*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].TimerID != "T.b" || due[1].TimerID != "T.a" || !due[1].DueAt.Equal(a.DueAt) {
		t.Fatalf("due %+v", due)
	}
	if err := s.UnindexTimers(ctx, 3, due[:1]); err != nil {
		t.Fatal(err)
	}
	due, _ = s.DueTimers(ctx, 3, base.Add(72*time.Hour), 10)
	if len(due) != 2 || due[0].TimerID != "T.a" || due[1].TimerID != "T.c" {
		t.Fatalf("after removal %+v", due)
	}
	if due, _ := s.DueTimers(ctx, 3, base.Add(72*time.Hour), 1); len(due) != 1 {
		t.Fatalf("limit ignored: %d", len(due))
	}
}

func TestSimClockOnlyMovesForward(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	if c, err := s.SimClock(ctx); err != nil || !c.IsZero() {
		t.Fatalf("fresh clock %v %v", c, err)
	}
	t1 := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, err := s.SetSimClock(ctx, t1); err != nil || !got.Equal(t1) {
		t.Fatalf("set %v %v", got, err)
	}
	if got, _ := s.SetSimClock(ctx, t1.Add(-time.Hour)); !got.Equal(t1) {
		t.Fatalf("clock moved back to %v", got)
	}
	if got, _ := s.SimClock(ctx); !got.Equal(t1) {
		t.Fatalf("persisted %v", got)
	}
}

func TestAppliedReportsInboxMembership(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	if ok, err := s.Applied(ctx, "C-1", "cmd-1"); err != nil || ok {
		t.Fatalf("%v %v", ok, err)
	}
	if _, err := s.Commit(ctx, Commit{CustomerID: "C-1", CommandID: "cmd-1", Result: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Applied(ctx, "C-1", "cmd-1"); !ok {
		t.Fatal("not applied")
	}
}
