//go:build cluster

package cluster_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/cluster"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/scratch"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

const partitions = 8

// rig is the cluster under the simulator's load, and the table of the
// faults' recoveries.
type rig struct {
	t    *testing.T
	c    *cluster.Cluster
	r    *simulator.Runner
	out  *cluster.Outcomes
	rows []string
}

// fault is one fault's instants and the commands in flight when it began.
type fault struct {
	name     string
	killed   time.Time
	inFlight []string
}

// G1, G2, G3 on the whole system: under the simulator's load, one after
// another, a processor replica is SIGKILLed and started again, the NATS
// node leading the command stream is SIGKILLed and restarted, a Redis
// master is SIGKILLed (a replica is promoted) and restarted as a replica,
// and a third processor replica joins two. The run ends as a run without
// faults does: every command answered once, no event twice, every amount
// and every customer's state as the simulator's model (applying each
// customer's commands in the order sent) says.
func TestCluster_KillsAndGrowthUnderLoadLoseNothingDuplicateNothingKeepOrder(t *testing.T) {
	dir, err := scratch.Dir("csp-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Replicas: 2, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i := range c.Processors() {
				t.Logf("last output of %s:\n%s", cluster.ReplicaID(i), c.ProcessorOutput(i))
			}
		}
		c.Stop()
	})
	g := &rig{t: t, c: c, out: cluster.NewOutcomes()}
	g.held(2)
	st, err := stack.Start(ctx, stack.Options{NATS: c.SimulatorNATS(), Redis: c.RedisConfig(), Processor: stack.External, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if g.r, err = simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, "P-SIM", simulator.DefaultMix, 1, report.NewRecorder(time.Now())); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.r.Ledger.Stop)
	g.r.Ledger.OnOutcome = g.out.Add
	wait := g.run(simulator.LoadConfig{Rate: 200, Customers: 1000, StepReal: 2 * time.Second, StepSim: 6 * time.Hour,
		Start: time.Date(2026, 1, 30, 1, 17, 0, 0, time.UTC), Duration: 10 * time.Minute, RunID: "cluster", Seed: 1})

	// A processor replica crashes: its leases expire (LEASE_TTL), the
	// other takes its partitions, and what it was deciding comes back
	// after the ack wait.
	g.pause()
	holders, err := c.PartitionHolders(withDeadline(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	f := g.begin("processor-kill")
	if err := c.KillProcessor(0); err != nil {
		t.Fatal(err)
	}
	g.recovered(f, f.killed, g.takeover(f, holders, cluster.ReplicaID(0)))
	if err := c.JoinProcessor(withDeadline(t, 2*time.Minute), 0); err != nil {
		t.Fatal(err)
	}
	g.held(2)

	// The command stream's leader dies: the two other nodes elect one.
	g.pause()
	f = g.begin("nats-stream-leader-kill")
	node, err := c.KillCommandStreamLeader(withDeadline(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	g.recovered(f, f.killed, "node "+fmt.Sprint(node+1))
	if err := c.RestartNATS(node); err != nil {
		t.Fatal(err)
	}

	// A Redis master dies: after the node timeout one of its replicas
	// is promoted; every commit waited for a replica, so none is lost.
	g.pause()
	f = g.begin("redis-master-kill")
	master, err := c.KillRedisMaster(withDeadline(t, time.Minute), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitRedisFailover(withDeadline(t, 2*time.Minute), master); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	g.recovered(f, promoted, fmt.Sprintf("promoted after %.2fs", promoted.Sub(f.killed).Seconds()))
	if err := c.RestartRedis(withDeadline(t, 2*time.Minute), master); err != nil {
		t.Fatal(err)
	}

	// Growth: a third replica joins; partitions move to it by lease.
	g.pause()
	f = g.begin("grow-2-to-3")
	if err := c.JoinProcessor(withDeadline(t, 2*time.Minute), 2); err != nil {
		t.Fatal(err)
	}
	g.held(3)
	g.recovered(f, f.killed, fmt.Sprintf("3 replicas hold the partitions after %.2fs", time.Since(f.killed).Seconds()))

	g.check(wait())
}

// held waits until every partition is held and by n replicas.
func (g *rig) held(n int) {
	g.t.Helper()
	if _, err := g.c.WaitPartitionsHeld(withDeadline(g.t, 2*time.Minute), n); err != nil {
		g.t.Fatal(err)
	}
}

// run plays the load in the background until wait is called: wait ends
// it after the step under way and returns its result.
func (g *rig) run(cfg simulator.LoadConfig) (wait func() error) {
	done := make(chan error, 1)
	stop := make(chan struct{})
	cfg.Stop = stop
	go func() { done <- g.r.Run(context.Background(), cfg) }()
	return func() error {
		close(stop)
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Minute):
			return fmt.Errorf("the run did not end within 5 minutes")
		}
	}
}

// pause lets the load run a few seconds between faults.
func (g *rig) pause() {
	time.Sleep(4 * time.Second) // choosing the fault's instant, not synchronisation
}

// begin waits until commands are in flight (the fault must catch work
// under way) and notes them.
func (g *rig) begin(name string) *fault {
	g.t.Helper()
	if err := g.r.Ledger.AwaitInFlight(withDeadline(g.t, time.Minute)); err != nil {
		g.t.Fatalf("fault=%s: no command in flight within a minute: %v", name, err)
	}
	// At this rate few commands wait at once; a fault that catches
	// several says more. Up to 10 s for 5 in flight, else what there is.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for giveUp := time.Now().Add(10 * time.Second); len(g.r.Ledger.InFlightIDs()) < 5 && time.Now().Before(giveUp); {
		<-tick.C
	}
	return &fault{name: name, killed: time.Now(), inFlight: g.r.Ledger.InFlightIDs()}
}

// recovered waits for the first outcome whose event was stored after
// from, and for every command in flight at the fault, and adds the
// fault's row: recovery (from the fault to the first command applied
// after from) and backlog (from the fault to the last command caught by
// it answered).
func (g *rig) recovered(f *fault, from time.Time, detail string) {
	g.t.Helper()
	ctx := withDeadline(g.t, 2*time.Minute)
	first, err := g.out.FirstStoredAfter(ctx, from)
	if err != nil {
		g.t.Fatalf("fault=%s: no command answered within 2 minutes: %v\n%d in flight\n%s", f.name, err,
			g.r.Ledger.InFlight(), g.c.Diagnose(withDeadline(g.t, 30*time.Second)))
	}
	last, err := g.out.AllAnswered(ctx, f.inFlight)
	if err != nil {
		g.t.Fatalf("fault=%s: the %d commands in flight were not all answered within 2 minutes: %v\n%s", f.name, len(f.inFlight), err,
			g.c.Diagnose(withDeadline(g.t, 30*time.Second)))
	}
	row := fmt.Sprintf("%-24s %9.2fs %9.2fs %9d  %s", f.name, first.Sub(f.killed).Seconds(),
		max(last.Sub(f.killed), 0).Seconds(), len(f.inFlight), detail)
	g.t.Log(row)
	g.rows = append(g.rows, row)
}

// takeover waits for the first command answered in a partition that the
// killed replica held, stored after the kill, and says how long after
// the kill it came: the failover of the replica's partitions (lease
// expiry, then its unacked commands back after the ack wait).
func (g *rig) takeover(f *fault, holders map[int]string, killed string) string {
	g.t.Helper()
	var its []int
	for p, r := range holders {
		if r == killed {
			its = append(its, p)
		}
	}
	at, err := g.out.FirstOfStoredAfter(withDeadline(g.t, 2*time.Minute), f.killed, func(customer string) bool {
		return slices.Contains(its, bus.PartitionOf(customer, partitions))
	})
	if err != nil {
		g.t.Fatalf("fault=%s: nothing answered in partitions %v within 2 minutes: %v\n%s", f.name, its, err,
			g.c.Diagnose(withDeadline(g.t, 30*time.Second)))
	}
	return fmt.Sprintf("its partitions %v answer again after %.2fs", its, at.Sub(f.killed).Seconds())
}

// check requires the run to have ended as a run without faults does and
// logs the table.
func (g *rig) check(runErr error) {
	g.t.Helper()
	if runErr != nil {
		g.t.Fatalf("the run failed: %v", runErr)
	}
	s := g.r.Rec.Summary("cluster", time.Now())
	dup := g.r.Ledger.Duplicates
	g.t.Logf("recovery of each fault under %d commands, p99 %s:\n%-24s %10s %10s %9s\n%s\nlost=%d dup=%d mismatches=%d commands=%d checked=%d",
		s.Sent, s.LatencyP99, "fault", "recovery", "backlog", "inflight", strings.Join(g.rows, "\n"), s.Lost, dup, s.Mismatches, s.Sent, g.r.Checked)
	if s.Lost != 0 || dup != 0 || s.Mismatches != 0 {
		g.t.Fatalf("%d lost, %d duplicate events, %d mismatches:\n%s", s.Lost, dup, s.Mismatches, strings.Join(s.MismatchTexts, "\n"))
	}
	if s.Sent == 0 || s.Completed != s.Sent || g.r.Checked == 0 {
		g.t.Fatalf("%d commands sent, %d answered, %d billing events checked", s.Sent, s.Completed, g.r.Checked)
	}
}

func withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
