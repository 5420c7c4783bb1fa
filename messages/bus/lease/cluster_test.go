package lease

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// runJetStreamCluster starts n embedded nats-servers routed to each other
// as one JetStream cluster, and waits until it answers JetStream requests.
func runJetStreamCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "leases", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		}
		servers[i] = natstest.RunServerWithOptions(t, opts)
	}
	_, js := natstest.Connect(t, servers[0])
	waitUntil(t, 30*time.Second, "JetStream cluster ready", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	})
	return servers
}

// On a three-node JetStream cluster with a replicated (R3) bucket, where
// compare-and-set conflicts come back with the clustered error code and
// expiry markers go through the stream's consensus, three keepers (one
// per node) share the partitions 11/11/10 without overlap, and a crashed
// one's partitions are taken over within TTL + one renewal interval.
func TestKeepersShareAndTakeOverOnAThreeNodeClusterWithAnR3Bucket(t *testing.T) {
	servers := runJetStreamCluster(t, 3)
	r := newRecorder()
	var keepers []*testKeeper
	for i, s := range servers {
		replica := fmt.Sprintf("r%d", i+1)
		nc, js := natstest.Connect(t, s)
		k, err := NewKeeper(js, Config{ReplicaID: replica, Partitions: testPartitions, Replicas: 3, Logger: testLogger(t)}, ownerAs{r: r, replica: replica})
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Start(); err != nil {
			t.Fatalf("start %s: %v", replica, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = k.Shutdown(ctx)
		})
		keepers = append(keepers, &testKeeper{Keeper: k, nc: nc, js: js})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := keepers[0].js.Stream(ctx, bucketStream(DefaultBucket))
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config; got.Replicas != 3 || got.Storage != jetstream.FileStorage {
		t.Fatalf("bucket: %d replicas, %v storage", got.Replicas, got.Storage)
	}
	took := waitUntil(t, 2*converge, "11/11/10", func() bool { return r.shares(10, 11, 11) })
	t.Logf("three keepers on three nodes: 11/11/10 after %v", took.Round(time.Millisecond))
	disjointCover(t, keepers...)

	crash := time.Now()
	keepers[2].nc.Close()
	limit := DefaultTTL + DefaultTTL/3
	waitUntil(t, limit+5*time.Second, "r1 and r2 work all 32", func() bool {
		c, free := r.counts()
		return free == 0 && c["r1"]+c["r2"] == testPartitions
	})
	took = time.Since(crash)
	t.Logf("R3 bucket: takeover after a crash: %v (limit TTL + renewal interval = %v)", took.Round(time.Millisecond), limit)
	if slack := time.Second; took > limit+slack {
		t.Errorf("takeover took %v, want at most %v + %v", took, limit, slack)
	}
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	disjointCover(t, keepers[:2]...)
	r.check(t)
}

// Losing the JetStream server that leads the bucket's stream (the
// keepers connected elsewhere) stalls renewals for the leader election.
// Whatever the election costs, no partition is ever worked by two
// replicas at once, and every partition is worked again soon after. The
// test logs how many leases were lost and how long coverage took to
// recover: the number to weigh LEASE_TTL against on a cluster.
func TestG3_BucketLeaderLossNeverLetsTwoReplicasWorkAPartition(t *testing.T) {
	servers := runJetStreamCluster(t, 3)
	r := newRecorder()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The bucket first, so the keepers can be put on the two other nodes.
	_, js := natstest.Connect(t, servers[0])
	cfg := Config{Partitions: testPartitions, Replicas: 3}.WithDefaults()
	if _, err := ensureBucket(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	var leader string
	waitUntil(t, converge, "the bucket has a leader", func() bool {
		st, err := js.Stream(ctx, bucketStream(cfg.Bucket))
		if err != nil || st.CachedInfo().Cluster == nil {
			return false
		}
		leader = st.CachedInfo().Cluster.Leader
		return leader != ""
	})
	var leaderServer *server.Server
	var others []*server.Server
	for _, s := range servers {
		if s.Name() == leader {
			leaderServer = s
		} else {
			others = append(others, s)
		}
	}
	if leaderServer == nil {
		t.Fatalf("leader %q is none of the servers", leader)
	}
	var keepers []*testKeeper
	for i, s := range others {
		keepers = append(keepers, startKeeperOwnedBy(t, s, ownerAs{r: r, replica: fmt.Sprintf("r%d", i+1)}))
	}
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	releasedBefore := len(r.releasesOf("r1")) + len(r.releasesOf("r2"))

	kv, err := keepers[0].js.KeyValue(ctx, cfg.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	leaderServer.Shutdown()
	leaderServer.WaitForShutdown()
	// Requests lost to the election are not answered: each attempt has a
	// short timeout of its own.
	attempt := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Second) }
	// Every partition's key written after the stop: renewed (or acquired
	// again) through the new leader.
	var after uint64
	waitUntil(t, 30*time.Second, "the bucket's new leader", func() bool {
		actx, cancel := attempt()
		defer cancel()
		st, err := keepers[0].js.Stream(actx, bucketStream(cfg.Bucket))
		if err != nil {
			return false
		}
		after = st.CachedInfo().State.LastSeq
		return true
	})
	took := waitUntil(t, 30*time.Second, "16/16 again, every lease written through the new leader", func() bool {
		if !r.shares(16, 16) {
			return false
		}
		actx, cancel := attempt()
		defer cancel()
		for p := range testPartitions {
			e, err := kv.Get(actx, partitionKey(p))
			if err != nil || e.Revision() <= after {
				return false
			}
		}
		return true
	})
	lost := len(r.releasesOf("r1")) + len(r.releasesOf("r2")) - releasedBefore
	t.Logf("bucket leader %s stopped: %d leases lost to the election; every lease renewed %v after the new leader answered (TTL %v)",
		leader, lost, took.Round(time.Millisecond), DefaultTTL)
	r.check(t)
}
