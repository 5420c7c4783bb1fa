package simulator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/stack"
	"github.com/cspreseller/csp-processor/state/redisconn"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// The processor on a Redis Cluster (the stack given a REDIS_URL with
// several nodes, as -redis takes it): a simulated month of 40 customers,
// timers, renewals and the simulated clock included, agrees with the
// billing system's own model, and the customers' state is spread over
// every master.
func TestLoad_AMonthOnARedisClusterAgreesWithTheIndependentModel(t *testing.T) {
	if testing.Short() {
		t.Skip("a simulated month on a Redis Cluster")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl, err := redisserver.StartCluster(ctx, redisserver.ClusterOptions{Masters: 3, User: "processor", Password: strings.Repeat("pw", 20)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	st, err := stack.Start(ctx, stack.Options{Processor: stack.InProcess, Dir: t.TempDir(), Partitions: 8,
		Redis: redisconn.Config{URL: cl.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cc, ok := st.Redis.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("the stack built a %T for a cluster URL", st.Redis)
	}
	r, err := simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, "P-SIM", simulator.DefaultMix, 7, report.NewRecorder(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Ledger.Stop)
	if err := r.Run(ctx, simulator.LoadConfig{Customers: 40, CommandsPerStep: 20, StepSim: 7 * time.Hour,
		Start: simStart, End: simStart.AddDate(0, 1, 0), RunID: "cluster", Seed: 7}); err != nil {
		t.Fatal(err)
	}
	s := r.Rec.Summary("test", time.Now())
	if s.Mismatches != 0 {
		t.Fatalf("%d ledger mismatches:\n%s", s.Mismatches, strings.Join(s.MismatchTexts, "\n"))
	}
	if r.Checked < 50 || s.Charges == 0 {
		t.Fatalf("only %d billing events checked (%d charges)", r.Checked, s.Charges)
	}
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		keys, _, err := n.Scan(ctx, 0, "csp:{*}:state", 1000).Result()
		if err == nil && len(keys) == 0 {
			t.Errorf("master %s holds no customer", n.Options().Addr)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if mem, err := st.RedisMemory(ctx); err != nil || mem == 0 {
		t.Errorf("RedisMemory over the masters = %d, %v", mem, err)
	}
	t.Logf("%d billing events checked, %d charges, %d credits", r.Checked, s.Charges, s.Credits)
}
