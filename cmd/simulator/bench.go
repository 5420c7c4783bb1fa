package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/rawlimit"
	"github.com/cspreseller/csp-processor/simulator/report"
	"github.com/cspreseller/csp-processor/simulator/scratch"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// Throughput and latency targets (benchmarks, not timed tests).
const (
	targetThroughput  = 10000.0
	targetP99At5k     = 25 * time.Millisecond
	targetRSSBytes    = 150 << 20
	targetRatioOfRaw  = 0.40
	latencyTargetRate = 5000.0
)

// runBench is `make bench`: (b) the processor end to end under the
// simulator — at 5,000 commands/s for the latencies, then offered more than
// it can take for the throughput — and (a) the raw limit with the same
// number and size of JetStream publishes and consume-acks per command as
// (b) performed, with no logic, and the Redis commit script's rate. (b)
// runs first so that (a) copies its measured shape.
func runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var sf stackFlags
	sf.register(fs)
	latDur := fs.Duration("latency-duration", 30*time.Second, "length of the run at 5,000 commands/s")
	maxDur := fs.Duration("max-duration", 30*time.Second, "length of the run offered -max-rate")
	maxRate := fs.Float64("max-rate", 20000, "offered rate of the throughput run")
	customers := fs.Int("customers", 50000, "customers")
	rawN := fs.Int("raw-commands", 100000, "commands of the raw JetStream measurement")
	lightRate := fs.Float64("light-rate", 1000, "rate of a run well below saturation, for the latency the processor itself adds (0: none)")
	lightDur := fs.Duration("light-duration", 20*time.Second, "length of the -light-rate run")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fmt.Println("make bench: NATS, Redis, the processor and the simulator on this machine")

	// Each run gets a fresh processor, NATS and Redis: a second run on the
	// first one's processor would also carry the first run's renewals and
	// billing periods.
	t0, _ := time.Parse(time.RFC3339, "2026-01-01T00:17:00Z")
	type result struct {
		s          report.Summary
		rss, peak  int64
		rssErr     error
		redisBytes int64
		shape      simulator.Shape
		partitions int
	}
	load := func(rate float64, d time.Duration, seed uint64, label string) (result, error) {
		st, err := sf.start(ctx)
		if err != nil {
			return result{}, err
		}
		defer st.Close()
		cfg := simulator.LoadConfig{Rate: rate, Customers: *customers, StepReal: 5 * time.Second, StepSim: 6 * time.Hour,
			Start: t0, Duration: d, RunID: fmt.Sprintf("b%d-%d", time.Now().Unix(), seed), Seed: seed, Progress: os.Stderr}
		fmt.Printf("\n(b) %s\n", label)
		s, err := playLoad(ctx, st, cfg, simulator.DefaultMix, "P-BENCH", label)
		if err != nil {
			return result{}, err
		}
		res := result{s: s, partitions: st.Streams.Partitions}
		res.rss, res.peak, res.rssErr = st.ProcessorRSS()
		res.redisBytes, _ = st.RedisMemory(ctx)
		res.shape, err = simulator.MeasureShape(ctx, st.JS, st.Streams)
		return res, err
	}
	latR, err := load(latencyTargetRate, *latDur, 1, fmt.Sprintf("processor end to end at %.0f commands/s for %s", latencyTargetRate, *latDur))
	if err != nil {
		return err
	}
	thrR, err := load(*maxRate, *maxDur, 2, fmt.Sprintf("processor end to end offered %.0f commands/s for %s", *maxRate, *maxDur))
	if err != nil {
		return err
	}
	var light *report.Summary
	var lightPeak int64
	if *lightRate > 0 {
		r, err := load(*lightRate, *lightDur, 3, fmt.Sprintf("processor end to end at %.0f commands/s for %s", *lightRate, *lightDur))
		if err != nil {
			return err
		}
		light, lightPeak = &r.s, r.peak
	}
	lat, thr := latR.s, thrR.s
	for _, s := range []struct {
		s    report.Summary
		file string
	}{{lat, "bench-5k.html"}, {thr, "bench-max.html"}} {
		if err := writeFile(s.file, s.s.WriteHTML); err != nil {
			return err
		}
	}
	shape := thrR.shape
	redisMem := thrR.redisBytes
	rss, peak, rssErr := thrR.rss, max(latR.peak, thrR.peak, lightPeak), thrR.rssErr
	rdb, stopRedis, err := startRedis(ctx)
	if err != nil {
		return err
	}
	defer stopRedis()

	fmt.Printf("\n(a) raw limit: %d commands, %.2f events of %d bytes per command, commands of %d bytes (the shape (b) produced)\n",
		*rawN, shape.EventsPerCommand, shape.EventBytes, shape.CommandBytes)
	srv, stop, err := rawlimit.StartServer()
	if err != nil {
		return err
	}
	defer stop()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	p := rawlimit.Params{Commands: *rawN, EventsPerCommand: shape.EventsPerCommand, CommandBytes: shape.CommandBytes,
		EventBytes: shape.EventBytes, StateBytes: 2000, Partitions: thrR.partitions, Customers: *customers}
	raw, err := rawlimit.MeasureJetStream(ctx, nc, p)
	if err != nil {
		return err
	}
	p.RedisOps = 100000
	rr, err := rawlimit.MeasureRedis(ctx, rdb, p)
	if err != nil {
		return err
	}
	raw = raw.Merge(rr)

	ratio := thr.Throughput / raw.CommandsPerSec
	fmt.Printf("\n================ make bench ================\n")
	fmt.Printf("(a) raw limit, JetStream:      %8.0f commands/s  (publish, consume, %.2f event publishes with PubAcks, ack; no logic)\n", raw.CommandsPerSec, shape.EventsPerCommand)
	fmt.Printf("    raw limit, Redis:          %8.0f commit scripts/s from %d lanes (%.0f plain round trips/s)\n", raw.RedisScriptsPerSec, p.Partitions, raw.RedisRoundTripsPerSec)
	fmt.Printf("(b) processor end to end:      %8.0f commands/s  (offered %.0f/s; %d commands, %d ledger mismatches)\n", thr.Throughput, *maxRate, thr.Completed, thr.Mismatches)
	fmt.Printf("    at %.0f commands/s:         p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%.0f/s done, %d mismatches)\n", latencyTargetRate,
		ms(lat.LatencyP50), ms(lat.LatencyP90), ms(lat.LatencyP99), ms(lat.LatencyP999), ms(lat.LatencyMax), lat.Throughput, lat.Mismatches)
	if light != nil {
		fmt.Printf("    at %.0f commands/s:         p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%.0f/s done, %d mismatches)\n", *lightRate,
			ms(light.LatencyP50), ms(light.LatencyP90), ms(light.LatencyP99), ms(light.LatencyP999), ms(light.LatencyMax), light.Throughput, light.Mismatches)
	}
	if rssErr == nil {
		fmt.Printf("    processor RSS:             %8.1f MB now, %.1f MB peak\n", mb(rss), mb(peak))
	}
	if subs := thr.Subscriptions; subs > 0 {
		fmt.Printf("    Redis memory:              %8.1f MB for %d subscriptions of %d customers = %d bytes per subscription\n", mb(redisMem), subs, *customers, redisMem/subs)
	}
	fmt.Printf("ratio (b)/(a):                 %8.1f %%\n", 100*ratio)
	fmt.Println("targets:")
	check := func(ok bool, what string) {
		mark := "met   "
		if !ok {
			mark = "MISSED"
		}
		fmt.Printf("  %s %s\n", mark, what)
	}
	check(thr.Throughput >= targetThroughput, fmt.Sprintf("≥ %.0f commands/s end to end (%.0f)", targetThroughput, thr.Throughput))
	check(lat.LatencyP99 <= targetP99At5k, fmt.Sprintf("p99 ≤ %s at 5,000/s (%s)", targetP99At5k, ms(lat.LatencyP99)))
	check(rssErr == nil && peak <= targetRSSBytes, fmt.Sprintf("processor RSS ≤ 150 MB (peak %.1f MB)", mb(peak)))
	check(ratio >= targetRatioOfRaw, fmt.Sprintf("≥ 40%% of the raw limit (%.1f %%)", 100*ratio))
	fmt.Println("reports: bench-5k.html, bench-max.html")
	for _, s := range []*report.Summary{&lat, &thr, light} {
		if s != nil {
			for _, n := range s.Notes {
				if strings.HasPrefix(n, "machine during") {
					fmt.Printf("  %s: %s\n", s.Label, n)
				}
			}
		}
	}
	mismatches := lat.Mismatches + thr.Mismatches
	if light != nil {
		mismatches += light.Mismatches
	}
	if mismatches > 0 {
		return &failedRun{mismatches: mismatches}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func mb(b int64) float64 { return float64(b) / (1 << 20) }

// startRedis starts a private redis-server for the script-rate measurement.
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
