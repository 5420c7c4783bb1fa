package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/cluster"
	"github.com/cspreseller/csp-processor/simulator/scratch"
	"github.com/cspreseller/csp-processor/simulator/stack"
)

// runCluster plays the load against the whole system on loopback: a
// 3-node JetStream cluster, a Redis Cluster of 3 masters with 2 replicas
// each, and -replicas processor replicas sharing the partitions (make
// cluster).
func runCluster(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	var of outputFlags
	of.register(fs, "sim-cluster")
	replicas := fs.Int("replicas", 3, "processor replicas")
	partitions := fs.Int("partitions", 8, "command stream partitions (a power of two)")
	rate := fs.Float64("rate", 300, "open-loop target, commands per second")
	duration := fs.Duration("duration", 60*time.Second, "wall-clock length of the run")
	customers := fs.Int("customers", 2000, "customers the load is spread over")
	stepReal := fs.Duration("step-real", 5*time.Second, "wall time of one step's commands")
	stepSim := fs.Duration("step-sim", 6*time.Hour, "simulated time between steps")
	seed := fs.Uint64("seed", 1, "random seed")
	bin := fs.String("processor-bin", "", "processor binary (empty: go build ./cmd/processor)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := scratch.Dir("csp-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(os.Stderr, "starting 3 NATS nodes, 9 Redis nodes and %d processor replicas in %s\n", *replicas, dir)
	c, err := cluster.Start(ctx, cluster.Options{Dir: dir, Replicas: *replicas, Partitions: *partitions, ProcessorBin: *bin, Log: os.Stderr})
	if err != nil {
		return err
	}
	defer c.Stop()
	// The load starts once every replica holds its share: partitions
	// handed over under load stall their commands (see make test-cluster).
	held, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if _, err := c.WaitPartitionsHeld(held, *replicas); err != nil {
		return err
	}
	st, err := stack.Start(ctx, stack.Options{NATS: c.SimulatorNATS(), Redis: c.RedisConfig(), Processor: stack.External, Partitions: *partitions})
	if err != nil {
		return err
	}
	defer st.Close()
	cfg := simulator.LoadConfig{Rate: *rate, Customers: *customers, StepReal: *stepReal, StepSim: *stepSim,
		Start: time.Date(2026, 1, 1, 0, 17, 0, 0, time.UTC), Duration: *duration,
		RunID: fmt.Sprintf("c%d", time.Now().Unix()), Seed: *seed, Progress: os.Stderr}
	label := fmt.Sprintf("cluster: %d processor replicas, 3 NATS nodes (R3), Redis 3 masters x 2 replicas (WAIT 1); %.0f commands/s for %s over %d customers",
		*replicas, cfg.Rate, cfg.Duration, cfg.Customers)
	s, err := playLoad(ctx, st, cfg, simulator.DefaultMix, "P-SIM", label)
	if err != nil {
		return err
	}
	s.Notes = append(s.Notes, "mix: "+describeMix(simulator.DefaultMix))
	return finish(s, of)
}
