package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// The activity list: a commit appends its records atomically with the
// rest, the list keeps the newest ActivityMax, and the marker is the newest
// instant trimmed away (or a seeded one, whichever is later). Load never
// shows the marker, and a commit cannot set it.
func TestCommitAppendsAndTrimsTheActivityList(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	rec := func(n int) ActivityRecord {
		return ActivityRecord{At: at(n), Entry: []byte(fmt.Sprintf(`{"n":%d}`, n))}
	}
	version := int64(0)
	commit := func(c Commit) {
		t.Helper()
		c.CustomerID, c.CommandID, c.ExpectedVersion, c.At = "c1", fmt.Sprintf("cmd-%d", version), version, t0
		if out := mustCommit(t, s, c); out.Status != Committed {
			t.Fatalf("commit %+v", out)
		}
		version++
	}
	read := func() ActivityLog {
		t.Helper()
		log, err := s.Activity(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		return log
	}

	commit(Commit{Activity: []ActivityRecord{rec(1), rec(2)}, ActivityMax: 3})
	if log := read(); len(log.Records) != 2 || string(log.Records[1].Entry) != `{"n":2}` || !log.Records[0].At.Equal(at(1)) || !log.TrimmedThrough.IsZero() {
		t.Fatalf("%+v", log)
	}
	commit(Commit{Activity: []ActivityRecord{rec(3), rec(4), rec(5)}, ActivityMax: 3})
	log := read()
	if len(log.Records) != 3 || string(log.Records[0].Entry) != `{"n":3}` || !log.TrimmedThrough.Equal(at(2)) {
		t.Fatalf("%+v", log)
	}
	// A commit without activity leaves list and marker alone; a seed
	// earlier than the marker does not move it, a later one does.
	commit(Commit{Set: map[string][]byte{"customer": []byte("x")}})
	commit(Commit{ActivityTrimmedThrough: at(1)})
	if log := read(); len(log.Records) != 3 || !log.TrimmedThrough.Equal(at(2)) {
		t.Fatalf("%+v", log)
	}
	commit(Commit{Activity: []ActivityRecord{rec(6)}, ActivityMax: 5, ActivityTrimmedThrough: at(2).Add(time.Nanosecond)})
	if log := read(); len(log.Records) != 4 || !log.TrimmedThrough.Equal(at(2).Add(time.Nanosecond)) {
		t.Fatalf("%+v", log)
	}
	// A lower cap trims at the next append; a record older than the
	// marker (a clock that went back) does not move the marker back.
	commit(Commit{Activity: []ActivityRecord{rec(0)}, ActivityMax: 1})
	if log := read(); len(log.Records) != 1 || string(log.Records[0].Entry) != `{"n":0}` || !log.TrimmedThrough.Equal(at(6)) {
		t.Fatalf("%+v", log)
	}
	snap, err := s.Load(ctx, "c1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Fields[activityTrimmedField]; ok || string(snap.Fields["customer"]) != "x" {
		t.Fatalf("load %s", show(snap))
	}
	for _, c := range []Commit{
		{CustomerID: "c1", CommandID: "x", Set: map[string][]byte{activityTrimmedField: []byte("1")}},
		{CustomerID: "c1", CommandID: "x", Delete: []string{activityTrimmedField}},
		{CustomerID: "c1", CommandID: "x", Activity: []ActivityRecord{rec(9)}},
	} {
		if _, err := s.Commit(ctx, c); err == nil {
			t.Fatalf("commit %+v accepted", c)
		}
	}
	// A duplicate appends nothing.
	if out, err := s.Commit(ctx, Commit{CustomerID: "c1", CommandID: "cmd-0", ExpectedVersion: version,
		Activity: []ActivityRecord{rec(9)}, ActivityMax: 9}); err != nil || out.Status != Duplicate {
		t.Fatalf("%+v %v", out, err)
	}
	if log := read(); len(log.Records) != 1 {
		t.Fatalf("%+v", log)
	}
}

// The list's instants are fixed-width, so the script's string comparison
// is time order, and its 30-byte prefix is the instant.
func TestActivityInstantsCompareAsStrings(t *testing.T) {
	if activityAtLen != 30 {
		t.Fatalf("activityAtLen %d: the commit script reads 30", activityAtLen)
	}
	a := encodeActivity(ActivityRecord{At: time.Date(2026, 3, 10, 9, 0, 0, 0, time.FixedZone("x", 3600)), Entry: []byte("e")})
	b := encodeActivity(ActivityRecord{At: time.Date(2026, 3, 10, 8, 0, 0, 1, time.UTC), Entry: []byte("e")})
	if a[:30] >= b[:30] || a != "2026-03-10T08:00:00.000000000Z e" {
		t.Fatalf("%q %q", a, b)
	}
	r, err := decodeActivity(b)
	if err != nil || !r.At.Equal(time.Date(2026, 3, 10, 8, 0, 0, 1, time.UTC)) || string(r.Entry) != "e" {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := decodeActivity("not an element"); err == nil {
		t.Fatal("a malformed element decoded")
	}
}
