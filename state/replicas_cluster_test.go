package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redisserver"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// REDIS_WAIT_REPLICAS on a cluster waits on the master that took the
// commit: with the replica of one master gone, that master's customers'
// commits report ErrReplicasBehind (applied, not confirmed) while the
// other masters' customers commit. A WAIT sent to any other node would
// have answered at once with that node's replica and confirmed a commit
// nothing copied. The start-up check names the master without a replica.
func TestWaitReplicasOnClusterWaitsOnTheMasterThatTookTheCommit(t *testing.T) {
	cluster := redistest.StartCluster(t, redisserver.ClusterOptions{Masters: 3, Replicas: 1})
	rdb := redistest.ClusterClient(t, cluster, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := NewStore(rdb, Options{WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond})
	if err := CheckReplicas(ctx, rdb, 1); err != nil {
		t.Fatalf("CheckReplicas with a replica per master: %v", err)
	}

	// A master counts a replica for WAIT from its first ACK, up to a
	// second after the link is up: on a loaded machine a fresh cluster's
	// first commits could otherwise fall short. Wait until every master's
	// WAIT counts its replica.
	waitFor(t, "every master's replica to acknowledge", func() bool {
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			if n, err := m.Do(ctx, "WAIT", 1, 100).Int(); err != nil || n < 1 {
				return fmt.Errorf("%s: %d replicas acknowledged (%v)", m.Options().Addr, n, err)
			}
			return nil
		})
		return err == nil
	})

	// Customers of every master commit, timers and all.
	masterOf := map[string]*redisserver.ClusterNode{}
	for i := range contractCustomers {
		cust := contractCustomer(i)
		m, err := cluster.MasterOf(ctx, s.stateKey(cust))
		if err != nil {
			t.Fatal(err)
		}
		masterOf[cust] = m
		mustCommit(t, s, Commit{CustomerID: cust, CommandID: "c1", At: t0, Events: []OutboxEntry{ev(cust)},
			Timers: []TimerEntry{{CustomerID: cust, TimerID: "t", Kind: "renew", DueAt: t0}}})
	}

	lonely := masterOf[contractCustomer(0)]
	replicas, err := cluster.ReplicasOf(ctx, lonely)
	if err != nil || len(replicas) != 1 {
		t.Fatalf("replicas of %s: %v, %v", lonely.Addr(), replicas, err)
	}
	if err := cluster.Kill(replicas[0]); err != nil {
		t.Fatal(err)
	}
	// Until the master notices the lost link WAIT may still count it: wait
	// for the master to say it has no replica.
	node, err := rdb.MasterForKey(ctx, s.stateKey(contractCustomer(0)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the master to lose its replica", func() bool {
		return redistest.InfoField(t, node, "connected_slaves") == "0"
	})
	err = CheckReplicas(ctx, rdb, 1)
	if err == nil || !strings.Contains(err.Error(), lonely.Addr()) {
		t.Errorf("CheckReplicas with %s alone = %v; want an error naming it", lonely.Addr(), err)
	}

	behind, committed := 0, 0
	for i := range contractCustomers {
		cust := contractCustomer(i)
		out, err := s.Commit(ctx, Commit{CustomerID: cust, CommandID: "c2", ExpectedVersion: 1, At: t0, Events: []OutboxEntry{ev(cust + "-2")}})
		switch {
		case masterOf[cust] == lonely:
			if !errors.Is(err, ErrReplicasBehind) {
				t.Errorf("%s on %s (no replica): %+v, %v; want ErrReplicasBehind", cust, lonely.Addr(), out, err)
			}
			behind++
		case err != nil || out.Status != Committed:
			t.Errorf("%s on %s: %+v, %v; want Committed", cust, masterOf[cust].Addr(), out, err)
		default:
			committed++
		}
	}
	if behind == 0 || committed == 0 {
		t.Fatalf("%d customers on the master without replica, %d elsewhere: the test proves nothing", behind, committed)
	}

	// Once the replica is back, the commit that fell short is found
	// applied and confirmed.
	if err := cluster.Restart(ctx, replicas[0]); err != nil {
		t.Fatal(err)
	}
	if err := cluster.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	// The master counts a replica for WAIT from its first ACK, up to a
	// second after the link is up: retry while it says behind.
	var out CommitOutcome
	waitFor(t, "the returned replica to acknowledge", func() bool {
		out, err = s.Commit(ctx, Commit{CustomerID: contractCustomer(0), CommandID: "c2", ExpectedVersion: 1, At: t0})
		return !errors.Is(err, ErrReplicasBehind)
	})
	if err != nil || out.Status != Duplicate {
		t.Fatalf("retry after the replica returned = %+v, %v; want Duplicate", out, err)
	}
}

// A commit sent to a master that no longer holds the customer's slot
// writes nothing and fails with ErrSlotMoved, and the client's slot map is
// reloaded so that the retry reaches the right master.
func TestWaitReplicasCommitOnAStaleMasterIsRefusedAsSlotMoved(t *testing.T) {
	rdb := redistest.SharedClusterClient(t)
	ctx := context.Background()
	s := NewStore(rdb, Options{WaitReplicas: 1, WaitTimeout: time.Second})
	cust := "moved-customer"
	right := masterOfKey(t, rdb, s.stateKey(cust))
	var (
		mu    sync.Mutex
		wrong *redis.Client
	)
	_ = rdb.ForEachMaster(ctx, func(_ context.Context, n *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		if n.Options().Addr != right.Options().Addr && wrong == nil {
			wrong = n
		}
		return nil
	})
	if wrong == nil {
		t.Fatal("one master only")
	}
	keys := []string{s.stateKey(cust), s.inboxKey(cust), s.inboxTSKey(cust), s.outboxKey(cust), s.appliedKey(cust)}
	_, _, err := s.commitAndWait(ctx, wrong, keys, []interface{}{"c1", 0, 1, 0, 0, 1, "{}", 0, 0, 0})
	if err = s.slotMoved(ctx, err); !errors.Is(err, ErrSlotMoved) {
		t.Fatalf("commit on %s for a customer of %s: %v; want ErrSlotMoved", wrong.Options().Addr, right.Options().Addr, err)
	}
	if ok, err := s.Applied(ctx, cust, "c1"); err != nil || ok {
		t.Fatalf("Applied after a MOVED = %v, %v; want nothing written", ok, err)
	}
	mustCommit(t, s, Commit{CustomerID: cust, CommandID: "c1", At: t0})
}

// The confirmation of a command found applied checks, behind its WAIT and
// on the same master, that the command is still there: one read from a
// master that failed over since, to a replica it never reached, is not
// applied after all and must not have its events published.
func TestWaitReplicasConfirmsOnlyACommandTheMasterStillHolds(t *testing.T) {
	rdb := redistest.SharedClusterClient(t)
	ctx := context.Background()
	s := NewStore(rdb, Options{WaitReplicas: 1, WaitTimeout: time.Second})
	const cust = "confirmed-customer"
	mustCommit(t, s, Commit{CustomerID: cust, CommandID: "applied", At: t0})
	var err error
	waitFor(t, "a replica to acknowledge", func() bool {
		err = s.awaitReplicas(ctx, cust, s.inboxKey(cust), "applied")
		return !errors.Is(err, ErrReplicasBehind)
	})
	if err != nil {
		t.Fatalf("confirming an applied command: %v", err)
	}
	// As the promoted master would answer for a commit that died with the
	// old one.
	err = s.awaitReplicas(ctx, cust, s.inboxKey(cust), "lost-with-the-old-master")
	if !errors.Is(err, ErrCommitLost) {
		t.Fatalf("confirming a command the master does not hold: %v; want ErrCommitLost", err)
	}
}
