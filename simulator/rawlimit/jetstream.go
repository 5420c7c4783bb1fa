package rawlimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// settleTimeout bounds the wait for the last commands' acks after the last
// event arrived.
const settleTimeout = 30 * time.Second

// MeasureJetStream runs the processor's JetStream traffic without its
// logic and fills the JetStream fields of the result. nc must be connected
// to a server used only for this measurement (StartServer starts one): the
// streams capture the processor's subjects. Every part shares nc, as the
// processor, the upstream and the event watcher do in the processor's
// end-to-end benchmark.
//
// It deletes and recreates the streams named in this package, starts the
// partitioned command subscriber and the event publisher exactly as the
// processor wires them (a Watermill router, one handler), starts an ordered
// consumer on the events, publishes N commands, and times from the first
// publish until every event arrived. It returns an error unless every event
// arrived and every command was acked. The streams are left in place for
// inspection and deleted by the next run.
func MeasureJetStream(ctx context.Context, nc *nats.Conn, p Params) (Result, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return Result{}, fmt.Errorf("rawlimit: %w", err)
	}
	return measureJetStream(ctx, nc, p, nil)
}

// measureJetStream is MeasureJetStream on validated params; commit, when
// set, runs in the handler for every command before its events are
// published (MeasurePipeline).
func measureJetStream(ctx context.Context, nc *nats.Conn, p Params, commit commitFunc) (Result, error) {
	if nc == nil {
		return Result{}, errors.New("rawlimit: no NATS connection")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return Result{}, fmt.Errorf("rawlimit: jetstream: %w", err)
	}
	streams, subCfg := StreamsConfig(p.Partitions), SubscriberConfig()
	if err := freshStreams(ctx, js, nc, streams); err != nil {
		return Result{}, err
	}

	failed := newFailure()
	total := EventsTotal(p.Commands, p.EventsPerCommand)
	counter := newEventCounter(total, failed.set)

	proc, err := startProcessor(ctx, js, streams, subCfg, &echoHandler{
		k: p.EventsPerCommand, eventBody: filler(p.EventBytes), fail: failed.set, commit: commit,
	})
	if err != nil {
		return Result{}, err
	}
	defer proc.stop()

	events, err := js.OrderedConsumer(ctx, streams.EventStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return Result{}, fmt.Errorf("rawlimit: event consumer: %w", err)
	}
	cc, err := events.Consume(counter.receive)
	if err != nil {
		return Result{}, fmt.Errorf("rawlimit: event consumer: %w", err)
	}
	defer cc.Stop()

	start, pubElapsed, err := publishCommands(ctx, nc, p)
	if err != nil {
		return Result{}, err
	}
	select {
	case <-counter.done:
	case <-failed.done:
		return Result{}, failed.get()
	case <-proc.done:
		return Result{}, fmt.Errorf("rawlimit: the router stopped before every event arrived: %v", proc.err)
	case <-ctx.Done():
		got, _, _ := counter.counts()
		return Result{}, fmt.Errorf("rawlimit: %d of %d events arrived: %w", got, total, ctx.Err())
	}
	_, _, doneAt := counter.counts()
	elapsed := doneAt.Sub(start)

	settleCtx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if err := waitSettled(settleCtx, js, streams, subCfg); err != nil {
		return Result{}, err
	}
	if err := failed.get(); err != nil {
		return Result{}, err
	}
	distinct, dups, _ := counter.counts()
	return Result{
		CommandsPerSec:  float64(p.Commands) / elapsed.Seconds(),
		PublishesPerSec: float64(p.Commands) / pubElapsed.Seconds(),
		EventsPerSec:    float64(distinct) / elapsed.Seconds(),
		Elapsed:         elapsed,
		PublishElapsed:  pubElapsed,
		Commands:        p.Commands,
		Events:          distinct,
		DuplicateEvents: dups,
	}, nil
}

// processor is the processor's JetStream half: the partitioned command
// subscriber feeding a Watermill router whose one handler publishes
// through the bus publisher, wired as handlers.NewProcessor does.
type processor struct {
	cancel context.CancelFunc
	sub    *bus.CommandSubscriber
	pub    *bus.Publisher
	done   chan struct{} // closed when the router's Run returned
	err    error         // Run's error, set before done is closed
}

func startProcessor(ctx context.Context, js jetstream.JetStream, streams bus.StreamsConfig, subCfg bus.SubscriberConfig, h *echoHandler) (*processor, error) {
	sub, err := bus.NewCommandSubscriber(js, streams, subCfg)
	if err != nil {
		return nil, err
	}
	pub, err := bus.NewPublisher(js, bus.PublisherConfig{})
	if err != nil {
		return nil, err
	}
	h.pub = pub
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: subCfg.ShutdownTimeout}, watermill.NopLogger{})
	if err != nil {
		return nil, err
	}
	router.AddConsumerHandler("commands", "commands", sub, h.handle)

	runCtx, cancel := context.WithCancel(ctx)
	p := &processor{cancel: cancel, sub: sub, pub: pub, done: make(chan struct{})}
	go func() {
		p.err = router.Run(runCtx)
		close(p.done)
	}()
	select {
	case <-router.Running():
		return p, nil
	case <-p.done:
		p.stop()
		return nil, fmt.Errorf("rawlimit: router did not start: %v", p.err)
	case <-ctx.Done():
		p.stop()
		return nil, fmt.Errorf("rawlimit: router did not start: %w", ctx.Err())
	}
}

// stop ends the router (in-flight commands finish and are acked) and waits
// for it.
func (p *processor) stop() {
	p.cancel()
	<-p.done
	_ = p.sub.Close()
	_ = p.pub.Close()
}

// failure keeps the first error reported from a callback and signals it.
type failure struct {
	once sync.Once
	err  error
	done chan struct{}
}

func newFailure() *failure { return &failure{done: make(chan struct{})} }

func (f *failure) set(err error) {
	f.once.Do(func() {
		f.err = err
		close(f.done)
	})
}

// get returns the reported error, nil if none.
func (f *failure) get() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}
