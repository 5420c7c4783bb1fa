package rawlimit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

func TestMeasureJetStreamDeliversEveryEventOnceAndAcksEveryCommand(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	p := Params{Commands: 2000, EventsPerCommand: 2, CommandBytes: 400, EventBytes: 700}
	res, err := MeasureJetStream(ctx, nc, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Commands != 2000 || res.Events != 4000 || res.DuplicateEvents != 0 {
		t.Errorf("commands %d, events %d, duplicates %d; want 2000, 4000, 0", res.Commands, res.Events, res.DuplicateEvents)
	}
	if !(res.CommandsPerSec > 0 && res.PublishesPerSec > 0 && res.EventsPerSec > 0 && res.Elapsed > 0) {
		t.Errorf("rates not positive: %+v", res)
	}

	// What the server holds, independently of the measurement's own count.
	assertStreamMsgs(t, js, CommandStream, 2000)
	assertStreamMsgs(t, js, EventStream, 4000)
	streams, subCfg := StreamsConfig(bus.DefaultPartitions), SubscriberConfig()
	var delivered uint64
	for p := range streams.Partitions {
		c, err := js.Consumer(ctx, CommandStream, bus.ConsumerName(subCfg.ConsumerPrefix, p, streams.Partitions))
		if err != nil {
			t.Fatal(err)
		}
		info := c.CachedInfo()
		if info.NumPending != 0 || info.NumAckPending != 0 {
			t.Errorf("consumer %s: %d pending, %d unacked; want 0, 0", info.Name, info.NumPending, info.NumAckPending)
		}
		if info.Config.MaxAckPending != bus.DefaultMaxInFlight || info.Config.AckPolicy != jetstream.AckExplicitPolicy {
			t.Errorf("consumer %s: MaxAckPending %d, ack policy %v; want the processor's DefaultMaxInFlight, explicit",
				info.Name, info.Config.MaxAckPending, info.Config.AckPolicy)
		}
		delivered += info.Delivered.Consumer
	}
	if delivered != 2000 {
		t.Errorf("consumers delivered %d commands, want 2000 (each once)", delivered)
	}
}

func TestMeasureJetStreamStartsFromFreshStreamsEachRun(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for run := range 2 {
		res, err := MeasureJetStream(ctx, nc, Params{Commands: 300, EventsPerCommand: 2.5, Partitions: 8})
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if res.Events != 750 || res.DuplicateEvents != 0 {
			t.Errorf("run %d: %d events, %d duplicates; want 750, 0", run, res.Events, res.DuplicateEvents)
		}
		assertStreamMsgs(t, js, EventStream, 750)
	}
}

func TestMeasureJetStreamRefusesAServerWithTheProcessorsStreams(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := bus.EnsureStreams(ctx, js, nc, bus.StreamsConfig{}); err != nil {
		t.Fatal(err)
	}
	_, err := MeasureJetStream(ctx, nc, Params{Commands: 10})
	if err == nil || !strings.Contains(err.Error(), "NATS server of its own") {
		t.Fatalf("err = %v, want a refusal naming the need for a server of its own", err)
	}
	// The processor's streams are untouched.
	if _, err := js.Stream(ctx, bus.DefaultCommandStream); err != nil {
		t.Errorf("processor's command stream: %v", err)
	}
}

func assertStreamMsgs(t *testing.T, js jetstream.JetStream, name string, want uint64) {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().State.Msgs; got != want {
		t.Errorf("stream %s holds %d messages, want %d", name, got, want)
	}
}
