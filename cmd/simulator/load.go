package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus/natsconn"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/stack"
	"github.com/cspreseller/csp-processor/state/redisconn"
)

// stackFlags are the flags that say what to run against.
type stackFlags struct {
	nats, redis, processor, processorBin, dir string
	partitions                                int
	cpuProfile                                string
}

func (f *stackFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.nats, "nats", "", "NATS URL (empty: an embedded server); NATS_CREDS, NATS_NKEY, NATS_TLS_* and NATS_INBOX_PREFIX apply as for the processor")
	fs.StringVar(&f.redis, "redis", "", "Redis URL, rediss:// for TLS, several nodes for a cluster (as REDIS_URL) (empty: a private redis-server); REDIS_TLS_* apply as for the processor")
	fs.StringVar(&f.processor, "processor", "spawn", "spawn (build and start ./cmd/processor), inprocess, or external (already running with SIMULATION=1)")
	fs.StringVar(&f.processorBin, "processor-bin", "", "processor binary to spawn (empty: go build ./cmd/processor)")
	fs.StringVar(&f.dir, "dir", "", "data directory of the started servers (empty: a temporary one, in memory under /dev/shm when the machine has it)")
	fs.IntVar(&f.partitions, "partitions", 0, "command stream partitions (0: the processor's default, 32)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the simulator's CPU profile (embedded NATS included) to this file; PPROF_ADDR profiles a spawned processor")
}

func (f *stackFlags) start(ctx context.Context) (*stack.Stack, error) {
	if f.cpuProfile != "" {
		if err := startCPUProfile(f.cpuProfile); err != nil {
			return nil, err
		}
	}
	// The URLs come from the flags; credentials, TLS files and the inbox
	// prefix from the processor's environment variables (NATS_CREDS,
	// REDIS_TLS_CA, ...), which a spawned processor is given too.
	natsCfg, redisCfg := natsconn.FromEnv(), redisconn.FromEnv()
	natsCfg.URL, redisCfg.URL = f.nats, f.redis
	return stack.Start(ctx, stack.Options{NATS: natsCfg, Redis: redisCfg, Processor: stack.Processor(f.processor),
		ProcessorBin: f.processorBin, Dir: f.dir, Partitions: f.partitions, Log: os.Stderr})
}

// outputFlags say where the report goes and what the run is compared with.
type outputFlags struct {
	html, json       string
	baseline         string
	failOnRegression float64
	// base is the baseline's summary, read by resolve.
	base *report.Summary
}

func (o *outputFlags) register(fs *flag.FlagSet, name string) {
	fs.StringVar(&o.html, "report", name+".html", "HTML report (plots of throughput, latency, CPU and memory; tables by command type, stage and simulated day); empty: none")
	fs.StringVar(&o.json, "json", name+".json", "the summary as JSON, for scripts and a later -baseline; unless given, the -report file's name with .json; empty: none")
	fs.StringVar(&o.baseline, "baseline", "", "an earlier run's -json file: print this run's throughput, p50/p99 (overall and per command type), mismatches and CPU against it; a report, not a gate")
	fs.Float64Var(&o.failOnRegression, "fail-on-regression", 0, "with -baseline: exit 3 when a compared metric is worse than the baseline's by more than this many percent (at least 1; 0: never)")
}

// resolve completes the flags once parsed: the JSON file is named after
// the HTML report unless -json was given, and the baseline is read now, so
// that a bad one stops the command before the run rather than after it.
func (o *outputFlags) resolve(fs *flag.FlagSet) error {
	jsonGiven := false
	fs.Visit(func(f *flag.Flag) { jsonGiven = jsonGiven || f.Name == "json" })
	if !jsonGiven && o.html != "" {
		o.json = strings.TrimSuffix(o.html, filepath.Ext(o.html)) + ".json"
		if o.json == o.html {
			o.json = o.html + ".json"
		}
	}
	switch {
	case o.failOnRegression < 0 || math.IsNaN(o.failOnRegression):
		return fmt.Errorf("-fail-on-regression %v: a percentage, at least %v", o.failOnRegression, report.SameBand)
	case o.failOnRegression > 0 && o.failOnRegression < report.SameBand:
		return fmt.Errorf("-fail-on-regression %v: at least %v (smaller changes are called the same: measurement noise)", o.failOnRegression, report.SameBand)
	case o.failOnRegression > 0 && o.baseline == "":
		return errors.New("-fail-on-regression needs -baseline")
	case o.baseline == "":
		return nil
	}
	f, err := os.Open(o.baseline)
	if err != nil {
		return fmt.Errorf("-baseline: %w", err)
	}
	defer f.Close()
	base, err := report.ReadJSON(f)
	if err != nil {
		return fmt.Errorf("-baseline %s: not a simulator report's JSON: %w", o.baseline, err)
	}
	if base.Start.IsZero() || !base.End.After(base.Start) {
		return fmt.Errorf("-baseline %s: not a simulator report's JSON (no start and end of a run)", o.baseline)
	}
	o.base = &base
	return nil
}

func runLoad(ctx context.Context, args []string, year bool) error {
	name := "load"
	if year {
		name = "year"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var sf stackFlags
	var of outputFlags
	sf.register(fs)
	of.register(fs, "sim-"+name)
	rate := fs.Float64("rate", 5000, "open-loop target, commands per second (0: as fast as the publisher goes)")
	duration := fs.Duration("duration", 10*time.Minute, "wall-clock length of the run (load)")
	customers := fs.Int("customers", 50000, "customers the load is spread over")
	stepReal := fs.Duration("step-real", 5*time.Second, "wall time of one step's commands (load)")
	stepSim := fs.Duration("step-sim", 6*time.Hour, "simulated time between steps")
	perStep := fs.Int("per-step", 0, "commands per step (default: rate × step-real for load, customers/8 for year)")
	days := fs.Int("days", 365, "simulated days (year)")
	start := fs.String("start", "2026-01-01T00:17:00Z", "simulated start (the 00:17 steps land inside the renewals' 00:00-00:30 processing, REN-4)")
	mixFlag := fs.String("mix", "", "command mix, e.g. buy=18,increase=25,... (empty: the default mix)")
	seed := fs.Uint64("seed", 1, "random seed")
	partner := fs.String("partner", "P-SIM", "the partner the simulated customers belong to")
	if year {
		fs.Lookup("customers").DefValue = "1000"
		_ = fs.Set("customers", "1000")
		_ = fs.Set("rate", "0")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := of.resolve(fs); err != nil {
		return err
	}
	mix, err := simulator.ParseMix(*mixFlag)
	if err != nil {
		return err
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	cfg := simulator.LoadConfig{Rate: *rate, Customers: *customers, CommandsPerStep: *perStep, StepReal: *stepReal,
		StepSim: *stepSim, Start: t0, RunID: fmt.Sprintf("r%d", time.Now().Unix()), Seed: *seed, Progress: os.Stderr}
	if year {
		cfg.End = t0.AddDate(0, 0, *days)
		if cfg.CommandsPerStep == 0 {
			cfg.CommandsPerStep = max(1, *customers/8)
		}
	} else {
		cfg.Duration = *duration
	}
	st, err := sf.start(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var label string
	if year {
		label = fmt.Sprintf("year: %d customers over %d simulated days, steps of %s", cfg.Customers, *days, cfg.StepSim)
	} else {
		label = fmt.Sprintf("load: %.0f commands/s for %s over %d customers, steps of %s (%s simulated)", cfg.Rate, cfg.Duration, cfg.Customers, cfg.StepReal, cfg.StepSim)
	}
	s, err := playLoad(ctx, st, cfg, mix, *partner, label)
	if err != nil {
		return err
	}
	s.Notes = append(s.Notes, "mix: "+describeMix(mix))
	return finish(os.Stdout, s, of)
}

// playLoad runs the load and fills the summary with what the broker,
// the processor and Redis say. Without cfg.Processes it samples the
// stack's.
func playLoad(ctx context.Context, st *stack.Stack, cfg simulator.LoadConfig, mix simulator.Mix, partner, label string) (report.Summary, error) {
	if cfg.Processes == nil {
		cfg.Processes = st.Processes
	}
	rec := report.NewRecorder(time.Now())
	r, err := simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, partner, mix, cfg.Seed, rec)
	if err != nil {
		return report.Summary{}, err
	}
	defer r.Ledger.Stop()
	cpuBefore, haveCPU := readCPUTimes()
	runErr := r.Run(ctx, cfg)
	s := rec.Summary(label, time.Now())
	if cpuAfter, ok := readCPUTimes(); ok && haveCPU {
		if note := machineNote(cpuBefore, cpuAfter); note != "" {
			s.Notes = append(s.Notes, note)
		}
	}
	fillSummary(ctx, &s, st, r)
	if runErr != nil {
		return s, runErr
	}
	return s, nil
}

func fillSummary(ctx context.Context, s *report.Summary, st *stack.Stack, r *simulator.Runner) {
	if n, err := simulator.Redeliveries(ctx, st.JS, st.Streams.CommandStream); err == nil {
		s.Redeliveries = n
	}
	if n, err := simulator.StreamMessages(ctx, st.JS, st.Streams.DeadLetterStream); err == nil {
		s.DeadLetters = n
	}
	if rss, peak, err := st.ProcessorRSS(); err == nil {
		s.ProcessorRSSBytes, s.ProcessorPeakRSSBytes = rss, peak
	}
	if m, err := st.RedisMemory(ctx); err == nil {
		s.RedisUsedMemoryBytes = m
	}
	s.Subscriptions = r.Subscriptions()
	if f, err := st.RedisFootprint(ctx, r.LiveSubscriptions()); err == nil {
		s.Redis = &f
	} else {
		s.Notes = append(s.Notes, "the processor's keys in Redis not measured: "+err.Error())
	}
	if n := r.NoticesChecked(); n.Checked+n.Missing > 0 {
		s.Notes = append(s.Notes, n.String())
	}
	s.CurrencyExponents = map[string]int{}
	for code, c := range st.Catalog.Currencies {
		s.CurrencyExponents[code] = c.Exponent
	}
	s.Notes = append(s.Notes,
		fmt.Sprintf("billing events checked against the model: %d; duplicate deliveries dropped by event ID: %d", r.Checked, r.Ledger.Duplicates),
		"commands by kind: "+describeCounts(r.Kinds),
		fmt.Sprintf("commands parked during a renewal (REN-4): %d deferred, %d settled and checked", r.Deferred, r.Settled),
		fmt.Sprintf("test clocks one step behind (TCK-1..TCK-4): %d advances fired %d timers", r.TestClockAdvances, r.TestClockFired))
	if t := r.Times.String(); t != "" {
		s.Notes = append(s.Notes, t)
	}
}

// finish compares the run with the baseline, if any, writes the reports
// (the text one to stdout), and fails a run with ledger mismatches (exit 1) or, with
// -fail-on-regression, one that regressed against the baseline (exit 3).
func finish(stdout io.Writer, s report.Summary, of outputFlags) error {
	if of.base != nil {
		s.Baseline = report.Compare(*of.base, s, of.baseline)
	}
	if err := s.WriteText(stdout); err != nil {
		return err
	}
	if of.html != "" {
		if err := writeFile(of.html, s.WriteHTML); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "report:", of.html)
	}
	if of.json != "" {
		if err := writeFile(of.json, s.WriteJSON); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "json:", of.json)
	}
	if s.Mismatches > 0 {
		return &failedRun{mismatches: s.Mismatches}
	}
	if of.failOnRegression > 0 && s.Baseline != nil {
		if regs := s.Baseline.Regressions(of.failOnRegression); len(regs) > 0 {
			return &regressed{pct: of.failOnRegression, deltas: regs}
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// describeMix lists the mix's kinds by weight, heaviest first, as
// "kind weight" pairs a reader can scan (not a Go map's print form).
func describeMix(m simulator.Mix) string { return describeCounts(m) }

// describeCounts lists counts by kind, largest first (ties by name):
// "order 412, quantity 230, ...".
func describeCounts[N int | int64](m map[string]N) string {
	kinds := slices.Collect(maps.Keys(m))
	slices.SortFunc(kinds, func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
