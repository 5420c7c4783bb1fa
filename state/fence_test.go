package state

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"
)

// G3 with several replicas: a replica that lost a partition must not
// write a customer a later owner has written (it would apply an older
// command after a newer one): the commit script compares the commit's fence with the
// highest the customer committed with, refuses a lower one as Fenced
// without writing anything (state, version, inbox, outbox), records a
// higher one, and neither checks nor records fence 0.
func TestG3_CommitFenceRefusesALowerFenceAndRecordsAHigherOne(t *testing.T) {
	cmd := func(id string, version int64, fence uint64) Commit {
		return Commit{
			CustomerID: "c1", CommandID: id, ExpectedVersion: version, Fence: fence,
			Set:    map[string][]byte{"sub:s1": []byte(id)},
			Events: []OutboxEntry{ev("e-" + id)},
			Result: []byte("ok"), At: t0,
		}
	}
	tests := []struct {
		name      string
		setup     []Commit
		commit    Commit
		want      CommitOutcome
		wantFence string // the recorded fence afterwards ("" = none)
	}{
		{
			name:      "first fenced commit records its fence",
			commit:    cmd("a", 0, 7),
			want:      CommitOutcome{Status: Committed, Version: 1},
			wantFence: "7",
		},
		{
			name:      "lower fence after a higher one is refused and writes nothing",
			setup:     []Commit{cmd("a", 0, 7)},
			commit:    cmd("b", 1, 5),
			want:      CommitOutcome{Status: Fenced, Version: 1},
			wantFence: "7",
		},
		{
			name:      "lower fence is refused even for a command already applied",
			setup:     []Commit{cmd("a", 0, 5), cmd("b", 1, 7)},
			commit:    cmd("a", 2, 5),
			want:      CommitOutcome{Status: Fenced, Version: 2},
			wantFence: "7",
		},
		{
			name:      "lower fence is refused before the version is checked",
			setup:     []Commit{cmd("a", 0, 7)},
			commit:    cmd("b", 0, 5),
			want:      CommitOutcome{Status: Fenced, Version: 1},
			wantFence: "7",
		},
		{
			name:      "same fence commits",
			setup:     []Commit{cmd("a", 0, 7)},
			commit:    cmd("b", 1, 7),
			want:      CommitOutcome{Status: Committed, Version: 2},
			wantFence: "7",
		},
		{
			name:      "higher fence commits and is recorded",
			setup:     []Commit{cmd("a", 0, 7)},
			commit:    cmd("b", 1, 9),
			want:      CommitOutcome{Status: Committed, Version: 2},
			wantFence: "9",
		},
		{
			name:      "fence 0 after a fenced commit is not checked and not recorded",
			setup:     []Commit{cmd("a", 0, 7)},
			commit:    cmd("b", 1, 0),
			want:      CommitOutcome{Status: Committed, Version: 2},
			wantFence: "7",
		},
		{
			name:      "fence 0 on a new customer records nothing",
			commit:    cmd("a", 0, 0),
			want:      CommitOutcome{Status: Committed, Version: 1},
			wantFence: "",
		},
		{
			name:      "a fenced commit on a stale version is still a version conflict",
			setup:     []Commit{cmd("a", 0, 7)},
			commit:    cmd("b", 0, 9),
			want:      CommitOutcome{Status: VersionConflict, Version: 1},
			wantFence: "7",
		},
		{
			name:      "the largest fence a Lua number holds exactly is compared exactly",
			setup:     []Commit{cmd("a", 0, MaxFence)},
			commit:    cmd("b", 1, MaxFence-1),
			want:      CommitOutcome{Status: Fenced, Version: 1},
			wantFence: strconv.FormatUint(MaxFence, 10),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rdb := newTestStore(t, Options{})
			ctx := context.Background()
			for _, c := range tc.setup {
				mustCommit(t, s, c)
			}
			before := mustDump(t, s, "c1")
			got, err := s.Commit(ctx, tc.commit)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tc.want.Status || got.Version != tc.want.Version {
				t.Errorf("Commit = %v v%d, want %v v%d", got.Status, got.Version, tc.want.Status, tc.want.Version)
			}
			after := mustDump(t, s, "c1")
			if committed := got.Status == Committed; committed == reflect.DeepEqual(before, after) {
				t.Errorf("status %v, but state changed = %v\nbefore %q\nafter  %q", got.Status, !committed, before, after)
			}
			fence, err := rdb.HGet(ctx, s.stateKey("c1"), fenceField).Result()
			if err != nil && tc.wantFence != "" {
				t.Fatalf("recorded fence: %v", err)
			}
			if fence != tc.wantFence {
				t.Errorf("recorded fence %q, want %q", fence, tc.wantFence)
			}
			snap, err := s.Load(ctx, "c1", "")
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := snap.Fields[fenceField]; ok {
				t.Errorf("Load returned the fence as an entity field: %s", show(snap))
			}
		})
	}
}

// The fence field is the store's, like the version: no commit may set or
// delete it, and no fence above what the script compares exactly is sent.
func TestCommitRefusesToWriteTheFenceFieldOrAnOversizedFence(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	for name, c := range map[string]Commit{
		"set fence":      {CustomerID: "c1", CommandID: "x", Set: map[string][]byte{fenceField: []byte("1")}},
		"delete fence":   {CustomerID: "c1", CommandID: "x", Delete: []string{fenceField}},
		"fence too high": {CustomerID: "c1", CommandID: "x", Fence: MaxFence + 1},
	} {
		if _, err := s.Commit(context.Background(), c); err == nil {
			t.Errorf("%s: committed", name)
		}
	}
}

// Customers.Apply reports a fenced commit as ErrFenced, so the handler
// retries it as transient, and forgets its cached state for the customer
// (the cache holds what only this replica believed).
func TestCustomersApplyReturnsErrFencedAndDropsItsCache(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	ctx := context.Background()
	customers := NewCustomers(s, 0)
	apply := func(id string, fence uint64) error {
		_, err := customers.Apply(ctx, "c1", id, func(snap Snapshot) (*Commit, error) {
			return &Commit{CustomerID: "c1", CommandID: id, Fence: fence, Set: map[string][]byte{"n": []byte(id)}, At: t0}, nil
		})
		return err
	}
	if err := apply("a", 5); err != nil {
		t.Fatal(err)
	}
	if _, ok := customers.cache.get("c1"); !ok {
		t.Fatal("committed state not cached")
	}
	// Another replica, holding a later lease, commits directly.
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "b", ExpectedVersion: 1, Fence: 9, At: t0})
	err := apply("c", 5)
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("Apply with a lower fence = %v, want ErrFenced", err)
	}
	if _, ok := customers.cache.get("c1"); ok {
		t.Error("the cache entry of a fenced customer was kept")
	}
}
