package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/cluster"
	"github.com/cspreseller/csp-processor/simulator/procstat"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/scratch"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

// runCluster plays the load against the whole system on loopback: a
// 3-node JetStream cluster, a Redis Cluster of 3 masters with 2 replicas
// each, and -replicas processor replicas sharing the partitions (make
// cluster). -sizing measures several replica counts at several rates
// instead (make cluster-sizing).
func runCluster(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	var of outputFlags
	of.register(fs, "sim-cluster")
	replicas := fs.Int("replicas", 3, "processor replicas")
	partitions := fs.Int("partitions", 8, "command stream partitions (a power of two)")
	rate := fs.Float64("rate", 300, "open-loop target, commands per second")
	duration := fs.Duration("duration", 60*time.Second, "wall-clock length of the run (of each run with -sizing)")
	customers := fs.Int("customers", 2000, "customers the load is spread over")
	stepReal := fs.Duration("step-real", 5*time.Second, "wall time of one step's commands")
	stepSim := fs.Duration("step-sim", 6*time.Hour, "simulated time between steps")
	seed := fs.Uint64("seed", 1, "random seed")
	bin := fs.String("processor-bin", "", "processor binary (empty: go build ./cmd/processor)")
	sizing := fs.String("sizing", "", "replica counts to measure, e.g. 1,2,3, each at every -sizing-rates (a fresh cluster each run); prints a table")
	sizingRates := fs.String("sizing-rates", "150,400", "offered rates of -sizing, commands per second")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := of.resolve(fs); err != nil {
		return err
	}
	if *sizing != "" && of.baseline != "" {
		return errors.New("-baseline compares one run; -sizing makes several")
	}
	dir, err := scratch.Dir("csp-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if *bin == "" {
		// Built once: -sizing starts several clusters.
		*bin = filepath.Join(dir, "processor")
		build := exec.CommandContext(ctx, "go", "build", "-o", *bin, "./cmd/processor")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build the processor (run from the repository's root, or pass -processor-bin): %w", err)
		}
	}
	cfg := func(rate float64, runID string) simulator.LoadConfig {
		return simulator.LoadConfig{Rate: rate, Customers: *customers, StepReal: *stepReal, StepSim: *stepSim,
			Start: time.Date(2026, 1, 1, 0, 17, 0, 0, time.UTC), Duration: *duration, RunID: runID, Seed: *seed, Progress: os.Stderr}
	}
	up := func(n, run int) (*cluster.Cluster, *stack.Stack, error) {
		return startCluster(ctx, filepath.Join(dir, fmt.Sprintf("r%d-%d", n, run)), n, *partitions, *bin)
	}
	// The report samples the simulator and every server of the cluster.
	sampled := func(c *cluster.Cluster, st *stack.Stack, load simulator.LoadConfig) simulator.LoadConfig {
		load.Processes = func() []procstat.Group { return append(st.Processes(), c.Processes()...) }
		return load
	}
	if *sizing != "" {
		return runSizing(ctx, *sizing, *sizingRates, up, func(c *cluster.Cluster, st *stack.Stack, rate float64, runID string) simulator.LoadConfig {
			return sampled(c, st, cfg(rate, runID))
		})
	}
	c, st, err := up(*replicas, 0)
	if err != nil {
		return err
	}
	defer c.Stop()
	defer st.Close()
	load := sampled(c, st, cfg(*rate, fmt.Sprintf("c%d", time.Now().Unix())))
	label := fmt.Sprintf("cluster: %d processor replicas, 3 NATS nodes (R3), Redis 3 masters x 2 replicas (WAIT 1); %.0f commands/s for %s over %d customers",
		*replicas, load.Rate, load.Duration, load.Customers)
	s, err := playLoad(ctx, st, load, simulator.DefaultMix, "P-SIM", label)
	if err != nil {
		return err
	}
	s.Notes = append(s.Notes, "mix: "+describeMix(simulator.DefaultMix))
	return finish(os.Stdout, s, of)
}

// startCluster starts the cluster with n replicas and the simulator's
// stack against it. cluster.Start returns once every replica holds its
// share of the partitions: partitions handed over under load stall their
// commands, which a measurement should not count.
func startCluster(ctx context.Context, dir string, n, partitions int, bin string) (*cluster.Cluster, *stack.Stack, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(os.Stderr, "starting 3 NATS nodes, 9 Redis nodes and %d processor replicas in %s\n", n, dir)
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Replicas: n, Partitions: partitions, ProcessorBin: bin, Log: os.Stderr})
	if err != nil {
		return nil, nil, err
	}
	st, err := stack.Start(ctx, stack.Options{NATS: c.SimulatorNATS(), Redis: c.RedisConfig(), Processor: stack.External, Partitions: partitions})
	if err != nil {
		c.Stop()
		return nil, nil, err
	}
	return c, st, nil
}

// runSizing measures every replica count of counts at every rate of
// rates, each run on a fresh cluster, and prints one table.
func runSizing(ctx context.Context, counts, rates string, up func(n, run int) (*cluster.Cluster, *stack.Stack, error),
	cfg func(*cluster.Cluster, *stack.Stack, float64, string) simulator.LoadConfig) error {
	ns, err := parseList(counts, strconv.Atoi)
	if err != nil {
		return fmt.Errorf("-sizing: %w", err)
	}
	rs, err := parseList(rates, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	if err != nil {
		return fmt.Errorf("-sizing-rates: %w", err)
	}
	var rows []report.Summary
	var labels []string
	var counters []cluster.Counters
	var cores []coresUsed
	for _, n := range ns {
		for k, rate := range rs {
			// A fresh cluster for every run: a second run on the same
			// processors met the first run's customers' timers (528
			// mismatches at the second rate, whatever the replicas).
			c, st, err := up(n, k)
			if err != nil {
				printSizing(rows, labels, counters, cores)
				return err
			}
			load := cfg(c, st, rate, fmt.Sprintf("s%d-%d-%.0f", time.Now().Unix(), n, rate))
			before := readCores(c)
			s, err := playLoad(ctx, st, load, simulator.DefaultMix, "P-SIM", fmt.Sprintf("%d replicas at %.0f/s", n, rate))
			used := readCores(c).since(before)
			var cs cluster.Counters
			if err == nil {
				// Before the stop: a stopped replica's counters are gone.
				cs, err = c.Counters(ctx)
			}
			_ = st.Close()
			c.Stop()
			if err != nil {
				printSizing(rows, labels, counters, cores)
				return err
			}
			rows = append(rows, s)
			labels = append(labels, fmt.Sprintf("%d\t%.0f", n, rate))
			counters = append(counters, cs)
			cores = append(cores, used)
		}
	}
	return printSizing(rows, labels, counters, cores)
}

// printSizing prints the table of the runs measured, with the replicas'
// counters summed over each run; a lost command or a mismatch fails it.
func printSizing(rows []report.Summary, labels []string, counters []cluster.Counters, cores []coresUsed) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "replicas\toffered/s\tsent\tcompleted\tachieved/s\tp50\tp99\tlost\tmismatches\tloads/cmd\tconflicts/cmd\tfired/timer\tcores nats\tredis\tprocessors\tsimulator\t")
	var failed int64
	for i, s := range rows {
		c := counters[i]
		fmt.Fprintf(w, "%s\t%d\t%d\t%.0f\t%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t\n", labels[i], s.Sent, s.Completed, s.Throughput,
			s.LatencyP50.Round(100*time.Microsecond), s.LatencyP99.Round(100*time.Microsecond), s.Lost, s.Mismatches,
			twoDecimals(c.LoadsPerCommand()), twoDecimals(c.ConflictsPerCommand()), twoDecimals(c.FiredPerTimer()), cores[i])
		failed += s.Mismatches + s.Lost
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return &failedRun{mismatches: failed}
	}
	return nil
}

// coresUsed is how many cores each kind of process used during a run:
// their CPU time over the run's wall time.
type coresUsed struct {
	cpu       cluster.CPU
	simulator time.Duration
	at        time.Time     // of a reading
	wall      time.Duration // of a difference
	err       error
}

// readCores reads the cluster's and this process's CPU time so far.
func readCores(c *cluster.Cluster) coresUsed {
	cpu, err := c.CPU()
	sim, serr := procstat.CPU(os.Getpid())
	return coresUsed{cpu: cpu, simulator: sim, at: time.Now(), err: errors.Join(err, serr)}
}

// since is the use between an earlier reading and this one.
func (u coresUsed) since(earlier coresUsed) coresUsed {
	return coresUsed{cpu: u.cpu.Sub(earlier.cpu), simulator: u.simulator - earlier.simulator, wall: u.at.Sub(earlier.at),
		err: errors.Join(earlier.err, u.err)}
}

// String is the four columns of the table, "-" where /proc could not be
// read (not Linux).
func (u coresUsed) String() string {
	if u.err != nil || u.wall <= 0 {
		return "-\t-\t-\t-"
	}
	c := func(d time.Duration) string { return strconv.FormatFloat(d.Seconds()/u.wall.Seconds(), 'f', 2, 64) }
	return c(u.cpu.NATS) + "\t" + c(u.cpu.Redis) + "\t" + c(u.cpu.Processors) + "\t" + c(u.simulator)
}

// twoDecimals formats a ratio, "-" when it had nothing to divide by (no
// timer applied in the run).
func twoDecimals(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func parseList[T any](list string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range strings.Split(list, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
