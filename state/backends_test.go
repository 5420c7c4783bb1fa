package state

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redistest"
)

// backend is one kind of Redis the store must work on: the store's
// contract (contract_test.go) runs against each, as one suite.
type backend struct {
	name string
	// client returns an empty Redis of this kind for the test.
	client func(t *testing.T) redis.UniversalClient
}

var backends = []backend{
	{"single server", func(t *testing.T) redis.UniversalClient { return redistest.Client(t) }},
	{"cluster", func(t *testing.T) redis.UniversalClient { return redistest.SharedClusterClient(t) }},
}

// onEveryBackend runs fn once per backend, as a subtest named after it.
func onEveryBackend(t *testing.T, fn func(t *testing.T, rdb redis.UniversalClient)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.client(t)) })
	}
}

// masterOfKey is the server that holds key: rdb itself, or on a cluster the
// master of key's slot.
func masterOfKey(t *testing.T, rdb redis.UniversalClient, key string) *redis.Client {
	t.Helper()
	switch c := rdb.(type) {
	case *redis.Client:
		return c
	case *redis.ClusterClient:
		n, err := c.MasterForKey(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	t.Fatalf("no master for a %T", rdb)
	return nil
}

// masterCount is how many masters hold at least one key matching pattern.
func mastersHolding(t *testing.T, rdb redis.UniversalClient, pattern string) int {
	t.Helper()
	ctx := context.Background()
	count := func(n redis.Cmdable) bool {
		keys, _, err := n.Scan(ctx, 0, pattern, 10000).Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys) > 0
	}
	c, ok := rdb.(*redis.ClusterClient)
	if !ok {
		if count(rdb) {
			return 1
		}
		return 0
	}
	held := make(chan bool, 16)
	if err := c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		held <- count(n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	close(held)
	n := 0
	for h := range held {
		if h {
			n++
		}
	}
	return n
}
