package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/rawlimit"
	"github.com/cspreseller/csp-processor/simulator/scratch"
	"github.com/cspreseller/csp-processor/simulator/stack"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// benchConfig sizes make bench's phases (flags).
type benchConfig struct {
	customers       int
	maxRate         float64
	maxDur, halfDur time.Duration
	drainCustomers  int
	drainCommands   int
	drainPrepSteps  int
	yearCustomers   int
	yearDays        int
	yearStep        time.Duration
	yearLoadDur     time.Duration
	rawCommands     int
	rawStateBytes   int
	json            string
	progress        io.Writer
}

func (c *benchConfig) register(fs *flag.FlagSet) {
	fs.IntVar(&c.customers, "customers", 10000, "customers of (c), the end-to-end run (the generator plans a step for every customer at once: at 50,000 a step of buys took over a minute to plan)")
	fs.Float64Var(&c.maxRate, "max-rate", 20000, "offered rate of (c) and of (d), above what the processor takes")
	fs.DurationVar(&c.maxDur, "max-duration", 30*time.Second, "length of (c)")
	fs.DurationVar(&c.halfDur, "half-duration", 20*time.Second, "length of the run offered half of (c)'s throughput, for the p99")
	fs.IntVar(&c.drainCustomers, "drain-customers", 2000, "customers of (b), given a few steps of the mix before the backlog")
	fs.IntVar(&c.drainCommands, "drain-commands", 20000, "commands of (b)'s backlog")
	fs.IntVar(&c.drainPrepSteps, "drain-prep-steps", 3, "steps of the mix (one command per customer each) before (b)'s backlog, so it acts on existing subscriptions")
	fs.IntVar(&c.yearCustomers, "year-customers", 400, "customers of (d)")
	fs.IntVar(&c.yearDays, "year-days", 365, "simulated days of history of (d)'s year-old customers")
	fs.DurationVar(&c.yearStep, "year-step", 72*time.Hour, "simulated step of (d)'s year (every customer gets one command a step)")
	fs.DurationVar(&c.yearLoadDur, "year-load-duration", 20*time.Second, "length of each of (d)'s two runs, on new and on year-old customers")
	fs.IntVar(&c.rawCommands, "raw-commands", 30000, "commands of (a), the raw pipeline")
	fs.IntVar(&c.rawStateBytes, "raw-state-bytes", rawlimit.DefaultStateBytes, "state blob each of (a)'s commit scripts writes")
	fs.StringVar(&c.json, "json", "bench.json", "the results as JSON, to compare runs; empty: none")
}

// benchStart is the simulated start of every phase (the 00:17 steps land
// inside the renewals' processing window, as in load runs).
var benchStart = time.Date(2026, 1, 1, 0, 17, 0, 0, time.UTC)

// runBench is `make bench`: (c) the processor end to end under open-loop
// load, then offered half of what it achieved, for the latency; (b) a
// backlog drained by the processor alone; (d) the same load on new
// customers and on customers with a year of history; (a) the raw
// pipeline with the traffic shape (c) produced. (a) runs last so that it
// copies (c)'s measured shape. Targets are reported, not enforced: the
// run fails only when a phase cannot run or the ledger finds a mismatch.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var sf stackFlags
	var bc benchConfig
	sf.register(fs)
	bc.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	bc.progress = os.Stderr
	res, err := bench(ctx, &sf, bc)
	if err != nil {
		return err
	}
	res.writeText(os.Stdout)
	if bc.json != "" {
		if err := writeFile(bc.json, res.writeJSON); err != nil {
			return err
		}
		fmt.Println("json:", bc.json)
	}
	if res.Mismatches > 0 {
		return &failedRun{mismatches: res.Mismatches}
	}
	return nil
}

// bench runs every phase and evaluates the targets.
func bench(ctx context.Context, sf *stackFlags, bc benchConfig) (*benchResults, error) {
	fmt.Println("make bench: NATS, Redis, the processor and the simulator on this machine")
	res := &benchResults{Start: time.Now()}
	if (sf.processor == "" || sf.processor == string(stack.Spawn)) && sf.processorBin == "" {
		// One build for the phases' processors.
		dir, err := scratch.Dir("csp-bench-bin-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "processor")
		if err := stack.BuildProcessor(ctx, bin); err != nil {
			return nil, err
		}
		local := *sf
		local.processorBin = bin
		sf = &local
	}
	b := &benchRun{sf: sf, bc: bc}

	var shape simulator.Shape
	var partitions int
	var err error
	fmt.Printf("\n(c) end to end: offered %.0f commands/s for %s over %d customers\n", bc.maxRate, bc.maxDur, bc.customers)
	if res.EndToEnd, err = b.load(ctx, b.loadConfig(bc.maxRate, bc.maxDur, bc.customers, 2), func(st *stack.Stack) error {
		partitions = st.Streams.Partitions
		shape, err = simulator.MeasureShape(ctx, st.JS, st.Streams)
		return err
	}); err != nil {
		return nil, fmt.Errorf("(c) end to end: %w", err)
	}
	half := res.EndToEnd.Throughput / 2
	fmt.Printf("\n(c) at half of its throughput: %.0f commands/s for %s\n", half, bc.halfDur)
	if res.HalfLoad, err = b.load(ctx, b.loadConfig(half, bc.halfDur, bc.customers, 3), nil); err != nil {
		return nil, fmt.Errorf("(c) at half: %w", err)
	}
	fmt.Printf("\n(b) drain: %d commands stored, then the processor alone\n", bc.drainCommands)
	if res.Drain, err = b.drain(ctx); err != nil {
		return nil, fmt.Errorf("(b) drain: %w", err)
	}
	fmt.Printf("\n(d) new customers: offered %.0f commands/s for %s over %d customers\n", bc.maxRate, bc.yearLoadDur, bc.yearCustomers)
	if res.YearNew, err = b.load(ctx, b.yearLoadConfig(), nil); err != nil {
		return nil, fmt.Errorf("(d) new customers: %w", err)
	}
	fmt.Printf("\n(d) year-old customers: %d customers through %d days, then the same load\n", bc.yearCustomers, bc.yearDays)
	if res.YearOld, err = b.yearOld(ctx); err != nil {
		return nil, fmt.Errorf("(d) year-old customers: %w", err)
	}
	fmt.Printf("\n(a) raw pipeline: %d commands, %.2f events of %d bytes per command, commands of %d bytes (the shape (c) produced)\n",
		bc.rawCommands, shape.EventsPerCommand, shape.EventBytes, shape.CommandBytes)
	if res.Raw, err = rawPipeline(ctx, rawlimit.Params{Commands: bc.rawCommands, EventsPerCommand: shape.EventsPerCommand,
		CommandBytes: shape.CommandBytes, EventBytes: shape.EventBytes, StateBytes: bc.rawStateBytes,
		Partitions: partitions, Customers: min(bc.customers, 999_999)}); err != nil {
		return nil, fmt.Errorf("(a) raw pipeline: %w", err)
	}
	res.Duration = time.Since(res.Start)
	res.evaluate()
	return res, nil
}

// benchRun is what the phases share.
type benchRun struct {
	sf *stackFlags
	bc benchConfig
}

// loadConfig is an open-loop run of the phases.
func (b *benchRun) loadConfig(rate float64, d time.Duration, customers int, seed uint64) simulator.LoadConfig {
	return simulator.LoadConfig{Rate: rate, Customers: customers, StepReal: 5 * time.Second, StepSim: 6 * time.Hour,
		Start: benchStart, Duration: d, RunID: fmt.Sprintf("b%d-%d", time.Now().Unix(), seed), Seed: seed, Progress: b.bc.progress}
}

// yearLoadConfig is (d)'s load, on new and on year-old customers alike.
// Its customers are on the global clock only: a customer on a test clock
// runs one step behind, and the year's step is not the load's.
func (b *benchRun) yearLoadConfig() simulator.LoadConfig {
	cfg := b.loadConfig(b.bc.maxRate, b.bc.yearLoadDur, b.bc.yearCustomers, 4)
	cfg.TestClockEvery = -1
	return cfg
}

// load is an open-loop run on a fresh stack; after, when set, reads the
// stack before it closes.
func (b *benchRun) load(ctx context.Context, cfg simulator.LoadConfig, after func(*stack.Stack) error) (loadPhase, error) {
	st, err := b.sf.start(ctx)
	if err != nil {
		return loadPhase{}, err
	}
	defer st.Close()
	rate, d, customers := cfg.Rate, cfg.Duration, cfg.Customers
	s, err := playLoad(ctx, st, cfg, simulator.DefaultMix, "P-BENCH", fmt.Sprintf("%.0f commands/s for %s", rate, d))
	if err != nil {
		return loadPhase{}, err
	}
	if after != nil {
		if err := after(st); err != nil {
			return loadPhase{}, err
		}
	}
	return loadPhase{Customers: customers, OfferedRate: rate, Duration: d, Completed: s.Completed, Throughput: s.Throughput,
		P50: s.LatencyP50, P99: s.LatencyP99, Max: s.LatencyMax, Mismatches: s.Mismatches, MismatchTexts: firstOf(s.MismatchTexts), Machine: machineOf(s.Notes)}, nil
}

// firstOf keeps the first mismatch texts for the results.
func firstOf(texts []string) []string { return texts[:min(len(texts), 10)] }

// machineOf is the summary's note on how busy the machine was.
func machineOf(notes []string) string {
	for _, n := range notes {
		if strings.HasPrefix(n, "machine during") {
			return n
		}
	}
	return ""
}

// rawPipeline measures (a) on a NATS server and a redis-server of its own.
func rawPipeline(ctx context.Context, p rawlimit.Params) (rawPhase, error) {
	srv, stop, err := rawlimit.StartServer()
	if err != nil {
		return rawPhase{}, err
	}
	defer stop()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return rawPhase{}, err
	}
	defer nc.Close()
	rdb, stopRedis, err := startRedis(ctx)
	if err != nil {
		return rawPhase{}, err
	}
	defer stopRedis()
	r, err := rawlimit.MeasurePipeline(ctx, nc, rdb, p)
	if err != nil {
		return rawPhase{}, err
	}
	p = p.WithDefaults()
	return rawPhase{Commands: r.Commands, EventsPerCommand: p.EventsPerCommand, CommandBytes: p.CommandBytes, EventBytes: p.EventBytes,
		StateBytes: p.StateBytes, Partitions: p.Partitions, Elapsed: r.Elapsed, Throughput: r.CommandsPerSec}, nil
}

// startRedis starts a private redis-server for the raw pipeline, with a
// client pool the size of the processor's.
func startRedis(ctx context.Context) (*redis.Client, func(), error) {
	dir, err := scratch.Dir("csp-bench-redis-")
	if err != nil {
		return nil, nil, err
	}
	srv, err := redisserver.Start(ctx, redisserver.Options{Dir: dir, Appendonly: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	opt, _ := redis.ParseURL(srv.URL())
	opt.PoolSize = 64
	rdb := redis.NewClient(opt)
	return rdb, func() { rdb.Close(); srv.Close(); os.RemoveAll(dir) }, nil
}
