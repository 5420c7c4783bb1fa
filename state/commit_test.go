package state

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCommitOutcome(t *testing.T) {
	order := Commit{
		CustomerID: "c1", CommandID: "cmd-1", ExpectedVersion: 0,
		Set:    map[string][]byte{"customer": []byte("alice")},
		Events: []OutboxEntry{ev("e1"), ev("e2")},
		Result: []byte("accepted"),
		At:     t0,
	}
	second := Commit{
		CustomerID: "c1", CommandID: "cmd-2", ExpectedVersion: 1,
		Set:    map[string][]byte{"sub:s1": []byte("active")},
		Events: []OutboxEntry{ev("e3")},
		Result: []byte("ok"),
		At:     t0.Add(time.Second),
	}
	with := func(c Commit, edit func(*Commit)) Commit {
		edit(&c)
		return c
	}
	tests := []struct {
		name      string
		setup     []Commit
		published []string // event IDs of c1 marked published after setup
		commit    Commit
		want      CommitOutcome
		unchanged bool // the commit must leave every key of c1 as it was
	}{
		{
			name:   "first command commits at version 1",
			commit: order,
			want:   CommitOutcome{Status: Committed, Version: 1},
		},
		{
			name:   "next command commits on the version it read",
			setup:  []Commit{order},
			commit: second,
			want:   CommitOutcome{Status: Committed, Version: 2},
		},
		{
			name:   "command without field changes still bumps the version",
			setup:  []Commit{order},
			commit: Commit{CustomerID: "c1", CommandID: "rejected", ExpectedVersion: 1, Result: []byte("rejected: no stock"), At: t0},
			want:   CommitOutcome{Status: Committed, Version: 2},
		},
		{
			name:   "same command ID is a duplicate answering what was stored",
			setup:  []Commit{order, second},
			commit: with(order, func(c *Commit) { c.ExpectedVersion = 2; c.Result = []byte("different") }),
			want: CommitOutcome{Status: Duplicate, Version: 2, Seen: &InboxHit{
				Result:   []byte("accepted"),
				EventIDs: []string{"e1", "e2"},
				Pending:  []OutboxEntry{written(ev("e1"), t0), written(ev("e2"), t0)},
			}},
			unchanged: true,
		},
		{
			name:   "duplicate is reported even on a stale version",
			setup:  []Commit{order, second},
			commit: order,
			want: CommitOutcome{Status: Duplicate, Version: 2, Seen: &InboxHit{
				Result:   []byte("accepted"),
				EventIDs: []string{"e1", "e2"},
				Pending:  []OutboxEntry{written(ev("e1"), t0), written(ev("e2"), t0)},
			}},
			unchanged: true,
		},
		{
			name:      "duplicate after MarkPublished reports fewer pending",
			setup:     []Commit{order},
			published: []string{"e2"},
			commit:    with(order, func(c *Commit) { c.ExpectedVersion = 1 }),
			want: CommitOutcome{Status: Duplicate, Version: 1, Seen: &InboxHit{
				Result:   []byte("accepted"),
				EventIDs: []string{"e1", "e2"},
				Pending:  []OutboxEntry{written(ev("e1"), t0)},
			}},
			unchanged: true,
		},
		{
			name:      "duplicate with every event published has no pending",
			setup:     []Commit{order},
			published: []string{"e1", "e2"},
			commit:    order,
			want: CommitOutcome{Status: Duplicate, Version: 1, Seen: &InboxHit{
				Result:   []byte("accepted"),
				EventIDs: []string{"e1", "e2"},
			}},
			unchanged: true,
		},
		{
			name:   "duplicate of a command without events",
			setup:  []Commit{{CustomerID: "c1", CommandID: "quiet", Result: []byte("noop"), At: t0}},
			commit: Commit{CustomerID: "c1", CommandID: "quiet", ExpectedVersion: 1, At: t0},
			want: CommitOutcome{Status: Duplicate, Version: 1, Seen: &InboxHit{
				Result:   []byte("noop"),
				EventIDs: []string{},
			}},
			unchanged: true,
		},
		{
			name:      "stale version is a conflict reporting the current version",
			setup:     []Commit{order, second},
			commit:    with(second, func(c *Commit) { c.CommandID = "cmd-3" }),
			want:      CommitOutcome{Status: VersionConflict, Version: 2},
			unchanged: true,
		},
		{
			name:      "version ahead of the store is a conflict",
			commit:    with(order, func(c *Commit) { c.ExpectedVersion = 5 }),
			want:      CommitOutcome{Status: VersionConflict, Version: 0},
			unchanged: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{})
			ctx := context.Background()
			for _, c := range tc.setup {
				mustCommit(t, s, c)
			}
			if err := s.MarkPublished(ctx, "c1", tc.published...); err != nil {
				t.Fatal(err)
			}
			before := mustDump(t, s, "c1")

			got, err := s.Commit(ctx, tc.commit)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.want.Status || got.Version != tc.want.Version || !reflect.DeepEqual(got.Seen, tc.want.Seen) {
				t.Errorf("Commit = {%v v%d seen %s}, want {%v v%d seen %s}",
					got.Status, got.Version, showHit(got.Seen), tc.want.Status, tc.want.Version, showHit(tc.want.Seen))
			}
			after := mustDump(t, s, "c1")
			if tc.unchanged && !reflect.DeepEqual(before, after) {
				t.Errorf("state changed\nbefore %q\nafter  %q", before, after)
			}
			if !tc.unchanged && reflect.DeepEqual(before, after) {
				t.Errorf("Committed but nothing changed: %q", after)
			}
		})
	}
}

func TestCommitWritesFieldsInboxAndOutbox(t *testing.T) {
	tests := []struct {
		name       string
		setup      []Commit
		commit     Commit
		wantFields map[string][]byte
		wantOutbox []string
	}{
		{
			name:       "set fields are stored",
			commit:     Commit{CustomerID: "c1", CommandID: "a", Set: map[string][]byte{"customer": []byte("x"), "sub:1": []byte("y")}, At: t0},
			wantFields: map[string][]byte{"customer": []byte("x"), "sub:1": []byte("y")},
		},
		{
			name: "set overwrites and delete removes fields",
			setup: []Commit{{CustomerID: "c1", CommandID: "a", At: t0,
				Set: map[string][]byte{"customer": []byte("x"), "sub:1": []byte("y"), "sub:2": []byte("z")}}},
			commit:     Commit{CustomerID: "c1", CommandID: "b", ExpectedVersion: 1, Set: map[string][]byte{"customer": []byte("x2")}, Delete: []string{"sub:1", "sub:2"}, At: t0},
			wantFields: map[string][]byte{"customer": []byte("x2")},
		},
		{
			name:       "deleting a missing field is harmless",
			commit:     Commit{CustomerID: "c1", CommandID: "a", Delete: []string{"sub:9"}, At: t0},
			wantFields: map[string][]byte{},
		},
		{
			name:       "arbitrary bytes survive",
			commit:     Commit{CustomerID: "c1", CommandID: "a", Set: map[string][]byte{"bin": {0, 0xff, '\n', '"', '\\'}}, Events: []OutboxEntry{{ID: "e1", Subject: "s", Data: []byte{0, 0xfe, 0xff}}}, Result: []byte{0xc3, 0x28, 0}, At: t0},
			wantFields: map[string][]byte{"bin": {0, 0xff, '\n', '"', '\\'}},
			wantOutbox: []string{"e1"},
		},
		{
			name:       "events are appended to the outbox",
			setup:      []Commit{{CustomerID: "c1", CommandID: "a", Events: []OutboxEntry{ev("e1")}, At: t0}},
			commit:     Commit{CustomerID: "c1", CommandID: "b", ExpectedVersion: 1, Events: []OutboxEntry{ev("e2"), ev("e3")}, At: t0},
			wantFields: map[string][]byte{},
			wantOutbox: []string{"e1", "e2", "e3"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{})
			ctx := context.Background()
			for _, c := range tc.setup {
				mustCommit(t, s, c)
			}
			out := mustCommit(t, s, tc.commit)

			snap, err := s.Load(ctx, "c1", tc.commit.CommandID)
			if err != nil {
				t.Fatal(err)
			}
			if snap.Version != out.Version || !reflect.DeepEqual(snap.Fields, tc.wantFields) {
				t.Errorf("Load = v%d %q, want v%d %q", snap.Version, snap.Fields, out.Version, tc.wantFields)
			}
			if snap.Seen == nil || string(snap.Seen.Result) != string(tc.commit.Result) {
				t.Errorf("inbox hit = %s, want result %q", showHit(snap.Seen), tc.commit.Result)
			}
			entries, err := s.readOutbox(ctx, "c1")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range entries {
				ids = append(ids, e.ID)
			}
			if !reflect.DeepEqual(ids, tc.wantOutbox) {
				t.Errorf("outbox in write order = %q, want %q", ids, tc.wantOutbox)
			}
			if len(tc.commit.Events) > 0 {
				last := entries[len(entries)-1]
				want := tc.commit.Events[len(tc.commit.Events)-1]
				if last.Subject != want.Subject || string(last.Data) != string(want.Data) || !last.WrittenAt.Equal(time.UnixMilli(t0.UnixMilli())) {
					t.Errorf("outbox entry = %+v, want %+v written at %v", last.OutboxEntry, want, t0)
				}
			}
		})
	}
}

func TestCommitRejectsInvalidInputBeforeWriting(t *testing.T) {
	valid := Commit{CustomerID: "c1", CommandID: "a", At: t0}
	tests := []struct {
		name    string
		edit    func(*Commit)
		wantErr string
	}{
		{"empty customer ID", func(c *Commit) { c.CustomerID = "" }, "empty customer ID"},
		{"customer ID with a brace breaks the hash tag", func(c *Commit) { c.CustomerID = "c}1" }, "contains '{' or '}'"},
		{"empty command ID", func(c *Commit) { c.CommandID = "" }, "empty command ID"},
		{"negative version", func(c *Commit) { c.ExpectedVersion = -1 }, "negative expected version"},
		{"setting the version field", func(c *Commit) { c.Set = map[string][]byte{"v": []byte("9")} }, `cannot set field "v"`},
		{"deleting the version field", func(c *Commit) { c.Delete = []string{"v"} }, `cannot delete field "v"`},
		{"field both set and deleted", func(c *Commit) { c.Set = map[string][]byte{"f": nil}; c.Delete = []string{"f"} }, "both set and deleted"},
		{"event without ID", func(c *Commit) { c.Events = []OutboxEntry{{Subject: "s"}} }, "invalid event ID"},
		{"event ID that is not UTF-8", func(c *Commit) { c.Events = []OutboxEntry{{ID: "\xff", Subject: "s"}} }, "invalid event ID"},
		{"event ID twice", func(c *Commit) { c.Events = []OutboxEntry{ev("e1"), ev("e1")} }, "appears twice"},
		{"event without subject", func(c *Commit) { c.Events = []OutboxEntry{{ID: "e1"}} }, "invalid subject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rdb := newTestStore(t, Options{})
			c := valid
			tc.edit(&c)
			_, err := s.Commit(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Commit error = %v, want one containing %q", err, tc.wantErr)
			}
			if n := rdb.DBSize(context.Background()).Val(); n != 0 {
				t.Errorf("rejected commit left %d keys", n)
			}
		})
	}
}
