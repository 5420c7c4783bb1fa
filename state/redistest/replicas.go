package redistest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redisserver"
)

// ReplicaPair is a private master and a replica of it, two redis-servers of
// the test's own (not the package's shared server), stopped when the test
// ends. Attach and Detach connect and disconnect the replica.
type ReplicaPair struct {
	Master, Replica *redis.Client
	masterPort      string
}

// StartReplicaPair starts a master and a replica and waits until the master
// counts the replica for WAIT.
func StartReplicaPair(t testing.TB) *ReplicaPair {
	t.Helper()
	ctx := context.Background()
	start := func() *redis.Client {
		srv, err := redisserver.Start(ctx, redisserver.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close() })
		c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	p := &ReplicaPair{Master: start(), Replica: start()}
	_, p.masterPort, _ = strings.Cut(p.Master.Options().Addr, ":")
	// A full sync otherwise waits 5 s for more replicas to join it.
	if err := p.Master.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatal(err)
	}
	p.Attach(t)
	return p
}

// Attach makes the replica follow the master (REPLICAOF) and waits until
// the master counts it: after a full sync the master puts a replica online,
// and counts it for WAIT, only at the replica's first ACK, up to a second
// after the replica's link is up.
func (p *ReplicaPair) Attach(t testing.TB) {
	t.Helper()
	if err := p.Replica.ReplicaOf(context.Background(), "127.0.0.1", p.masterPort).Err(); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "replica online", func() bool {
		return InfoField(t, p.Replica, "master_link_status") == "up" &&
			strings.Contains(InfoField(t, p.Master, "slave0"), "state=online")
	})
}

// Detach makes the replica stop following (REPLICAOF NO ONE) and waits
// until the master has no replica left.
func (p *ReplicaPair) Detach(t testing.TB) {
	t.Helper()
	if err := p.Replica.ReplicaOf(context.Background(), "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "no connected replica", func() bool {
		return InfoField(t, p.Master, "connected_slaves") == strconv.Itoa(0)
	})
}

func (p *ReplicaPair) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: no %s within 10s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a server's INFO; no event to wait on
	}
}

// InfoField returns one field of c's INFO replication ("" when absent).
func InfoField(t testing.TB, c *redis.Client, field string) string {
	t.Helper()
	info, err := c.Info(context.Background(), "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
