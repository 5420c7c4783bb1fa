package state

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
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

// roundTrips counts what a client sends to the server: one per command and
// one per pipeline (a MULTI/EXEC block is one).
type roundTrips struct{ n int }

func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n++; return next(ctx, cmd) }
}
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n++; return next(ctx, cmds) }
}

func TestCommitIndexesItsTimersInTheSameRoundTrip(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	ctx := context.Background()
	due := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	timer := TimerEntry{CustomerID: "C-1", TimerID: "T.a", Kind: "term_end", SubscriptionID: "s1", DueAt: due}
	c := Commit{CustomerID: "C-1", CommandID: "cmd-1", Set: map[string][]byte{"sub:s1": []byte("x")},
		Result: []byte("ok"), At: t0, Timers: []TimerEntry{timer}, Slot: 5}
	mustCommit(t, s, c) // loads the script into the server's cache

	trips := &roundTrips{}
	rdb.AddHook(trips)
	c2 := c
	c2.CommandID, c2.ExpectedVersion = "cmd-2", 1
	c2.Timers = []TimerEntry{{CustomerID: "C-1", TimerID: "T.b", Kind: "billing_period", SubscriptionID: "s1", DueAt: due.Add(time.Hour)}}
	mustCommit(t, s, c2)
	if trips.n != 1 {
		t.Fatalf("commit with timers took %d round trips, want 1", trips.n)
	}
	got, err := s.DueTimers(ctx, 5, due.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TimerID != "T.a" || got[1].TimerID != "T.b" {
		t.Fatalf("index %+v, want T.a then T.b", got)
	}

	// A commit that does not go through (here: a stale version) still
	// leaves its timers indexed: the index may announce a timer that does
	// not exist, never miss one that does.
	stale := c
	stale.CommandID = "cmd-3"
	stale.Timers = []TimerEntry{{CustomerID: "C-1", TimerID: "T.c", Kind: "term_end", SubscriptionID: "s1", DueAt: due.Add(2 * time.Hour)}}
	out, err := s.Commit(ctx, stale)
	if err != nil || out.Status != VersionConflict {
		t.Fatalf("stale commit = %+v, %v; want VersionConflict", out, err)
	}
	if got, _ := s.DueTimers(ctx, 5, due.Add(2*time.Hour), 10); len(got) != 3 {
		t.Fatalf("index after a conflict %+v, want 3 entries", got)
	}

	// After the server lost its scripts the commit still lands, index first.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c4 := c
	c4.CommandID, c4.ExpectedVersion = "cmd-4", 2
	c4.Timers = []TimerEntry{{CustomerID: "C-1", TimerID: "T.d", Kind: "term_end", SubscriptionID: "s1", DueAt: due.Add(3 * time.Hour)}}
	if out := mustCommit(t, s, c4); out.Version != 3 {
		t.Fatalf("commit after SCRIPT FLUSH: version %d, want 3", out.Version)
	}
	if got, _ := s.DueTimers(ctx, 5, due.Add(3*time.Hour), 10); len(got) != 4 || got[3].TimerID != "T.d" {
		t.Fatalf("index after SCRIPT FLUSH %+v", got)
	}
}

// A timer due inside a millisecond (a CAN-5 full-refund window closes a
// nanosecond after its last day) is not due at that millisecond's start,
// in the slot index or a test clock's: the scores are milliseconds, the
// due times nanoseconds. An entry indexed with a rounded-down score (as
// before scores were rounded up) is not returned early either.
func TestTimerIndexFindsATimerDueInsideAMillisecondOnlyWhenDue(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	ctx := context.Background()
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	due := base.Add(time.Nanosecond)
	entry := TimerEntry{CustomerID: "C-1", TimerID: "T.n", Kind: "refund_window_closed", SubscriptionID: "s1", DueAt: due}
	if err := s.IndexTimers(ctx, 2, []TimerEntry{entry}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Commit(ctx, Commit{CustomerID: "C-2", CommandID: "a", At: base.Add(-time.Hour), Set: map[string][]byte{"customer": []byte("x")},
		Timers: []TimerEntry{{CustomerID: "C-2", TimerID: "T.m", Kind: "refund_window_closed", SubscriptionID: "s2", DueAt: due}},
		Slot:   9, TestClock: "TC-ns"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		find func(upTo time.Time) ([]TimerEntry, error)
	}{
		{"slot index", func(upTo time.Time) ([]TimerEntry, error) { return s.DueTimers(ctx, 2, upTo, 10) }},
		{"test clock index", func(upTo time.Time) ([]TimerEntry, error) { return s.DueTestClockTimers(ctx, "TC-ns", upTo, 10) }},
	} {
		if got, err := tc.find(base); err != nil || len(got) != 0 {
			t.Fatalf("%s: at %v, a nanosecond before it is due: %+v %v", tc.name, base, got, err)
		}
		if got, err := tc.find(due); err != nil || len(got) != 1 || !got[0].DueAt.Equal(due) {
			t.Fatalf("%s: at its due time: %+v %v", tc.name, got, err)
		}
	}

	// An entry scored by rounding down is still not early.
	m, err := timerMember(entry)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.ZAdd(ctx, s.timerIndexKey(2), redis.Z{Score: float64(base.UnixMilli()), Member: m}).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.DueTimers(ctx, 2, base, 10); err != nil || len(got) != 0 {
		t.Fatalf("a rounded-down score found early: %+v %v", got, err)
	}
}
