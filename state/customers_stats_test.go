package state

import (
	"context"
	"errors"
	"testing"
)

// Customers.Stats counts where each decision's state came from (Redis or
// the cache) and how each commit ended: the numbers the cluster sizing
// table divides by the commands handled.
func TestCustomersStatsCountLoadsHitsAndCommitOutcomes(t *testing.T) {
	ctx := context.Background()
	apply := func(command string, meanwhile func(int)) func(t *testing.T, s *Store, c *Customers) {
		return func(t *testing.T, s *Store, c *Customers) {
			u := &counter{customer: "c1", command: command, meanwhile: meanwhile}
			if _, err := c.Apply(ctx, "c1", command, u.update); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		// steps run in order on one repository, each given the store
		// underneath it.
		steps []func(t *testing.T, s *Store, c *Customers)
		want  CustomerStats
	}{
		{
			name:  "a customer's first command is loaded from Redis",
			steps: []func(*testing.T, *Store, *Customers){apply("cmd-1", nil)},
			want:  CustomerStats{Applies: 1, Loads: 1, Committed: 1},
		},
		{
			name:  "the same customer's second command is decided on the cache",
			steps: []func(*testing.T, *Store, *Customers){apply("cmd-1", nil), apply("cmd-2", nil)},
			want:  CustomerStats{Applies: 2, Loads: 1, CacheHits: 1, Committed: 2},
		},
		{
			name: "another writer committing between load and commit costs a conflict and a reload",
			steps: []func(*testing.T, *Store, *Customers){func(t *testing.T, s *Store, c *Customers) {
				apply("cmd-1", onlyOnRun(1, otherWriter(t, s, "c1")))(t, s, c)
			}},
			want: CustomerStats{Applies: 1, Loads: 2, VersionConflict: 1, Committed: 1},
		},
		{
			name: "a stale cache entry is a hit, then a conflict, then a load",
			steps: []func(*testing.T, *Store, *Customers){apply("cmd-1", nil),
				func(t *testing.T, s *Store, _ *Customers) { otherWriter(t, s, "c1")(1) },
				apply("cmd-2", nil)},
			want: CustomerStats{Applies: 2, Loads: 2, CacheHits: 1, VersionConflict: 1, Committed: 2},
		},
		{
			name: "a command another repository applied is a duplicate found by the load",
			steps: []func(*testing.T, *Store, *Customers){func(t *testing.T, s *Store, _ *Customers) {
				apply("cmd-1", nil)(t, s, NewCustomers(s, 0))
			}, apply("cmd-1", nil)},
			want: CustomerStats{Applies: 1, Loads: 1, Duplicate: 1},
		},
		{
			name:  "a command applied again on the cache is a duplicate refused by the commit",
			steps: []func(*testing.T, *Store, *Customers){apply("cmd-1", nil), apply("cmd-1", nil)},
			want:  CustomerStats{Applies: 2, Loads: 1, CacheHits: 1, Committed: 1, Duplicate: 1},
		},
		{
			name: "a commit under a lower fence than the customer's is fenced",
			steps: []func(*testing.T, *Store, *Customers){func(t *testing.T, s *Store, c *Customers) {
				mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "later-owner", Fence: 7, Result: []byte("ok"), At: t0})
				u := &counter{customer: "c1", command: "cmd-1"}
				_, err := c.Apply(ctx, "c1", "cmd-1", func(snap Snapshot) (*Commit, error) {
					commit, err := u.update(snap)
					commit.Fence = 5
					return commit, err
				})
				if !errors.Is(err, ErrFenced) {
					t.Fatalf("Apply under a lower fence: %v, want ErrFenced", err)
				}
			}},
			want: CustomerStats{Applies: 1, Loads: 1, Fenced: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{})
			c := NewCustomers(s, 0)
			for _, step := range tc.steps {
				step(t, s, c)
			}
			if got := c.Stats(); got != tc.want {
				t.Fatalf("Stats() = %+v\nwant      %+v", got, tc.want)
			}
		})
	}
}
