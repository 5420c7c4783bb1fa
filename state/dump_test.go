package state

import (
	"context"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestDumpSeesEveryKindOfChange(t *testing.T) {
	tests := []struct {
		name   string
		change func(ctx context.Context, s *Store, rdb *redis.Client) error
	}{
		{"an entity field value", func(ctx context.Context, s *Store, rdb *redis.Client) error {
			return rdb.HSet(ctx, s.stateKey("c1"), "customer", "bob").Err()
		}},
		{"the version", func(ctx context.Context, s *Store, rdb *redis.Client) error {
			return rdb.HIncrBy(ctx, s.stateKey("c1"), "v", 1).Err()
		}},
		{"an inbox applied-at score", func(ctx context.Context, s *Store, rdb *redis.Client) error {
			return rdb.ZIncrBy(ctx, s.inboxTSKey("c1"), 1, "cmd").Err()
		}},
		{"an outbox entry removed", func(ctx context.Context, s *Store, rdb *redis.Client) error {
			return s.MarkPublished(ctx, "c1", "e1")
		}},
		{"a key the store does not know", func(ctx context.Context, s *Store, rdb *redis.Client) error {
			return rdb.Set(ctx, s.customerKey("c1", "stray"), "x", 0).Err()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rdb := newTestStore(t, Options{})
			ctx := context.Background()
			mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd", At: t0, Set: map[string][]byte{"customer": []byte("alice")}, Events: []OutboxEntry{ev("e1")}})
			before := mustDump(t, s, "c1")
			if again := mustDump(t, s, "c1"); !reflect.DeepEqual(before, again) {
				t.Fatalf("Dump not deterministic:\n%q\n%q", before, again)
			}
			if err := tc.change(ctx, s, rdb); err != nil {
				t.Fatal(err)
			}
			if after := mustDump(t, s, "c1"); reflect.DeepEqual(before, after) {
				t.Errorf("Dump did not change: %q", after)
			}
		})
	}
}
