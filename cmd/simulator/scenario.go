package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/report"
)

func runScenarios(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	var sf stackFlags
	var of outputFlags
	sf.register(fs)
	of.register(fs, "sim-scenario")
	partner := fs.String("partner", "P-SCENARIO", "the partner the scenario's customers belong to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := of.resolve(fs); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		files, _ = filepath.Glob("simulator/scenarios/*.json")
	}
	if len(files) == 0 {
		return errors.New("scenario: name one or more scenario files (simulator/scenarios/*.json)")
	}
	var scs []*simulator.Scenario
	for _, f := range files {
		sc, err := simulator.LoadScenario(f)
		if err != nil {
			return err
		}
		scs = append(scs, sc)
	}
	// The simulated clock never goes back, so each story gets a processor
	// (and NATS and Redis) of its own.
	rec := report.NewRecorder(time.Now())
	var subs, checked int64
	var kinds []string
	for i, sc := range scs {
		fmt.Printf("scenario %s (%s)\n", sc.Name, files[i])
		st, err := sf.start(ctx)
		if err != nil {
			return err
		}
		r, err := simulator.NewRunner(ctx, st.NC, st.JS, st.Streams, st.Catalog, *partner, simulator.DefaultMix, 1, rec)
		if err != nil {
			st.Close()
			return err
		}
		err = r.RunScenario(ctx, sc, fmt.Sprintf("s%d", i), os.Stderr)
		r.Ledger.Stop()
		subs += r.Subscriptions()
		checked += r.Checked
		kinds = append(kinds, fmt.Sprint(r.Kinds))
		st.Close()
		if err != nil {
			return fmt.Errorf("scenario %s: %w", files[i], err)
		}
	}
	s := rec.Summary(fmt.Sprintf("%d scenarios", len(scs)), time.Now())
	s.Subscriptions = subs
	s.Notes = append(s.Notes, fmt.Sprintf("billing events checked against the model: %d", checked))
	return finish(os.Stdout, s, of)
}
