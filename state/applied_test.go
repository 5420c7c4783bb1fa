package state

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// A command whose full inbox record was trimmed (after InboxRetention) is
// still a Duplicate for as long as its compact record is kept
// (AppliedRetention, at least the command stream's MaxAge): it changes
// nothing and returns nothing to republish. Time passes through the
// commits' applied-at; only a commit trims.
func TestCommandWhoseFullRecordWasTrimmedIsStillADuplicate(t *testing.T) {
	const day = 24 * time.Hour
	applied := Commit{
		CustomerID: "c1", CommandID: "order-1",
		Set:    map[string][]byte{"sub:s1": []byte("10 licenses")},
		Events: []OutboxEntry{ev("created"), ev("charge")},
		Result: []byte("accepted"), At: t0,
	}
	tests := []struct {
		name     string
		triggers []time.Duration // other commands of c1 committed at t0+d, in order (they trim)
		resendAt time.Duration
		want     CommitStatus
	}{
		{
			name:     "inside the full record's retention: duplicate with the stored record",
			triggers: []time.Duration{6 * day},
			resendAt: 6*day + time.Hour,
			want:     Duplicate,
		},
		{
			name:     "full record trimmed after 7 days: still a duplicate",
			triggers: []time.Duration{8 * day},
			resendAt: 8*day + time.Hour,
			want:     Duplicate,
		},
		{
			name:     "full record trimmed, re-sent on day 29: still a duplicate",
			triggers: []time.Duration{8 * day, 29 * day},
			resendAt: 29*day + time.Hour,
			want:     Duplicate,
		},
		{
			name:     "compact record exactly at its retention stays",
			triggers: []time.Duration{8 * day, 30 * day},
			resendAt: 30 * day,
			want:     Duplicate,
		},
		{
			name:     "trimmed in one commit straight past both retentions: forgotten, applies again",
			triggers: []time.Duration{31 * day},
			resendAt: 31*day + time.Hour,
			want:     Committed,
		},
		{
			name:     "compact record trimmed after 30 days: applies again",
			triggers: []time.Duration{8 * day, 31 * day},
			resendAt: 31*day + time.Hour,
			want:     Committed,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rdb := newTestStore(t, Options{}) // the defaults: 7 days full, 30 days compact
			ctx := context.Background()
			v := mustCommit(t, s, applied).Version
			for i, d := range tc.triggers {
				v = mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "trigger-" + string(rune('a'+i)), ExpectedVersion: v, At: t0.Add(d)}).Version
			}
			// The events were published and confirmed long ago.
			if err := s.MarkPublished(ctx, "c1", "created", "charge"); err != nil {
				t.Fatal(err)
			}
			fullKept := tc.triggers[len(tc.triggers)-1] <= 7*day
			if got, err := rdb.HExists(ctx, s.inboxKey("c1"), "order-1").Result(); err != nil || got != fullKept {
				t.Fatalf("full inbox record present = %v (%v), want %v", got, err, fullKept)
			}

			before := mustDump(t, s, "c1")
			resent := applied
			resent.ExpectedVersion, resent.At = v, t0.Add(tc.resendAt)
			resent.Set = map[string][]byte{"sub:s1": []byte("5 licenses")} // decided again on today's state
			loaded, err := s.Load(ctx, "c1", "order-1")
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.Commit(ctx, resent)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.want {
				t.Fatalf("re-sent command: %v, want %v", out.Status, tc.want)
			}
			if tc.want == Committed {
				if loaded.Seen != nil {
					t.Fatalf("Load still sees the forgotten command: %s", showHit(loaded.Seen))
				}
				return
			}
			if out.Version != v {
				t.Errorf("duplicate reports version %d, want %d", out.Version, v)
			}
			if after := mustDump(t, s, "c1"); !reflect.DeepEqual(after, before) {
				t.Errorf("a duplicate changed the store:\nbefore %q\nafter  %q", before, after)
			}
			if loaded.Seen == nil || out.Seen == nil {
				t.Fatalf("not seen as applied: Load %s, Commit %s", showHit(loaded.Seen), showHit(out.Seen))
			}
			if len(out.Seen.Pending) != 0 || len(loaded.Seen.Pending) != 0 {
				t.Errorf("pending events of a confirmed command: Load %s, Commit %s", showHit(loaded.Seen), showHit(out.Seen))
			}
			want := &InboxHit{Trimmed: true}
			if fullKept {
				want = &InboxHit{Result: []byte("accepted"), EventIDs: []string{"created", "charge"}}
			}
			if !reflect.DeepEqual(out.Seen, want) || !reflect.DeepEqual(loaded.Seen, want) {
				t.Errorf("seen: Commit %s, Load %s, want %s", showHit(out.Seen), showHit(loaded.Seen), showHit(want))
			}
		})
	}
}

// The compact record costs one zset entry per command and is bounded like
// the inbox: trimmed at most 32 per commit, oldest first.
func TestCompactRecordsAreTrimmedInBatches(t *testing.T) {
	s, rdb := newTestStore(t, Options{InboxRetention: time.Hour, AppliedRetention: 10 * time.Hour})
	ctx := context.Background()
	var v int64
	for i := range 40 {
		v = mustCommit(t, s, Commit{CustomerID: "c1", CommandID: fmt.Sprintf("old-%02d", i), ExpectedVersion: v, At: t0.Add(time.Duration(i) * time.Millisecond)}).Version
	}
	count := func() (full, compact int64) {
		t.Helper()
		full, err := rdb.HLen(ctx, s.inboxKey("c1")).Result()
		if err != nil {
			t.Fatal(err)
		}
		compact, err = rdb.ZCard(ctx, s.appliedKey("c1")).Result()
		if err != nil {
			t.Fatal(err)
		}
		return full, compact
	}
	steps := []struct {
		at                  time.Duration
		wantFull, wantCompt int64
	}{
		{2 * time.Hour, 40 - 32 + 1, 32},   // 32 full records become compact ones
		{2*time.Hour + time.Second, 2, 40}, // the other 8 (and nothing younger)
		{11 * time.Hour, 1, 40 - 32 + 2},   // 32 compact records dropped; triggers 0 and 1 become compact
		{11*time.Hour + time.Second, 2, 2}, // the rest of the 40; triggers 2 and 3 stay full
	}
	for i, st := range steps {
		v = mustCommit(t, s, Commit{CustomerID: "c1", CommandID: fmt.Sprintf("trigger-%d", i), ExpectedVersion: v, At: t0.Add(st.at)}).Version
		if full, compact := count(); full != st.wantFull || compact != st.wantCompt {
			t.Fatalf("after trigger %d: %d full and %d compact records, want %d and %d", i, full, compact, st.wantFull, st.wantCompt)
		}
	}
	// The compact record keeps the applied-at of the first application.
	if at, err := rdb.ZScore(ctx, s.appliedKey("c1"), "trigger-0").Result(); err != nil || int64(at) != t0.Add(2*time.Hour).UnixMilli() {
		t.Fatalf("applied-at of trigger-0 = %v (%v)", int64(at), err)
	}
}

func TestAppliedRetentionIsNeverShorterThanTheInboxRetention(t *testing.T) {
	for _, tc := range []struct {
		opt                Options
		wantFull, wantComp time.Duration
	}{
		{Options{}, 7 * 24 * time.Hour, 30 * 24 * time.Hour},
		{Options{InboxRetention: time.Hour}, time.Hour, 30 * 24 * time.Hour},
		{Options{InboxRetention: 40 * 24 * time.Hour}, 40 * 24 * time.Hour, 40 * 24 * time.Hour},
		{Options{AppliedRetention: 90 * 24 * time.Hour}, 7 * 24 * time.Hour, 90 * 24 * time.Hour},
	} {
		s := NewStore(nil, tc.opt)
		if s.retention != tc.wantFull || s.AppliedRetention() != tc.wantComp {
			t.Errorf("%+v: retentions %v and %v, want %v and %v", tc.opt, s.retention, s.AppliedRetention(), tc.wantFull, tc.wantComp)
		}
	}
}
