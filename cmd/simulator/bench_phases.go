package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/procstat"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// drainTimeout bounds the wait for the processor to work through (b)'s
// backlog.
const drainTimeout = 10 * time.Minute

// drain is (b): the mix's customers get a few steps of commands with the
// processor running (so the backlog acts on subscriptions that exist),
// the processor is stopped, the backlog stored, and the processor started
// alone: the time until it acked every command, and its CPU per command
// from /proc less what a start with nothing to do costs it.
func (b *benchRun) drain(ctx context.Context) (drainPhase, error) {
	st, err := b.sf.start(ctx)
	if err != nil {
		return drainPhase{}, err
	}
	defer st.Close()
	if st.ProcessorPID == 0 {
		return drainPhase{}, errors.New("the drain run needs a spawned processor (-processor spawn) to stop, start and measure")
	}
	// What starting costs: the processor has come up and answered, with
	// nothing to work on yet.
	startup, err := procstat.CPU(st.ProcessorPID)
	if err != nil {
		return drainPhase{}, err
	}
	rec := report.NewRecorder(time.Now())
	r, err := simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, "P-BENCH", simulator.DefaultMix, 5, rec)
	if err != nil {
		return drainPhase{}, err
	}
	cfg := b.loadConfig(0, 0, b.bc.drainCustomers, 5)
	cfg.CommandsPerStep = b.bc.drainCustomers
	cfg.StepSim = 24 * time.Hour
	cfg.End = benchStart.Add(time.Duration(b.bc.drainPrepSteps) * cfg.StepSim)
	cfg.TestClockEvery = -1
	runErr := r.Run(ctx, cfg)
	r.Ledger.Stop()
	if runErr != nil {
		return drainPhase{}, runErr
	}
	if err := st.StopProcessor(); err != nil {
		return drainPhase{}, fmt.Errorf("stopping the processor: %w", err)
	}
	events, err := st.JS.Stream(ctx, st.Streams.EventStream)
	if err != nil {
		return drainPhase{}, err
	}
	info, err := events.Info(ctx)
	if err != nil {
		return drainPhase{}, err
	}
	before := maps.Clone(r.Kinds)
	ids, err := r.Queue(ctx, b.bc.drainCommands)
	if err != nil {
		return drainPhase{}, err
	}

	start := time.Now()
	if err := st.StartProcessor(); err != nil {
		return drainPhase{}, err
	}
	wctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	if err := r.WaitCommandsAcked(wctx); err != nil {
		return drainPhase{}, err
	}
	elapsed := time.Since(start)
	cpu, err := procstat.CPU(st.ProcessorPID)
	if err != nil {
		return drainPhase{}, err
	}
	answered, err := simulator.CountAnswered(ctx, st.JS, st.Streams.EventStream, info.State.LastSeq+1, ids)
	if err != nil {
		return drainPhase{}, err
	}
	d := drainPhase{Customers: b.bc.drainCustomers, Stored: len(ids), Answered: answered, Elapsed: elapsed,
		ProcessorCPU: max(cpu-startup, 0), StartupCPU: startup, Kinds: map[string]int64{}}
	for k, n := range r.Kinds {
		if n > before[k] {
			d.Kinds[k] = n - before[k]
		}
	}
	if answered > 0 {
		d.CPUPerCommand = d.ProcessorCPU / time.Duration(answered)
		d.Throughput = float64(answered) / elapsed.Seconds()
	}
	fmt.Printf("drained %d of %d commands in %s, processor CPU %s (%s at its start)\n",
		answered, len(ids), elapsed.Round(time.Millisecond), d.ProcessorCPU, startup)
	return d, nil
}

// yearOld is (d)'s second half: customers given a year of history by
// time travel (every customer one command a step), then the load of (d)'s
// first half on them, recorded on its own; the processor's keys in Redis
// over the live subscriptions after it.
func (b *benchRun) yearOld(ctx context.Context) (yearPhase, error) {
	st, err := b.sf.start(ctx)
	if err != nil {
		return yearPhase{}, err
	}
	defer st.Close()
	yearRec := report.NewRecorder(time.Now())
	r, err := simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, "P-BENCH", simulator.DefaultMix, 6, yearRec)
	if err != nil {
		return yearPhase{}, err
	}
	defer r.Ledger.Stop()
	cfg := b.loadConfig(0, 0, b.bc.yearCustomers, 6)
	cfg.CommandsPerStep = b.bc.yearCustomers
	cfg.StepSim = b.bc.yearStep
	cfg.End = benchStart.AddDate(0, 0, b.bc.yearDays)
	cfg.TestClockEvery = -1 // see yearLoadConfig
	cfg.Processes = st.Processes
	yearStart := time.Now()
	if err := r.Run(ctx, cfg); err != nil {
		return yearPhase{}, err
	}
	year := yearRec.Summary("year", time.Now())
	y := yearPhase{Days: b.bc.yearDays, Step: b.bc.yearStep, YearCommands: year.Sent, YearElapsed: time.Since(yearStart),
		YearMismatches: year.Mismatches}
	for _, m := range firstOf(year.MismatchTexts) {
		fmt.Println("MISMATCH in the year:", m)
	}

	// The same load as on new customers, from where the year ended.
	rec := report.NewRecorder(time.Now())
	r.Record(rec)
	load := b.yearLoadConfig()
	load.Start = r.Clock.Now
	load.Processes = st.Processes
	cpuBefore, haveCPU := readCPUTimes()
	if err := r.Continue(ctx, load); err != nil {
		return yearPhase{}, err
	}
	s := rec.Summary("year-old customers", time.Now())
	y.loadPhase = loadPhase{Customers: b.bc.yearCustomers, OfferedRate: b.bc.maxRate, Duration: b.bc.yearLoadDur, Completed: s.Completed,
		Throughput: s.Throughput, P50: s.LatencyP50, P99: s.LatencyP99, Max: s.LatencyMax, Mismatches: s.Mismatches, MismatchTexts: firstOf(s.MismatchTexts)}
	if cpuAfter, ok := readCPUTimes(); ok && haveCPU {
		y.Machine = machineNote(cpuBefore, cpuAfter)
	}
	// The processor's keys over the live subscriptions, as make year
	// measures them (footprint: why MEMORY USAGE and not used_memory).
	if y.Redis, err = st.RedisFootprint(ctx, r.LiveSubscriptions()); err != nil {
		return yearPhase{}, err
	}
	y.LiveSubs, y.RedisBytes, y.RedisPerSub = y.Redis.LiveSubscriptions, y.Redis.UsedMemory, y.Redis.BytesPerLiveSubscription()
	return y, nil
}
