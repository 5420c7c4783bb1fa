package redisserver

import (
	"context"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func startTestCluster(t *testing.T, opt ClusterOptions) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := StartCluster(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A started cluster serves every slot, its nodes run the shipped
// cluster-node.conf's settings, a key written through a cluster client
// reads back, and the URL it gives is one a cluster client parses.
func TestStartClusterServesEverySlotWithTheShippedSettings(t *testing.T) {
	base := freeBasePort(t, 6)
	c := startTestCluster(t, ClusterOptions{Masters: 3, Replicas: 1, User: "processor", Password: strings.Repeat("pw", 20),
		NodeTimeout: 3 * time.Second, BasePort: base})
	if c.Addrs()[5] != "127.0.0.1:"+strconv.Itoa(base+5) {
		t.Errorf("with BasePort %d the nodes are %v", base, c.Addrs())
	}
	ctx := context.Background()
	masters, err := c.Masters(ctx)
	if err != nil || len(masters) != 3 {
		t.Fatalf("Masters = %v, %v; want 3", masters, err)
	}
	opt, err := redis.ParseClusterURL(c.URL())
	if err != nil {
		t.Fatalf("ParseClusterURL(%q): %v", c.URL(), err)
	}
	if len(opt.Addrs) != 6 {
		t.Errorf("URL seeds %v, want all 6 nodes", opt.Addrs)
	}
	rdb := redis.NewClusterClient(opt)
	defer rdb.Close()
	info, err := rdb.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_slots_ok:16384") {
		t.Fatalf("CLUSTER INFO = %q, %v", info, err)
	}
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		if err := rdb.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var seen atomic.Int32
	err = rdb.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		got, err := n.ConfigGet(ctx, "*").Result()
		if err != nil {
			return err
		}
		for k, want := range map[string]string{"cluster-enabled": "yes", "appendonly": "yes", "appendfsync": "always",
			"maxmemory-policy": "noeviction", "cluster-node-timeout": "3000", "save": ""} {
			if got[k] != want {
				t.Errorf("%s: %s = %q, want %q", n.Options().Addr, k, got[k], want)
			}
		}
		seen.Add(1)
		return nil
	})
	if err != nil || seen.Load() != 3 {
		t.Fatalf("ForEachMaster: %d masters, %v", seen.Load(), err)
	}
	// Without the password no node admits a client.
	anon := redis.NewClient(&redis.Options{Addr: c.Addrs()[0]})
	defer anon.Close()
	if err := anon.Set(ctx, "x", "y", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("SET without AUTH: %v, want NOAUTH", err)
	}
}

// Killing a master makes its replica take its slots; the killed node,
// restarted, rejoins as a replica and the cluster is whole again.
func TestKilledMasterIsReplacedByItsReplicaAndRejoinsAsReplica(t *testing.T) {
	c := startTestCluster(t, ClusterOptions{Masters: 3, Replicas: 1, NodeTimeout: 2 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	victim, err := c.MasterOf(ctx, "some-key")
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := c.Kill(victim); err != nil {
		t.Fatal(err)
	}
	promoted, err := c.WaitFailover(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("promotion took %v (cluster-node-timeout 2s)", time.Since(killed))
	if promoted == victim {
		t.Fatal("WaitFailover returned the killed node")
	}
	if now, err := c.MasterOf(ctx, "some-key"); err != nil || now != promoted {
		t.Fatalf("MasterOf after failover = %v, %v; want %s", now, err, promoted.Addr())
	}
	if err := c.Restart(ctx, victim); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	masters, err := c.Masters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(masters, victim) || !slices.Contains(masters, promoted) || len(masters) != 3 {
		t.Errorf("masters after restart %v: want 3 with %s and without %s", c.addrsOf(masters), promoted.Addr(), victim.Addr())
	}
}

func (c *Cluster) addrsOf(ns []*ClusterNode) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Addr())
	}
	return out
}

// freeBasePort finds a BasePort below the kernel's ephemeral ports (where
// outgoing connections do not take them) whose n client and n bus ports
// all accept a listener now.
func freeBasePort(t *testing.T, n int) int {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		base := 20000 + rand.IntN(2700)*4
		var ls []net.Listener
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, p := range []int{base + i, base + 10000 + i} {
				l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
				if err != nil {
					ok = false
					break
				}
				ls = append(ls, l)
			}
		}
		for _, l := range ls {
			_ = l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free range of ports for BasePort")
	return 0
}

// A cluster started again with the same BasePort and Dir re-forms from its
// nodes' files and keeps its data.
func TestClusterStartedAgainOnItsDirKeepsItsData(t *testing.T) {
	dir := t.TempDir()
	opt := ClusterOptions{Masters: 3, Dir: dir, BasePort: freeBasePort(t, 3)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	first := startTestCluster(t, opt)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: first.Addrs()})
	defer rdb.Close()
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := rdb.Set(ctx, k, "v-"+k, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	ids := first.Nodes()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again := startTestCluster(t, opt)
	for i, n := range again.Nodes() {
		if n.ID != ids[i].ID {
			t.Errorf("node %d: ID %s, was %s", i, n.ID, ids[i].ID)
		}
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		if v, err := rdb.Get(ctx, k).Result(); err != nil || v != "v-"+k {
			t.Errorf("GET %s after the restart = %q, %v", k, v, err)
		}
	}
}
