package state

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// scanCount is the COUNT hint for SCAN: large enough that a sweep over a big
// keyspace takes few round trips, small enough that each SCAN stays short.
const scanCount = 1000

// forEachKey calls fn for every key matching the SCAN MATCH pattern. SCAN
// only sees the node it is sent to, so on a *redis.ClusterClient it runs on
// every master and on a *redis.Ring on every shard; fn is then called
// concurrently from several goroutines. SCAN may report a key twice, so fn
// must be idempotent. The first error stops the node it came from and is
// returned.
func forEachKey(ctx context.Context, rdb redis.UniversalClient, match string, fn func(ctx context.Context, key string) error) error {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return scanNode(ctx, node, match, fn)
		})
	case *redis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, node *redis.Client) error {
			return scanNode(ctx, node, match, fn)
		})
	default:
		return scanNode(ctx, rdb, match, fn)
	}
}

func scanNode(ctx context.Context, node redis.Cmdable, match string, fn func(ctx context.Context, key string) error) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, match, scanCount).Result()
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := fn(ctx, k); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
