package handlers

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redisserver"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// G1 and G3 across a Redis Cluster failover: a processor applies a steady
// stream of commands while the master holding some of the customers is
// SIGKILLed. Its replica is promoted, the processor's commits reach the
// promoted master within seconds of the promotion (the cluster client
// reloads its slot map on the first failure, redisconn.NewClusterClient),
// and in the end every command is applied exactly once: each customer's
// version counts its commands, no event is published twice, nothing is
// dead-lettered.
//
// The processor waits for one replica per commit (REDIS_WAIT_REPLICAS=1),
// which is what makes a failover lose nothing: without it a commit
// acknowledged by the master but not yet copied is gone with the master,
// and its command with it. Each master has two replicas so that the
// promoted one still has one to wait for.
//
// It logs (a) the promotion time, from the kill to the cluster agreeing on
// the new master, and (b) the time from the promotion to the first commit
// on the promoted master.
func TestG1G3ClusterFailoverLosesNothingAndResumesWithinSeconds(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 9-node Redis Cluster and waits out a failover")
	}
	e := newEnv(t)
	cluster := redistest.StartCluster(t, redisserver.ClusterOptions{Masters: 3, Replicas: 2})
	rdb := redistest.ClusterClient(t, cluster, nil)
	e.store = state.NewStore(rdb, state.Options{})
	e.startProcessor(func(c *Config) {
		c.Redis = rdb
		c.State.WaitReplicas = 1
		c.State.WaitTimeout = 500 * time.Millisecond
	})
	dl := e.watchDeadLetters()
	ctx := context.Background()

	const customers = 12
	custs := make([]string, customers)
	for i := range custs {
		custs[i] = fmt.Sprintf("C-FO-%02d", i)
		e.createCustomer(partnerA, custs[i])
	}
	victim, err := cluster.MasterOf(ctx, stateKey(custs[0]))
	if err != nil {
		t.Fatal(err)
	}
	var onVictim []string
	for _, c := range custs {
		if m, err := cluster.MasterOf(ctx, stateKey(c)); err != nil {
			t.Fatal(err)
		} else if m == victim {
			onVictim = append(onVictim, c)
		}
	}

	// The load: one order after another, round robin over the customers,
	// every 50 ms, until stopped.
	var (
		mu   sync.Mutex
		sent []messages.Command
	)
	stopLoad := make(chan struct{})
	loadDone := make(chan error, 1)
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stopLoad:
				loadDone <- nil
				return
			case <-tick.C:
			}
			qty := 1
			cmd := messages.Command{ID: "fo-order-" + strconv.Itoa(i), Type: messages.CmdOrderPlaced, CustomerID: custs[i%customers],
				Data: &messages.OrderPlacedData{OrderID: "FO-" + strconv.Itoa(i), Lines: []messages.OrderLine{
					{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}}}
			if _, err := e.up.Send(ctx, partnerA, cmd); err != nil {
				loadDone <- err
				return
			}
			mu.Lock()
			sent = append(sent, cmd)
			mu.Unlock()
		}
	}()
	stop := func() {
		select {
		case <-stopLoad:
		default:
			close(stopLoad)
			if err := <-loadDone; err != nil {
				t.Errorf("sending: %v", err)
			}
		}
	}
	defer stop()
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitFor(waitCtx, func() bool { return versionsSum(t, e.store, onVictim) >= int64(len(onVictim))+3 }); err != nil {
		t.Fatalf("the load did not reach the victim's customers: %v", err)
	}

	killed := time.Now()
	if err := cluster.Kill(victim); err != nil {
		t.Fatal(err)
	}
	promoted, err := cluster.WaitFailover(waitCtx, victim)
	if err != nil {
		t.Fatal(err)
	}
	promotedAt := time.Now()
	published := victimEvents(e, onVictim)
	node := redis.NewClient(&redis.Options{Addr: promoted.Addr()})
	defer node.Close()
	before := versionsOn(t, node, onVictim)
	var landed time.Time
	if err := waitFor(waitCtx, func() bool {
		for c, v := range versionsOn(t, node, onVictim) {
			if v > before[c] {
				landed = time.Now()
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no commit reached the promoted master %s within 60 s: %v", promoted.Addr(), err)
	}
	if err := waitFor(waitCtx, func() bool { return victimEvents(e, onVictim) > published }); err != nil {
		t.Fatalf("no event of the killed master's customers published within 60 s of the promotion: %v", err)
	}
	confirmed := time.Now()
	promotion, resumed := promotedAt.Sub(killed), landed.Sub(promotedAt)
	t.Logf("Redis Cluster failover (cluster-node-timeout %v): (a) promotion %v after the kill; "+
		"(b) first commit on the promoted master %v after the promotion; (c) first event of its customers "+
		"published (commit confirmed by a replica) %v after the promotion (%d customers of %d on the killed master)",
		redistest.TestNodeTimeout, promotion.Round(time.Millisecond), resumed.Round(time.Millisecond),
		confirmed.Sub(promotedAt).Round(time.Millisecond), len(onVictim), customers)

	// Some more load on the promoted master, then every command must land.
	if err := waitFor(waitCtx, func() bool {
		return versionsSum(t, e.store, onVictim) >= sum(before)+int64(2*len(onVictim))
	}); err != nil {
		t.Fatalf("the load stalled after the failover: %v", err)
	}
	stop()
	mu.Lock()
	all := append([]messages.Command(nil), sent...)
	mu.Unlock()
	perCustomer := map[string]int64{}
	for _, cmd := range all {
		e.await(cmd)
		perCustomer[cmd.CustomerID]++
	}
	for _, c := range custs {
		snap, err := e.store.Load(ctx, c, "")
		if err != nil {
			t.Fatal(err)
		}
		// customer.created, then one version per order.
		if want := 1 + perCustomer[c]; snap.Version != want {
			t.Errorf("%s: version %d after %d commands: a command was lost or applied twice", c, snap.Version, want)
		}
	}
	if n := e.events.Duplicates(); n != 0 {
		t.Errorf("%d events published twice", n)
	}
	if n := dl.count(); n != 0 {
		t.Errorf("%d commands dead-lettered", n)
	}
	// Loose bounds, for a loaded machine: the client must follow the
	// failover within seconds, not the minute of go-redis's periodic
	// reload.
	if resumed > 20*time.Second {
		t.Errorf("first commit on the promoted master %v after the promotion; want a few seconds", resumed)
	}
}

// victimEvents counts the events published so far for the customers.
func victimEvents(e *env, customers []string) int {
	n := 0
	for _, ev := range e.events.Events() {
		if slices.Contains(customers, ev.CustomerID) {
			n++
		}
	}
	return n
}

func stateKey(customerID string) string { return state.DefaultPrefix + ":{" + customerID + "}:state" }

// versionsOn reads the customers' versions from one node.
func versionsOn(t *testing.T, node *redis.Client, customers []string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, c := range customers {
		v, err := node.HGet(context.Background(), stateKey(c), "v").Int64()
		if err != nil && err != redis.Nil {
			t.Fatalf("version of %s on %s: %v", c, node.Options().Addr, err)
		}
		out[c] = v
	}
	return out
}

// versionsSum is the sum of the customers' versions, read through the
// cluster (0 for a customer it cannot read now).
func versionsSum(t *testing.T, s *state.Store, customers []string) int64 {
	t.Helper()
	var total int64
	for _, c := range customers {
		if snap, err := s.Load(context.Background(), c, ""); err == nil {
			total += snap.Version
		}
	}
	return total
}

func sum(m map[string]int64) int64 {
	var total int64
	for _, v := range m {
		total += v
	}
	return total
}
