package redistest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redisconn"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// TestNodeTimeout is the cluster-node-timeout of the clusters this package
// starts: short, so a failover takes seconds, and long enough that a node
// of a loaded machine is not taken for dead.
const TestNodeTimeout = 2 * time.Second

// StartCluster starts a Redis Cluster of the test's own (Masters masters
// with Replicas replicas each; 3 masters when 0), with its data in memory
// where possible and cluster-node-timeout TestNodeTimeout unless opt says
// otherwise, stopped when the test ends.
func StartCluster(t testing.TB, opt redisserver.ClusterOptions) *redisserver.Cluster {
	t.Helper()
	c, dir, err := startCluster(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(); _ = os.RemoveAll(dir) })
	return c
}

// startCluster starts a cluster in a new directory (removed on failure;
// the caller removes it after Close otherwise).
func startCluster(opt redisserver.ClusterOptions) (*redisserver.Cluster, string, error) {
	if opt.NodeTimeout == 0 {
		opt.NodeTimeout = TestNodeTimeout
	}
	dir, err := os.MkdirTemp(shmDir(), "redistest-cluster-")
	if err != nil {
		return nil, "", err
	}
	opt.Dir = dir
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := redisserver.StartCluster(ctx, opt)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("redistest: start a Redis Cluster: %w", err)
	}
	return c, dir, nil
}

// ClusterClient returns a cluster client of c built as the processor builds
// one (redisconn: failover defaults, slot map reloaded on failures),
// closed when the test ends. tune, when set, adjusts its options first.
func ClusterClient(t testing.TB, c *redisserver.Cluster, tune func(*redis.ClusterOptions)) *redis.ClusterClient {
	t.Helper()
	opt, err := redisconn.Config{URL: c.URL()}.ClusterOptions()
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(opt)
	}
	rdb := redisconn.NewClusterClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// The package's shared cluster, started by the first SharedClusterClient
// and stopped by Main.
var (
	sharedOnce    sync.Once
	sharedCluster *redisserver.Cluster
	sharedDir     string
	sharedErr     error
)

// SharedClusterClient is Client for a Redis Cluster: the test binary's
// one cluster (3 masters with a replica each, started on first use and
// stopped when Main returns), every master flushed, and a client to it
// closed when the test ends. Like Client, tests that use it must not run
// in parallel.
func SharedClusterClient(t testing.TB) *redis.ClusterClient {
	t.Helper()
	sharedOnce.Do(func() {
		sharedCluster, sharedDir, sharedErr = startCluster(redisserver.ClusterOptions{Masters: 3, Replicas: 1})
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	rdb := ClusterClient(t, sharedCluster, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		return n.FlushAll(ctx).Err()
	}); err != nil {
		t.Fatalf("redistest: FLUSHALL on the cluster's masters: %v", err)
	}
	return rdb
}

// SharedCluster is the cluster behind SharedClusterClient (nil before its
// first call).
func SharedCluster() *redisserver.Cluster { return sharedCluster }

// closeShared stops the shared cluster, if one was started.
func closeShared() {
	if sharedCluster != nil {
		if err := sharedCluster.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "redistest: %v\n", err)
		}
		_ = os.RemoveAll(sharedDir)
	}
}
