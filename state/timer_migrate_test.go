package state

import (
	"context"
	"hash/fnv"
	"testing"
	"time"
)

func testSlotOf(c string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(c))
	return int(h.Sum32() % TimerSlots)
}

// Entries left in the per-partition keys of an earlier version move into
// their customers' slot keys, none is lost, the old keys are gone, and
// running the migration again (or after a crash between the add and the
// removal) moves nothing twice.
func TestMigrateTimerIndexMovesEveryOldEntryToItsSlot(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	ctx := context.Background()
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var all []TimerEntry
	for i := range 1300 { // more than one batch in partition 0
		c := "C-" + time.Duration(i).String()
		e := TimerEntry{CustomerID: c, TimerID: "T." + c, Kind: "term_end", SubscriptionID: "s", DueAt: base.Add(time.Duration(i) * time.Minute)}
		all = append(all, e)
		p := 0
		if i%3 == 1 {
			p = 7
		} else if i%3 == 2 {
			p = 1023
		}
		zs, _ := timerZs([]TimerEntry{e})
		if err := rdb.ZAdd(ctx, s.oldTimerIndexKey(p), zs...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A crash after the add and before the removal: one entry in both.
	if err := s.IndexTimers(ctx, testSlotOf(all[0].CustomerID), all[:1]); err != nil {
		t.Fatal(err)
	}
	moved, err := s.MigrateTimerIndex(ctx, testSlotOf)
	if err != nil || moved != len(all) {
		t.Fatalf("moved %d (%v), want %d", moved, err, len(all))
	}
	for _, p := range []int{0, 7, 1023} {
		if n := rdb.Exists(ctx, s.oldTimerIndexKey(p)).Val(); n != 0 {
			t.Errorf("old key of partition %d still exists", p)
		}
	}
	slots := make([]int, TimerSlots)
	for i := range slots {
		slots[i] = i
	}
	due, err := s.DueTimersOf(ctx, slots, base.Add(48*time.Hour), 10000)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]int{}
	total := 0
	for slot, entries := range due {
		for _, e := range entries {
			if testSlotOf(e.CustomerID) != slot {
				t.Fatalf("timer of %s in slot %d, want %d", e.CustomerID, slot, testSlotOf(e.CustomerID))
			}
			found[e.TimerID]++
			total++
		}
	}
	for _, e := range all {
		if found[e.TimerID] != 1 {
			t.Fatalf("timer %s indexed %d times after the migration", e.TimerID, found[e.TimerID])
		}
	}
	if total != len(all) {
		t.Errorf("%d entries in the slot keys, want %d", total, len(all))
	}
	if moved, err := s.MigrateTimerIndex(ctx, testSlotOf); err != nil || moved != 0 {
		t.Errorf("second run moved %d (%v)", moved, err)
	}
}

// DueTimersOf reads many slots in one round trip, each slot's entries
// earliest first.
func TestDueTimersOfReadsManySlotsInOneRoundTrip(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	ctx := context.Background()
	base := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	a := TimerEntry{CustomerID: "C-1", TimerID: "T.a", Kind: "term_end", DueAt: base.Add(time.Hour)}
	b := TimerEntry{CustomerID: "C-1", TimerID: "T.b", Kind: "term_end", DueAt: base}
	c := TimerEntry{CustomerID: "C-2", TimerID: "T.c", Kind: "term_end", DueAt: base}
	if err := s.IndexTimers(ctx, 3, []TimerEntry{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := s.IndexTimers(ctx, 900, []TimerEntry{c}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DueTimersOf(ctx, []int{1, 2}, base, 1); err != nil { // a connection in the pool
		t.Fatal(err)
	}
	trips := &roundTrips{}
	rdb.AddHook(trips)
	due, err := s.DueTimersOf(ctx, []int{900, 4, 3}, base.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if trips.n != 1 {
		t.Errorf("%d round trips, want 1", trips.n)
	}
	if len(due) != 3 || len(due[0]) != 1 || due[0][0].TimerID != "T.c" || len(due[1]) != 0 ||
		len(due[2]) != 2 || due[2][0].TimerID != "T.b" || due[2][1].TimerID != "T.a" {
		t.Fatalf("due %+v", due)
	}
}
