package rawlimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// cleanupTimeout bounds deleting a run's keys, also after ctx ended.
const cleanupTimeout = time.Minute

// deleteRun removes every key under prefix (unless keep). It runs on a
// context of its own, so a measurement that failed on its ctx still
// cleans up.
func deleteRun(ctx context.Context, rdb redis.UniversalClient, prefix string, keep bool) error {
	if keep {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	del := func(ctx context.Context, node redis.UniversalClient) error {
		return deleteMatching(ctx, node, prefix+":*")
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		// SCAN sees one node only.
		err = c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	case *redis.Ring:
		err = c.ForEachShard(ctx, func(ctx context.Context, n *redis.Client) error { return del(ctx, n) })
	default:
		err = del(ctx, rdb)
	}
	if err != nil {
		return fmt.Errorf("rawlimit: delete keys %s:*: %w", prefix, err)
	}
	return nil
}

// deleteMatching UNLINKs the keys matching pattern on one node, one
// pipeline per SCAN batch. (The measurement's prefix has no glob
// metacharacters.)
func deleteMatching(ctx context.Context, node redis.UniversalClient, pattern string) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			// One UNLINK per key: on a cluster node a multi-key UNLINK
			// across slots is refused (CROSSSLOT).
			_, err := node.Pipelined(ctx, func(pipe redis.Pipeliner) error {
				for _, k := range keys {
					pipe.Unlink(ctx, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
