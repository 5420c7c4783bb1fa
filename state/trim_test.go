package state

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestCommitTrimsInbox(t *testing.T) {
	const retention = time.Hour
	// applied returns n commands named prefix-i applied at at+i ms.
	type applied struct {
		prefix string
		n      int
		at     time.Time
	}
	tests := []struct {
		name     string
		setup    []applied
		commitAt []time.Time // commits ("trigger-i") applied after setup, in order
		want     []string    // setup command IDs still in the inbox afterwards
	}{
		{
			name:     "entries younger than the retention stay",
			setup:    []applied{{"young", 3, t0}},
			commitAt: []time.Time{t0.Add(retention - time.Minute)},
			want:     names("young", 3),
		},
		{
			name:     "only entries older than the retention go",
			setup:    []applied{{"old", 3, t0}, {"young", 2, t0.Add(30 * time.Minute)}},
			commitAt: []time.Time{t0.Add(retention + time.Minute)},
			want:     names("young", 2),
		},
		{
			name:     "an entry exactly at the retention stays",
			setup:    []applied{{"edge", 1, t0}},
			commitAt: []time.Time{t0.Add(retention)},
			want:     names("edge", 1),
		},
		{
			name:     "one commit trims at most 32 entries, oldest first",
			setup:    []applied{{"old", 40, t0}},
			commitAt: []time.Time{t0.Add(2 * retention)},
			want:     names("old", 40)[32:],
		},
		{
			name:     "the next commit trims the rest",
			setup:    []applied{{"old", 40, t0}},
			commitAt: []time.Time{t0.Add(2 * retention), t0.Add(2*retention + time.Second)},
			want:     nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rdb := newTestStore(t, Options{InboxRetention: retention})
			ctx := context.Background()
			var v int64
			for _, a := range tc.setup {
				for i := range a.n {
					v = mustCommit(t, s, Commit{CustomerID: "c1", CommandID: fmt.Sprintf("%s-%02d", a.prefix, i), ExpectedVersion: v, At: a.at.Add(time.Duration(i) * time.Millisecond)}).Version
				}
			}
			var triggers []string
			for i, at := range tc.commitAt {
				id := fmt.Sprintf("trigger-%d", i)
				triggers = append(triggers, id)
				v = mustCommit(t, s, Commit{CustomerID: "c1", CommandID: id, ExpectedVersion: v, At: at}).Version
			}
			want := append(slices.Clone(tc.want), triggers...)
			slices.Sort(want)

			inbox, err := rdb.HKeys(ctx, s.inboxKey("c1")).Result()
			if err != nil {
				t.Fatal(err)
			}
			scored, err := rdb.ZRange(ctx, s.inboxTSKey("c1"), 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(inbox)
			slices.Sort(scored)
			if !reflect.DeepEqual(inbox, want) {
				t.Errorf("inbox = %q\nwant    %q", inbox, want)
			}
			if !reflect.DeepEqual(scored, want) {
				t.Errorf("inboxts = %q\nwant      %q", scored, want)
			}
		})
	}
}

func TestTrimmedCommandIsNoLongerADuplicateAfterTheAppliedRetention(t *testing.T) {
	s, _ := newTestStore(t, Options{InboxRetention: time.Hour, AppliedRetention: 2 * time.Hour})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "old", At: t0})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "new", ExpectedVersion: 1, At: t0.Add(3 * time.Hour)})
	snap, err := s.Load(context.Background(), "c1", "old")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Seen != nil {
		t.Errorf("forgotten command still seen: %s", showHit(snap.Seen))
	}
	if ok, err := s.Applied(context.Background(), "c1", "old"); err != nil || ok {
		t.Errorf("Applied(old) = %v, %v", ok, err)
	}
}

func TestTrimmedCommandIsStillApplied(t *testing.T) {
	s, _ := newTestStore(t, Options{InboxRetention: time.Hour})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "old", At: t0})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "new", ExpectedVersion: 1, At: t0.Add(2 * time.Hour)})
	if ok, err := s.Applied(context.Background(), "c1", "old"); err != nil || !ok {
		t.Errorf("Applied(old) = %v, %v after its full record was trimmed", ok, err)
	}
}

func TestDefaultInboxRetentionIsSevenDays(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	if s.retention != 7*24*time.Hour || s.applied != 30*24*time.Hour || s.prefix != "csp" {
		t.Errorf("defaults: retention %v applied %v prefix %q, want 168h, 720h and csp", s.retention, s.applied, s.prefix)
	}
}

func names(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return out
}
