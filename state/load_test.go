package state

import (
	"context"
	"reflect"
	"testing"
)

func TestLoad(t *testing.T) {
	first := Commit{
		CustomerID: "c1", CommandID: "cmd-1", ExpectedVersion: 0,
		Set:    map[string][]byte{"customer": []byte("alice"), "sub:s1": []byte("active")},
		Events: []OutboxEntry{ev("e1"), ev("e2")},
		Result: []byte("accepted"),
		At:     t0,
	}
	tests := []struct {
		name                  string
		setup                 []Commit
		published             []string // event IDs of c1 marked published after setup
		customerID, commandID string
		want                  Snapshot
	}{
		{
			name:       "empty customer has version 0 and no fields",
			customerID: "c1", commandID: "cmd-1",
			want: Snapshot{Version: 0, Fields: map[string][]byte{}},
		},
		{
			name:       "new command sees committed fields and version",
			setup:      []Commit{first},
			customerID: "c1", commandID: "cmd-2",
			want: Snapshot{Version: 1, Fields: map[string][]byte{"customer": []byte("alice"), "sub:s1": []byte("active")}},
		},
		{
			name:       "applied command is seen with result, event IDs and pending entries",
			setup:      []Commit{first},
			customerID: "c1", commandID: "cmd-1",
			want: Snapshot{
				Version: 1,
				Fields:  map[string][]byte{"customer": []byte("alice"), "sub:s1": []byte("active")},
				Seen: &InboxHit{
					Result:   []byte("accepted"),
					EventIDs: []string{"e1", "e2"},
					Pending:  []OutboxEntry{written(ev("e1"), t0), written(ev("e2"), t0)},
				},
			},
		},
		{
			name:       "published events are no longer pending",
			setup:      []Commit{first},
			published:  []string{"e1"},
			customerID: "c1", commandID: "cmd-1",
			want: Snapshot{
				Version: 1,
				Fields:  map[string][]byte{"customer": []byte("alice"), "sub:s1": []byte("active")},
				Seen: &InboxHit{
					Result:   []byte("accepted"),
					EventIDs: []string{"e1", "e2"},
					Pending:  []OutboxEntry{written(ev("e2"), t0)},
				},
			},
		},
		{
			name:       "empty command ID skips the inbox",
			setup:      []Commit{first},
			customerID: "c1", commandID: "",
			want: Snapshot{Version: 1, Fields: map[string][]byte{"customer": []byte("alice"), "sub:s1": []byte("active")}},
		},
		{
			name:       "another customer's state and inbox are invisible",
			setup:      []Commit{first},
			customerID: "c2", commandID: "cmd-1",
			want: Snapshot{Version: 0, Fields: map[string][]byte{}},
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
			got, err := s.Load(ctx, tc.customerID, tc.commandID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Load(%q, %q)\n got %+v\nwant %+v", tc.customerID, tc.commandID, show(got), show(tc.want))
			}
		})
	}
}
