package main

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// make bench with tiny phases against the real stack (embedded NATS, a
// private redis-server, the processor binary spawned): every phase runs
// and measures something, the drain applies every command it stored, and
// the checked phases find no mismatch.
func TestBenchSmokeEveryPhaseMeasures(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	if testing.Short() {
		t.Skip("runs every phase of make bench (about a minute)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sf := stackFlags{processor: "spawn"}
	bc := benchConfig{
		customers: 200, maxRate: 1000, maxDur: 2 * time.Second, halfDur: 2 * time.Second,
		drainCustomers: 40, drainCommands: 300, drainPrepSteps: 2,
		yearCustomers: 20, yearDays: 30, yearStep: 72 * time.Hour, yearLoadDur: 2 * time.Second,
		rawCommands: 300, rawStateBytes: 1000, progress: io.Discard,
	}
	t.Chdir("../..") // the processor is built from the repository's root
	res, err := bench(ctx, &sf, bc)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	res.writeText(&text)
	t.Log(text.String())
	for name, v := range map[string]float64{
		"(a) raw pipeline": res.Raw.Throughput, "(b) drain": res.Drain.Throughput, "(c) end to end": res.EndToEnd.Throughput,
		"(c) at half": res.HalfLoad.Throughput, "(d) new customers": res.YearNew.Throughput, "(d) year-old customers": res.YearOld.Throughput,
	} {
		if !(v > 0) {
			t.Errorf("%s: throughput %v, want > 0", name, v)
		}
	}
	if res.Drain.Stored != 300 || res.Drain.Answered != res.Drain.Stored {
		t.Errorf("drain: %d stored, %d applied; want 300 each", res.Drain.Stored, res.Drain.Answered)
	}
	if res.Drain.ProcessorCPU <= 0 || res.Drain.CPUPerCommand <= 0 {
		t.Errorf("drain: processor CPU %v, %v per command", res.Drain.ProcessorCPU, res.Drain.CPUPerCommand)
	}
	if res.Raw.Commands != 300 {
		t.Errorf("raw pipeline: %d commands, want 300", res.Raw.Commands)
	}
	if res.YearOld.YearCommands < 20*10 || res.YearOld.LiveSubs == 0 || res.YearOld.RedisPerSub <= 0 {
		t.Errorf("year: %d commands, %d live subscriptions, %d Redis bytes each", res.YearOld.YearCommands, res.YearOld.LiveSubs, res.YearOld.RedisPerSub)
	}
	if res.HalfLoad.OfferedRate != res.EndToEnd.Throughput/2 {
		t.Errorf("half load offered %v, want half of %v", res.HalfLoad.OfferedRate, res.EndToEnd.Throughput)
	}
	if res.Mismatches != 0 || len(res.Targets) != 5 {
		t.Errorf("%d mismatches, %d targets", res.Mismatches, len(res.Targets))
	}
}
