package rawlimit

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// The load's shape for the benchmarks; b.N is the number of commands (or
// commit scripts), so -benchtime 50000x measures N = 50,000:
//
//	go test -run '^$' -bench 'Raw' -benchtime 50000x ./simulator/rawlimit/ -rawlimit.k 2.5
var (
	benchK          = flag.Float64("rawlimit.k", 2.5, "events per command (mean)")
	benchCmdBytes   = flag.Int("rawlimit.cmdbytes", DefaultCommandBytes, "command body bytes")
	benchEvtBytes   = flag.Int("rawlimit.evtbytes", DefaultEventBytes, "event body bytes")
	benchStateBytes = flag.Int("rawlimit.statebytes", DefaultStateBytes, "customer state bytes per commit")
	benchPartitions = flag.Int("rawlimit.partitions", bus.DefaultPartitions, "command partitions (and Redis lanes)")
)

func benchParams(n int) Params {
	return Params{
		Commands: n, EventsPerCommand: *benchK,
		CommandBytes: *benchCmdBytes, EventBytes: *benchEvtBytes, StateBytes: *benchStateBytes,
		Partitions: *benchPartitions,
	}
}

// BenchmarkRawJetStream: the processor's JetStream traffic for b.N
// commands with no logic, on an embedded server of its own.
func BenchmarkRawJetStream(b *testing.B) {
	s := natstest.RunServer(b)
	nc, _ := natstest.Connect(b, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := MeasureJetStream(ctx, nc, benchParams(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(res.CommandsPerSec, "commands/s")
	b.ReportMetric(res.PublishesPerSec, "cmd-pubacks/s")
	b.ReportMetric(res.EventsPerSec, "events/s")
	if b.N >= 1000 {
		b.Log(res)
	}
}

// BenchmarkRawRedis: b.N commit scripts (then b.N PINGs) from one lane per
// partition, with a pool sized as the processor's (64).
func BenchmarkRawRedis(b *testing.B) {
	redistest.Client(b) // flushes the package's server
	opt, err := redis.ParseURL(redistest.URL())
	if err != nil {
		b.Fatal(err)
	}
	opt.PoolSize = 64
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	b.ResetTimer()
	res, err := MeasureRedis(ctx, rdb, benchParams(b.N))
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(res.RedisScriptsPerSec, "scripts/s")
	b.ReportMetric(res.RedisRoundTripsPerSec, "pings/s")
	if b.N >= 1000 {
		b.Log(res)
	}
}
