package state

import (
	"context"
	"testing"
	"time"
)

// A commit that archives moves the entity in the same atomic step: gone
// from the state, its record in the archive (scored by the commit's
// time), its tombstone among the tombstones; a load asked for the field
// returns the tombstone.
func TestArchiveCommitMovesFieldsAtomically(t *testing.T) {
	s, rdb := newTestStore(t, Options{})
	ctx := context.Background()
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-1", Result: []byte("ok"), At: t0,
		Set: map[string][]byte{"customer": []byte(`{}`), "sub:s1": []byte(`{"id":"s1","status":"cancelled"}`)}})
	out := mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-2", ExpectedVersion: 1, Result: []byte("ok"), At: t0.Add(time.Hour),
		Archive:    map[string][]byte{"sub:s1": []byte(`{"id":"s1","status":"cancelled"}`)},
		Tombstones: map[string][]byte{"sub:s1": []byte(`{"kind":"subscription","id":"s1"}`)}})
	if out.Status != Committed || out.Version != 2 {
		t.Fatalf("commit %+v", out)
	}
	if ok, _ := rdb.HExists(ctx, s.stateKey("c1"), "sub:s1").Result(); ok {
		t.Fatal("archived field still in the state")
	}
	arc, err := s.Archive(ctx, "c1")
	if err != nil || string(arc["sub:s1"]) != `{"id":"s1","status":"cancelled"}` {
		t.Fatalf("archive %q, %v", arc, err)
	}
	if score, err := rdb.ZScore(ctx, s.archiveTSKey("c1"), "sub:s1").Result(); err != nil || int64(score) != t0.Add(time.Hour).UnixMilli() {
		t.Fatalf("archivets score %v, %v", score, err)
	}
	snap, err := s.LoadReferencing(ctx, "c1", "", []string{"sub:s1", "sub:nope"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Fields["sub:s1"]; ok || len(snap.Tombstones) != 1 || string(snap.Tombstones["sub:s1"]) != `{"kind":"subscription","id":"s1"}` {
		t.Fatalf("load: fields %v tombstones %q", snap.Fields, snap.Tombstones)
	}
}

// A decision that found a named field neither live nor tombstoned (made on
// a cached state without tombstones) is refused as a version conflict when
// the field is tombstoned, and writes nothing.
func TestArchiveAbsentTombstonedFieldRefuses(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-1", Result: []byte("ok"), At: t0,
		Set: map[string][]byte{"sub:s1": []byte(`{}`)}})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-2", ExpectedVersion: 1, Result: []byte("ok"), At: t0,
		Archive: map[string][]byte{"sub:s1": []byte(`{}`)}, Tombstones: map[string][]byte{"sub:s1": []byte(`{}`)}})
	before := mustDump(t, s, "c1")
	out, err := s.Commit(context.Background(), Commit{CustomerID: "c1", CommandID: "cmd-3", ExpectedVersion: 2, Result: []byte("ok"), At: t0,
		Absent: []string{"order:o1", "sub:s1"}, Events: []OutboxEntry{ev("e1")}})
	if err != nil || out.Status != VersionConflict {
		t.Fatalf("absent but tombstoned: %+v, %v", out, err)
	}
	if after := mustDump(t, s, "c1"); len(after) != len(before) {
		t.Fatalf("refused commit wrote: %v -> %v", before, after)
	}
	if out := mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-3", ExpectedVersion: 2, Result: []byte("ok"), At: t0,
		Absent: []string{"order:o1"}}); out.Status != Committed {
		t.Fatalf("absent and not tombstoned: %+v", out)
	}
}

// Archive records older than the archive retention are trimmed by later
// commits; the tombstones stay.
func TestArchiveRetentionTrimsRecordsKeepsTombstones(t *testing.T) {
	s, rdb := newTestStore(t, Options{ArchiveRetention: 48 * time.Hour})
	ctx := context.Background()
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-1", Result: []byte("ok"), At: t0,
		Set: map[string][]byte{"sub:s1": []byte(`{}`), "sub:s2": []byte(`{}`)}})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-2", ExpectedVersion: 1, Result: []byte("ok"), At: t0,
		Archive: map[string][]byte{"sub:s1": []byte(`{}`)}, Tombstones: map[string][]byte{"sub:s1": []byte(`{}`)}})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-3", ExpectedVersion: 2, Result: []byte("ok"), At: t0.Add(24 * time.Hour),
		Archive: map[string][]byte{"sub:s2": []byte(`{}`)}, Tombstones: map[string][]byte{"sub:s2": []byte(`{}`)}})
	// 48 hours after the first archiving: s1 is past the retention, s2 not.
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd-4", ExpectedVersion: 3, Result: []byte("ok"), At: t0.Add(48*time.Hour + time.Millisecond)})
	arc, err := s.Archive(ctx, "c1")
	if err != nil || len(arc) != 1 || arc["sub:s2"] == nil {
		t.Fatalf("archive after trim %q, %v", arc, err)
	}
	if n, _ := rdb.ZCard(ctx, s.archiveTSKey("c1")).Result(); n != 1 {
		t.Fatalf("archivets has %d entries", n)
	}
	if n, _ := rdb.HLen(ctx, s.tombsKey("c1")).Result(); n != 2 {
		t.Fatalf("tombstones %d, want both kept", n)
	}
}
