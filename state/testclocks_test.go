package state

import (
	"context"
	"testing"
	"time"
)

// A test clock is created once and moves forward only; a commit on a
// test clock indexes its timers under the clock, where the slots' reads
// (the global clock's) never see them.
func TestTestClockCreatedOnceMovesForwardAndHoldsItsCustomersTimers(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	base := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	if _, ok, err := s.TestClock(ctx, "TC-1"); err != nil || ok {
		t.Fatalf("before creation: %v %v", ok, err)
	}
	if now, created, err := s.CreateTestClock(ctx, "TC-1", base); err != nil || !created || !now.Equal(base) {
		t.Fatalf("create: %v %v %v", now, created, err)
	}
	if now, created, err := s.CreateTestClock(ctx, "TC-1", base.Add(time.Hour)); err != nil || created || !now.Equal(base) {
		t.Fatalf("create again: %v %v %v", now, created, err)
	}
	if now, err := s.SetTestClock(ctx, "TC-1", base.Add(48*time.Hour)); err != nil || !now.Equal(base.Add(48*time.Hour)) {
		t.Fatalf("forward: %v %v", now, err)
	}
	if now, err := s.SetTestClock(ctx, "TC-1", base); err != nil || !now.Equal(base.Add(48*time.Hour)) {
		t.Fatalf("back: %v %v", now, err)
	}

	timer := TimerEntry{CustomerID: "C-1", TimerID: "T.a", Kind: "term_end", SubscriptionID: "s1", DueAt: base.Add(time.Hour)}
	if _, err := s.Commit(ctx, Commit{CustomerID: "C-1", CommandID: "a", At: base, Set: map[string][]byte{"customer": []byte("x")},
		Timers: []TimerEntry{timer}, Slot: 7, TestClock: "TC-1"}); err != nil {
		t.Fatal(err)
	}
	if due, err := s.DueTimers(ctx, 7, base.Add(24*time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("slot 7: %+v %v", due, err)
	}
	due, err := s.DueTestClockTimers(ctx, "TC-1", base.Add(24*time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].TimerID != "T.a" || !due[0].DueAt.Equal(timer.DueAt) {
		t.Fatalf("TC-1: %+v %v", due, err)
	}
	if err := s.UnindexTestClockTimers(ctx, "TC-1", due); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.DueTestClockTimers(ctx, "TC-1", base.Add(24*time.Hour), 10); len(due) != 0 {
		t.Fatalf("after unindexing: %+v", due)
	}
}

// The simulated clock and a test clock move by a single nanosecond (a CAN-5
// window closes a nanosecond after its last day): the scripts compare
// instants exactly, not as Lua doubles. A clock stored unpadded by an
// earlier version still never moves back.
func TestClocksMoveByOneNanosecond(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	ctx := context.Background()
	base := time.Date(2026, 1, 6, 6, 17, 0, 0, time.UTC)
	next := base.Add(time.Nanosecond)
	if _, err := s.SetSimClock(ctx, base); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SetSimClock(ctx, next); err != nil || !got.Equal(next) {
		t.Fatalf("simulated clock moved to %v (%v), want %v", got, err, next)
	}
	if _, _, err := s.CreateTestClock(ctx, "TC-ns", base); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SetTestClock(ctx, "TC-ns", next); err != nil || !got.Equal(next) {
		t.Fatalf("test clock moved to %v (%v), want %v", got, err, next)
	}

	later := base.Add(time.Hour)
	if err := rdb.HSet(ctx, s.prefix+":simclock", "t", later.Format(time.RFC3339Nano), "ns", later.UnixNano()).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SetSimClock(ctx, next); err != nil || !got.Equal(later) {
		t.Fatalf("a clock stored unpadded moved back to %v (%v)", got, err)
	}
	if got, err := s.SetSimClock(ctx, later.Add(time.Nanosecond)); err != nil || !got.Equal(later.Add(time.Nanosecond)) {
		t.Fatalf("from an unpadded clock: %v (%v)", got, err)
	}
}
