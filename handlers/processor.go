package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
	"github.com/cspreseller/csp-processor/state"
)

// Config assembles a processor. NATS and Redis connections are owned by
// the caller.
type Config struct {
	NATS    *nats.Conn
	Redis   redis.UniversalClient
	Catalog *catalog.Catalog
	Clock   ClockMode
	Bus     bus.Config
	State   state.Options
	// RelayInterval and RelayMinAge tune the outbox relay (state package
	// defaults when zero).
	RelayInterval, RelayMinAge time.Duration
	// TimerPoll is how often the scheduler looks for due timers on the
	// wall clock (BrokerClock); default 1s.
	TimerPoll time.Duration
	// Leases, when set, makes this processor one of several replicas: it
	// works only the partitions it holds a lease on (messages/bus/lease),
	// consuming their commands under the lease's fence, firing their
	// timers and relaying their customers' outboxes; Partitions and
	// Replicas come from Bus.Streams. Nil: it works every partition
	// (Bus.Subscriber.Partitions), the single-replica setup.
	Leases *lease.Config

	// OwnedPartitions returns the partitions whose timers this replica
	// fires on the wall clock (Scheduler.Owned); nil: all of them, or with
	// Bus.Subscriber.Dynamic the partitions the subscriber consumes.
	OwnedPartitions func() []int
	Logger          watermill.LoggerAdapter

	// StateCacheBytes bounds the cache of recently decided customers'
	// state (DefaultStateCacheBytes when zero).
	StateCacheBytes int

	// Partners is the partner registry (PARTNERS_FILE); nil: none, every
	// partner acts as a direct-bill partner (PTN-2..PTN-4).
	Partners *partners.Registry

	// StartupTimeout bounds how long NewProcessor asks a JetStream that
	// does not answer (a cluster electing its leaders) to create the
	// streams; bus.DefaultStartupTimeout when zero.
	StartupTimeout time.Duration

	// MaxAttempts is how often a command that fails for a permanent reason
	// is tried (with the subscriber's backoff in between) before it is
	// dead-lettered as internal_error; DefaultMaxAttempts when zero.
	// Transient failures are retried however long they last.
	MaxAttempts int

	// OpsAddr is where the processor serves /metrics (Prometheus text
	// format; OPS_ADDR); empty: no ops server. Port 0 lets the system
	// choose (Processor.OpsAddr says which).
	OpsAddr string

	// wrapPublisher lets tests inject failures around the real publisher.
	wrapPublisher func(message.Publisher) message.Publisher
	// onDecide and onFailure are CommandHandler's test hooks.
	onDecide  func(messages.Command)
	onFailure func(msg *message.Message, err error, transient bool)
}

// Processor is the running pipeline: a Watermill router whose one handler
// consumes every command partition, plus the outbox cleaner and relay.
type Processor struct {
	router  *message.Router
	sub     *bus.CommandSubscriber
	pub     *bus.Publisher
	cleaner *state.OutboxCleaner
	relay   *state.OutboxRelay
	timers  *Scheduler
	queries *QueryService
	// operator serves the operator endpoints (cmd/cspctl).
	operator *OperatorService
	keeper   *lease.Keeper // nil without Config.Leases
	logger   watermill.LoggerAdapter
	// customers and counters are what Stats reads; ops serves them (nil
	// without Config.OpsAddr).
	customers *state.Customers
	counters  *timerCounters
	commands  *commandCounters
	ops       *opsServer
	// shutdownTimeout bounds Run's drain: handing the partitions back
	// waits for their in-flight commands (the subscriber's
	// ShutdownTimeout), then the components stop.
	shutdownTimeout time.Duration
}

// NewProcessor creates the streams and consumers if needed and wires the
// pipeline. It does not start consuming; Run does.
func NewProcessor(ctx context.Context, cfg Config) (*Processor, error) {
	if cfg.Logger == nil {
		cfg.Logger = watermill.NopLogger{}
	}
	bc := cfg.Bus.WithDefaults()
	// An async publish whose PubAck never comes is forgotten by the client
	// after the publish timeout; else it would hold a place among the
	// outstanding publishes for ever (bus.Store bounds our own wait).
	js, err := jetstream.New(cfg.NATS, jetstream.WithPublishAsyncTimeout(bc.Publisher.Timeout))
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	// A JetStream cluster that is electing its leaders does not answer for
	// a while: asked again, each request bounded, until StartupTimeout.
	if err := bus.RetryStartup(ctx, cfg.StartupTimeout, "ensure streams", func(ctx context.Context) error {
		return bus.EnsureStreams(ctx, js, cfg.NATS, bc.Streams)
	}); err != nil {
		return nil, err
	}
	spreadConsumerLeaders(ctx, js, bc, cfg.Logger)
	bc.Subscriber.Logger = cfg.Logger
	if cfg.Leases != nil {
		bc.Subscriber.Dynamic = true // the keeper starts and stops partitions
	}
	sub, err := bus.NewCommandSubscriber(js, bc.Streams, bc.Subscriber)
	if err != nil {
		return nil, err
	}
	var keeper *lease.Keeper
	var relayOwns func(customerID string) bool
	if cfg.Leases != nil {
		owner := partitionOwner{sub: sub}
		lc := *cfg.Leases
		lc.Partitions, lc.Replicas = bc.Streams.Partitions, bc.Streams.Replicas
		if lc.Logger == nil {
			lc.Logger = leaseLog(cfg.Logger)
		}
		if keeper, err = lease.NewKeeper(js, lc, owner); err != nil {
			return nil, err
		}
		relayOwns = owner.ownsCustomer(bc.Streams.Partitions)
	}
	pub, err := bus.NewPublisher(js, bc.Publisher)
	if err != nil {
		return nil, err
	}
	var events message.Publisher = pub
	if cfg.wrapPublisher != nil {
		events = cfg.wrapPublisher(pub)
	}
	rdb, err := autoPipelined(cfg.Redis)
	if err != nil {
		return nil, err
	}
	store := state.NewStore(rdb, stateOptions(cfg.State, bc.Streams))
	// Timers indexed per partition by an earlier version would never fire
	// once nobody reads those keys: move them to their slots first.
	if moved, err := store.MigrateTimerIndex(ctx, bus.SlotOf); err != nil {
		return nil, err
	} else if moved > 0 {
		cfg.Logger.Info("Moved timers from the per-partition index to the per-slot index", watermill.LogFields{"timers": moved})
	}
	cleaner := state.NewOutboxCleaner(store, state.CleanerOptions{Logger: logFunc(cfg.Logger)})
	relay := state.NewOutboxRelay(store, func(_ context.Context, _ string, entries []state.OutboxEntry) error {
		return PublishOutbox(events, entries)
	}, state.RelayOptions{Interval: cfg.RelayInterval, MinAge: cfg.RelayMinAge, Owns: relayOwns})

	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: bc.Subscriber.ShutdownTimeout}, cfg.Logger)
	if err != nil {
		return nil, err
	}
	// The handler recovers a panic itself and counts it as a permanent
	// failure (poison.go); the recoverer is the last guard for one outside
	// it, turning it into a nack instead of killing the process.
	router.AddMiddleware(recoverer)
	customers, counters, commands := state.NewCustomers(store, cfg.StateCacheBytes), &timerCounters{}, newCommandCounters()
	h := &CommandHandler{Store: store, Customers: customers, Cleaner: cleaner, Publisher: events, Catalog: cfg.Catalog, Partners: cfg.Partners, Clock: cfg.Clock, Logger: cfg.Logger,
		MaxAttempts: cfg.MaxAttempts, onDecide: cfg.onDecide, onFailure: cfg.onFailure, counters: counters, commands: commands}
	router.AddNoPublisherHandler("commands", "commands", sub, h.Handle)
	owned := cfg.OwnedPartitions
	if owned == nil && bc.Subscriber.Dynamic {
		owned = sub.Partitions // the timers of the partitions this replica consumes
	}
	timers := &Scheduler{Store: store, JS: js, NATS: cfg.NATS, Partitions: bc.Streams.Partitions, Owned: owned,
		Clock: cfg.Clock, Poll: cfg.TimerPoll, Publish: bus.StoreOptions{Budget: timerPublishBudget}, Logger: cfg.Logger, counters: counters}
	queries := &QueryService{Store: store, NATS: cfg.NATS, Simulated: cfg.Clock == SimulatedClock, Logger: cfg.Logger}
	operator := &OperatorService{Queries: queries, JS: js, Streams: bc.Streams, ConsumerPrefix: bc.Subscriber.ConsumerPrefix, Logger: cfg.Logger}
	if cfg.Leases != nil {
		operator.LeaseBucket = cmp.Or(cfg.Leases.Bucket, lease.DefaultBucket)
	}
	p := &Processor{router: router, sub: sub, pub: pub, cleaner: cleaner, relay: relay, timers: timers, queries: queries, operator: operator,
		keeper: keeper, logger: cfg.Logger, shutdownTimeout: bc.Subscriber.ShutdownTimeout + 10*time.Second,
		customers: customers, counters: counters, commands: commands}
	if cfg.OpsAddr != "" {
		reg := metricsRegistry(metricSources{stats: p.Stats, timerLag: timers.Lag, now: time.Now}, router)
		p.ops = newOpsServer(cfg.OpsAddr, reg,
			readiness{nc: cfg.NATS, js: js, stream: bc.Streams.CommandStream, rdb: cfg.Redis, router: router})
	}
	return p, nil
}

// Run processes commands until ctx is cancelled, then drains: with leases
// the partitions are handed back first (each stopped, its in-flight
// commands finished, before its lease is let go, so another replica takes
// it over at once), then in-flight commands finish (or stay unacked for
// redelivery), the operator and query services, scheduler and relay stop,
// and the outbox cleaner flushes.
func (p *Processor) Run(ctx context.Context) error {
	shutdownCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), p.shutdownTimeout)
	}
	components := []component{p.cleaner, p.relay, p.timers, p.queries, p.operator}
	if p.ops != nil {
		// First: a taken address stops the start before anything runs,
		// and the counters stay readable until the others have stopped.
		components = append([]component{p.ops}, components...)
	}
	if err := func() error {
		sctx, cancel := shutdownCtx()
		defer cancel()
		return startAll(sctx, components...)
	}(); err != nil {
		return err
	}
	// The router gets its own context: on ctx's end the keeper must stop
	// the partitions (StopPartition) while the subscription still runs.
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRouter()
	routed := make(chan error, 1)
	go func() { routed <- p.router.Run(routerCtx) }()

	var runErr error
	ended := false // the router returned on its own (a partition failed)
	if p.keeper != nil {
		select {
		case <-p.router.Running(): // the subscription exists: partitions can start
			runErr = p.keeper.Start()
		case runErr = <-routed:
			ended = true
		case <-ctx.Done():
		}
	}
	if runErr == nil && !ended {
		select {
		case <-ctx.Done():
		case runErr = <-routed:
			ended = true
		}
	}

	sctx, cancel := shutdownCtx()
	defer cancel()
	errs := []error{runErr}
	if p.keeper != nil {
		errs = append(errs, p.keeper.Shutdown(sctx))
	}
	stopRouter()
	if !ended {
		errs = append(errs, <-routed)
	}
	errs = append(errs, shutdownAll(sctx, components...))
	errs = append(errs, p.pub.Close())
	return errors.Join(errs...)
}

// leaseLog routes the lease keeper's log lines: failures as errors, lease
// changes (err nil) as information.
func leaseLog(l watermill.LoggerAdapter) func(string, error) {
	return func(msg string, err error) {
		if err != nil {
			l.Error(msg, err, nil)
			return
		}
		l.Info(msg, nil)
	}
}

// stateOptions ties the store's memory of applied commands to the command
// stream (G1): a command can be delivered again for as long as the stream
// keeps it (a consumer reset replays it, upstream systems re-send for days
// under a new Nats-Msg-Id that the 2-minute duplicate window does not
// catch), so the store recognises it as applied for at least the stream's
// MaxAge. One setting, the stream's MaxAge, decides both; a longer
// State.AppliedRetention is kept.
func stateOptions(o state.Options, streams bus.StreamsConfig) state.Options {
	o.AppliedRetention = max(o.AppliedRetention, streams.CommandMaxAge)
	return o
}

// autoPipelined batches the Redis commands that the partitions issue at the
// same moment into one pipeline per round trip (go-redis's blocking
// autopipeliner: each call still waits for its own reply, and one
// goroutine's commands keep their order). Under load that cut what a command
// costs the processor and Redis in CPU by about a tenth, mostly system calls
// (simulator/PERFORMANCE.md). Every command the store sends may be retried safely:
// loads only read, the commit script answers a replay from its inbox, and
// index and outbox deletions are idempotent. A cluster client is left as it
// is: the store recognises a cluster by its client type and then keeps a
// commit's timer index and the commit in two ordered round trips (their
// keys are in different slots, see state.Commit); wrapped, it could not tell.
func autoPipelined(rdb redis.UniversalClient) (redis.UniversalClient, error) {
	c, ok := rdb.(*redis.Client)
	if !ok {
		return rdb, nil
	}
	ap, err := c.AutoPipeline()
	if err != nil {
		return nil, fmt.Errorf("redis autopipeline: %w", err)
	}
	return ap, nil
}

// Subscriber is the command subscriber: with Bus.Subscriber.Dynamic, its
// StartPartition and StopPartition decide what this replica consumes.
func (p *Processor) Subscriber() *bus.CommandSubscriber { return p.sub }

// Partitions lists the partitions this processor is consuming now: every
// configured one without leases, those it holds a lease on with them.
func (p *Processor) Partitions() []int { return p.sub.Partitions() }

// OpsAddr is the address the ops server listens on once Run started it;
// empty without Config.OpsAddr.
func (p *Processor) OpsAddr() string { return p.ops.listenAddr() }

// Running is closed once the router is consuming.
func (p *Processor) Running() chan struct{} { return p.router.Running() }

func logFunc(l watermill.LoggerAdapter) func(string, error) {
	return func(msg string, err error) { l.Error(msg, err, nil) }
}

// recoverer turns a handler panic into an error (and so a nack).
func recoverer(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) (out []*message.Message, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic handling %s: %v\n%s", msg.UUID, r, debug.Stack())
			}
		}()
		return h(msg)
	}
}
