package faulttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus/natsconn"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/cluster"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/stack"
	"github.com/cspreseller/csp-processor/state/redisconn"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// partitions of the command stream: a few, so that a 2-core machine runs
// them all.
const partitions = 8

// rig is one run's servers, processor and simulator.
type rig struct {
	t     *testing.T
	dir   string
	nats  *natsServer
	redis *redisserver.Server
	proc  *process
	st    *stack.Stack
	r     *simulator.Runner
	out   *cluster.Outcomes
	rng   *rand.Rand
}

// newRig starts NATS, Redis and the processor as processes, and a runner
// against them. The fault instants are drawn from a seed that is logged
// (FAULT_SEED repeats a run's).
func newRig(t *testing.T) *rig {
	t.Helper()
	if testing.Short() {
		t.Skip("kills and restarts servers under load")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FAULT_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("FAULT_SEED=%q: %v", s, err)
		}
	}
	t.Logf("fault instants drawn with FAULT_SEED=%d", seed)
	g := &rig{t: t, dir: dataDir(t), rng: rand.New(rand.NewPCG(seed, 1)), out: cluster.NewOutcomes()}
	g.nats = startNATS(t, g.dir)
	ctx := withDeadline(t, time.Minute)
	var err error
	if g.redis, err = redisserver.Start(ctx, redisserver.Options{Dir: g.redisDir(), Appendonly: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.redis.Close() })
	g.startProcessor()
	t.Cleanup(func() { g.proc.stop() })
	g.st, err = stack.Start(ctx, stack.Options{NATS: natsconn.Config{URL: g.nats.url()}, Redis: redisconn.Config{URL: g.redis.URL()}, Processor: stack.External, Partitions: partitions})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.st.Close() })
	g.r, err = simulator.NewRunner(ctx, g.st.NC, g.st.JS, g.st.Streams, g.st.Catalog, "P-SIM", simulator.DefaultMix, seed, report.NewRecorder(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.r.Ledger.Stop)
	g.r.Ledger.OnOutcome = g.out.Add
	return g
}

func (g *rig) redisDir() string {
	dir := filepath.Join(g.dir, "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		g.t.Fatal(err)
	}
	return dir
}

// startProcessor runs the processor binary against the rig's servers. Its
// ack wait is 5 s: a command it was deciding when it died is redelivered
// after that.
func (g *rig) startProcessor() {
	g.proc = start(g.t, "processor", binary(g.t, "github.com/cspreseller/csp-processor/cmd/processor"), nil, []string{
		"NATS_URL=" + g.nats.url(), "REDIS_URL=" + g.redis.URL(), "SIMULATION=1", "ACK_WAIT=5s", "LOG_LEVEL=warn",
		"PARTITIONS=" + strconv.Itoa(partitions), "DATA_DIR=" + filepath.Join(g.dir, "processor")}, "")
}

// restartRedis kills redis-server and starts it again on its port and
// data; it returns the instant the new one answered.
func (g *rig) restartRedis() time.Time {
	g.t.Helper()
	port := g.redis.Port()
	if err := g.redis.Kill(); err != nil {
		g.t.Fatal(err)
	}
	srv, err := redisserver.Start(withDeadline(g.t, 30*time.Second), redisserver.Options{Dir: g.redisDir(), Port: port, Appendonly: true})
	if err != nil {
		g.t.Fatalf("start redis-server again on port %d: %v", port, err)
	}
	g.redis = srv
	return time.Now()
}

// load is the run every test plays: a few hundred commands a second over
// a thousand customers, six simulated hours a step, for 20 seconds.
func (g *rig) load(name string) simulator.LoadConfig {
	return simulator.LoadConfig{Rate: 200, Customers: 1000, StepReal: 2 * time.Second, StepSim: 6 * time.Hour,
		Start: time.Date(2026, 1, 30, 1, 17, 0, 0, time.UTC), Duration: maxLoad, RunID: name, Seed: 1}
}

// maxLoad only caps a run: a test ends its load when its faults are over
// (run's wait), however long they took on a loaded machine.
const maxLoad = 2 * time.Minute

// run plays the load in the background until wait is called: wait ends
// it after the step under way and returns its result. So the load goes on
// for as long as the faults and their recoveries take.
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
		case <-time.After(3 * time.Minute):
			return fmt.Errorf("the run did not end within 3 minutes")
		}
	}
}

// pause waits a random time between from and to (the fault's instant).
func (g *rig) pause(from, to time.Duration) time.Duration {
	d := from + time.Duration(g.rng.Int64N(int64(to-from)))
	time.Sleep(d) // choosing the fault's instant, not synchronisation
	return d
}

// fault is one fault's instants: when it began (the kill), when the
// server was back (for the processor: the kill too), and the commands in
// flight when it began.
type fault struct {
	name         string
	killed, back time.Time
	inFlight     []string
	detail       string // where it fell in the run, for the log line
}

// begin waits until commands are in flight (the fault must catch work
// under way) and notes them.
func (g *rig) begin(name, detail string) *fault {
	g.t.Helper()
	if err := g.r.Ledger.AwaitInFlight(withDeadline(g.t, 30*time.Second)); err != nil {
		g.t.Fatalf("fault=%s: no command in flight within 30 s: %v", name, err)
	}
	return &fault{name: name, killed: time.Now(), inFlight: g.r.Ledger.InFlightIDs(), detail: detail}
}

// recovered waits for the first outcome stored after the server was back,
// and for the outcome of every command that was in flight at the kill,
// and logs the fault's line: recovery (first outcome after it was back)
// and backlog (the last of the commands caught by the fault answered,
// from the kill; a command the processor was deciding comes back after its
// ack wait). It returns the recovery time.
func (g *rig) recovered(f *fault) time.Duration {
	g.t.Helper()
	ctx := withDeadline(g.t, 60*time.Second)
	arrived, err := g.out.FirstStoredAfter(ctx, f.back)
	if err != nil {
		g.t.Fatalf("fault=%s: no command was answered within 60 s: %v", f.name, err)
	}
	last, err := g.out.AllAnswered(ctx, f.inFlight)
	if err != nil {
		g.t.Fatalf("fault=%s: the %d commands in flight at the kill were not all answered within 60 s: %v", f.name, len(f.inFlight), err)
	}
	rec := arrived.Sub(f.back)
	backlog := max(last.Sub(f.killed), 0) // 0: all answered before the kill took effect
	g.t.Logf("fault=%s %s outage=%.2fs recovery=%.2fs inflight=%d backlog=%.2fs",
		f.name, f.detail, f.back.Sub(f.killed).Seconds(), rec.Seconds(), len(f.inFlight), backlog.Seconds())
	return rec
}

// check requires the run to have ended as a run without faults does, and
// logs the run's line.
func (g *rig) check(fault string, runErr error, worst time.Duration) {
	g.t.Helper()
	if runErr != nil {
		g.t.Fatalf("fault=%s: the run failed: %v", fault, runErr)
	}
	s := g.r.Rec.Summary(fault, time.Now())
	dup := g.r.Ledger.Duplicates
	g.t.Logf("fault=%s recovery_max=%.2fs lost=%d dup=%d mismatches=%d commands=%d checked=%d",
		fault, worst.Seconds(), s.Lost, dup, s.Mismatches, s.Sent, g.r.Checked)
	if s.Lost != 0 || dup != 0 || s.Mismatches != 0 {
		g.t.Fatalf("fault=%s: %d lost, %d duplicate events, %d mismatches:\n%s", fault, s.Lost, dup, s.Mismatches, strings.Join(s.MismatchTexts, "\n"))
	}
	if s.Sent == 0 || s.Completed != s.Sent || g.r.Checked == 0 {
		g.t.Fatalf("fault=%s: %d commands sent, %d answered, %d billing events checked", fault, s.Sent, s.Completed, g.r.Checked)
	}
}
