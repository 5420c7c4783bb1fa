package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// REDIS_URL listing several nodes of a Redis Cluster (either form) gives
// the processor a cluster client, tuned as the processor's pool is, that
// passes the durability check on every master; one node's address alone
// stops the processor naming the fix instead of failing with MOVED later.
func TestRedisURLWithSeveralNodesConnectsToTheCluster(t *testing.T) {
	clearConnectEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pw := strings.Repeat("pw", 20)
	cl, err := redisserver.StartCluster(ctx, redisserver.ClusterOptions{Masters: 3, User: "processor", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })

	comma := "redis://processor:" + pw + "@" + strings.Join(cl.Addrs(), ",")
	for _, u := range []string{cl.URL(), comma} {
		t.Setenv("REDIS_URL", u)
		rdb, closeRedis, err := connectRedis(ctx, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		cc, ok := rdb.(*redis.ClusterClient)
		if !ok || cc.Options().PoolSize < 64 || cc.Options().Protocol != 2 {
			t.Errorf("client %T, options %+v", rdb, rdb)
		}
		if err := state.CheckDurable(ctx, rdb); err != nil {
			t.Errorf("CheckDurable on the cluster: %v", err)
		}
		if n, _, err := replicaWait(rdb); err != nil || n != 0 {
			t.Errorf("replicaWait: %d, %v", n, err)
		}
		closeRedis()
	}

	t.Setenv("REDIS_URL", "redis://processor:"+pw+"@"+cl.Addrs()[0])
	_, _, err = connectRedis(ctx, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "list at least two") || strings.Contains(err.Error(), pw) {
		t.Fatalf("one node of a cluster: %v; want a refusal saying to list more, without the password", err)
	}
}
