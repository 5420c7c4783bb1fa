// Command simulator plays the upstream order system and the billing
// system against a processor in simulation mode: open-loop load with a
// command mix, time travel, an independent check of every charge and
// credit, and a report. `simulator bench` measures the raw limit of NATS
// and Redis on this machine and the processor end to end, in one run.
//
//	simulator load  [-rate 5000] [-duration 10m] ...   load at a target rate (a soak)
//	simulator year  [-customers 1000] [-days 365] ...  a time-travelled year
//	simulator scenario FILE...                          scripted stories
//	simulator bench                                     make bench
//	simulator cluster [-replicas 3] [-rate 300] ...      the whole system on a local cluster (make cluster)
//	simulator demo [-data ./data]                        one customer's story against the processor (make demo)
//
// Without -nats/-redis, load, year, scenario and bench start an embedded
// NATS server and a private redis-server, and build and spawn the processor
// (SIMULATION=1) as its own process so that the processor's memory is
// measured alone. demo runs the processor as `make serve` does (its
// embedded NATS with the shipped users, its data in ./data) and plays as
// the simulator user.
//
// load, year, scenario and cluster print the report in the terminal and
// write it as HTML (-report, default sim-<command>.html) and JSON (-json,
// default the -report name with .json; -json "" writes none). -baseline
// FILE compares the run with an earlier run's JSON; -fail-on-regression
// PCT makes a metric worse than the baseline's by more than PCT percent
// fail the command.
//
// Exit status: 0 the run completed; 1 it found ledger mismatches; 2 it
// could not run (flags, servers); 3 it regressed against its baseline
// beyond -fail-on-regression.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"

	"github.com/cspreseller/csp-processor/simulator/report"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	if os.Getenv("GOGC") == "" {
		// The simulator keeps every command's expected outcome and every
		// event ID it saw, and hosts the embedded NATS server: a large heap
		// that is mostly live. Collecting it at every doubling took about a
		// tenth of the simulator's CPU, taken from the processor it shares
		// the machine with; its memory is not what a run measures.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "load":
		err = runLoad(ctx, os.Args[2:], false)
	case "year":
		err = runLoad(ctx, os.Args[2:], true)
	case "scenario":
		err = runScenarios(ctx, os.Args[2:])
	case "bench":
		err = runBench(ctx, os.Args[2:])
	case "cluster":
		err = runCluster(ctx, os.Args[2:])
	case "demo":
		err = runDemo(ctx, os.Args[2:], os.Stdout, os.Stderr)
	default:
		usage()
		os.Exit(2)
	}
	stopCPUProfile()
	var failed *failedRun
	var worse *regressed
	switch {
	case errors.As(err, &failed):
		fmt.Fprintln(os.Stderr, "FAILED:", err)
		os.Exit(1)
	case errors.As(err, &worse):
		fmt.Fprintln(os.Stderr, "REGRESSED:", err)
		os.Exit(3)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "simulator:", err)
		os.Exit(2)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage: simulator load|year|scenario|bench|cluster|demo [flags]   (simulator <cmd> -h lists the flags)
  load      open-loop load at a target rate for a wall-clock duration (a soak)
  year      a time-travelled year of customers, as fast as it goes
  scenario  scripted stories from JSON files (simulator/scenarios)
  bench     raw pipeline, drain, end to end and year-old customers, with the targets (make bench)
  cluster   load against 3 NATS nodes, a Redis Cluster and several processor replicas (make cluster)
  demo      the processor as make serve runs it and one customer's story, every event printed (make demo)
`)
}

// failedRun is a run that completed and found ledger mismatches.
type failedRun struct{ mismatches int64 }

func (f *failedRun) Error() string {
	return fmt.Sprintf("%d ledger mismatches (see the report)", f.mismatches)
}

// regressed is a run worse than its baseline beyond -fail-on-regression.
type regressed struct {
	pct    float64
	deltas []report.Delta
}

func (r *regressed) Error() string {
	parts := make([]string, len(r.deltas))
	for i, d := range r.deltas {
		parts[i] = d.Describe()
	}
	return fmt.Sprintf("%d metrics worse than the baseline by more than %v%%: %s", len(r.deltas), r.pct, strings.Join(parts, "; "))
}

// stopCPUProfile ends the profile -cpuprofile started, if any.
var stopCPUProfile = func() {}

func startCPUProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("-cpuprofile: %w", err)
	}
	stopCPUProfile = func() { pprof.StopCPUProfile(); _ = f.Close() }
	return nil
}
