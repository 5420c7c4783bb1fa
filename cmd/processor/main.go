// Command processor runs the subscription-lifecycle event processor.
//
// With no NATS_URL it starts an embedded NATS server with JetStream (data
// in $DATA_DIR/nats); with no REDIS_URL it starts a private redis-server
// (data in $DATA_DIR/redis). It runs until SIGINT or SIGTERM, then drains
// in-flight commands, flushes the outbox and exits. (The demo story is the
// simulator's, `simulator demo`: this binary imports no simulator code.)
//
// The settings are environment variables: `processor -h` lists them
// (settings.txt beside this file), and so does the README's Configuration
// section.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/handlers"
	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natsconn"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redisconn"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// settings is what -h prints after the flags: every environment variable
// the processor reads.
//
//go:embed settings.txt
var settings string

func main() {
	flag.Usage = func() {
		out := flag.CommandLine.Output()
		fmt.Fprintf(out, "Usage: processor\n\nRuns the subscription-lifecycle event processor until SIGINT or SIGTERM.\n"+
			"The demo story against it is `simulator demo` (make demo).\n\n")
		fmt.Fprint(out, settings)
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "processor: takes no arguments, got %q; its settings are environment variables (processor -h)\n", flag.Args())
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "processor:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger, err := newLogger(os.Stderr, os.Getenv("LOG_LEVEL"), os.Getenv("LOG_FORMAT"))
	if err != nil {
		return err
	}

	cat, err := catalog.LoadOrDefault(os.Getenv(catalog.EnvFile))
	if err != nil {
		return err // names the entry and field
	}
	// Without PARTNERS_FILE there is no registry: every partner acts as a
	// direct-bill partner (PTN-2). A bad file stops the processor.
	var reg *partners.Registry
	if path := os.Getenv(partners.EnvFile); path != "" {
		if reg, err = partners.Load(path); err != nil {
			return err // names the entry and field
		}
	}
	setMemoryLimit()
	dataDir := envOr("DATA_DIR", "data")
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		if err := servePprof(addr); err != nil {
			return err
		}
	}

	nc, closeNATS, err := connectNATS(dataDir)
	if err != nil {
		return err
	}
	defer closeNATS()
	rdb, closeRedis, err := connectRedis(ctx, dataDir)
	if err != nil {
		return err
	}
	defer closeRedis()
	// A command is acked once Redis answered its commit: a Redis that can
	// lose that write loses the command, so refuse to run on one.
	if err := state.CheckDurable(ctx, rdb); err != nil {
		if !state.AllowVolatile() {
			return err // names the setting and how to fix it
		}
		fmt.Fprintf(os.Stderr, "warning: %s=1: running on a Redis that can lose acknowledged writes: %v\n", state.EnvAllowVolatile, err)
	}

	cfg := handlers.Config{NATS: nc, Redis: rdb, Catalog: cat, Partners: reg, Logger: logger, OpsAddr: os.Getenv("OPS_ADDR")}
	if cfg.State.WaitReplicas, cfg.State.WaitTimeout, err = replicaWait(rdb); err != nil {
		return err
	}
	if err := state.CheckReplicas(ctx, rdb, cfg.State.WaitReplicas); err != nil {
		if !state.AllowVolatile() {
			return err // names the setting and how to fix it
		}
		fmt.Fprintf(os.Stderr, "warning: %s=1: starting although commits will wait for replicas that are not connected: %v\n", state.EnvAllowVolatile, err)
	}
	if os.Getenv("SIMULATION") == "1" {
		cfg.Clock = handlers.SimulatedClock
		fmt.Println("simulation mode: commands may carry the simulator's clock")
	}
	if cfg.Bus.Streams.Partitions, err = envInt("PARTITIONS"); err != nil {
		return err
	}
	if cfg.Bus.Streams.Replicas, err = envInt("STREAM_REPLICAS"); err != nil {
		return err
	}
	for _, l := range []struct {
		env string
		dst *int64
	}{
		{"COMMAND_STREAM_MAX_BYTES", &cfg.Bus.Streams.CommandMaxBytes},
		{"EVENT_STREAM_MAX_BYTES", &cfg.Bus.Streams.EventMaxBytes},
		{"DEADLETTER_STREAM_MAX_BYTES", &cfg.Bus.Streams.DeadLetterMaxBytes},
	} {
		n, err := envInt(l.env)
		if err != nil {
			return err
		}
		*l.dst = int64(n)
	}
	cacheMB, err := envInt("STATE_CACHE_MB")
	if err != nil {
		return err
	}
	cfg.StateCacheBytes = cacheMB << 20
	archiveDays, err := envInt("ARCHIVE_RETENTION_DAYS")
	if err != nil {
		return err
	}
	if archiveDays < 0 {
		return fmt.Errorf("ARCHIVE_RETENTION_DAYS=%d is negative", archiveDays)
	}
	cfg.State.ArchiveRetention = time.Duration(archiveDays) * 24 * time.Hour
	if cfg.MaxAttempts, err = envInt("MAX_ATTEMPTS"); err != nil {
		return err
	}
	if cfg.MaxAttempts < 0 {
		return fmt.Errorf("MAX_ATTEMPTS=%d is negative", cfg.MaxAttempts)
	}
	if cfg.Bus.Subscriber.MaxInFlight, err = envInt("MAX_IN_FLIGHT"); err != nil {
		return err
	}
	if a := os.Getenv("ACK_WAIT"); a != "" {
		d, err := time.ParseDuration(a)
		if err != nil {
			return fmt.Errorf("ACK_WAIT=%q: %w", a, err)
		}
		cfg.Bus.Subscriber.AckWait = d
	}
	if cfg.Leases, err = partitionLeases(os.Getenv); err != nil {
		return err
	}
	proc, err := handlers.NewProcessor(ctx, cfg)
	if err != nil {
		return err
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	done := make(chan error, 1)
	go func() { done <- proc.Run(runCtx) }()
	select {
	case <-proc.Running():
	case err := <-done:
		return err
	}
	fmt.Println("processor running; Ctrl-C or SIGTERM stops it cleanly")
	err = <-done
	fmt.Println("processor stopped")
	return err
}

// processorInboxPrefix is the processor's reply-subject prefix on an
// external NATS unless NATS_INBOX_PREFIX says otherwise: the shipped
// accounts config confines the processor's user to its own inboxes
// (subscribe _INBOX.processor.>), so no other user reads its replies, and a
// server that allows all of _INBOX.> works as well.
var processorInboxPrefix = natsauth.InboxPrefix(natsauth.ProcessorUser)

// connectNATS uses NATS_URL (with NATS_CREDS or NATS_NKEY, NATS_TLS_*,
// NATS_INBOX_PREFIX), or starts an embedded server with JetStream.
func connectNATS(dataDir string) (*nats.Conn, func(), error) {
	if cfg := natsconn.FromEnv(); cfg.URL != "" {
		if cfg.InboxPrefix == "" {
			cfg.InboxPrefix = processorInboxPrefix
		}
		nc, err := cfg.Connect(nats.Name("csp-processor"), nats.MaxReconnects(-1))
		if err != nil {
			return nil, nil, err // names the setting; passwords hidden
		}
		return nc, func() { _ = nc.Drain() }, nil
	} else if err := cfg.CheckUnused(); err != nil {
		return nil, nil, err
	}
	port, err := strconv.Atoi(envOr("NATS_PORT", "4333"))
	if err != nil {
		return nil, nil, fmt.Errorf("NATS_PORT: %w", err)
	}
	// The embedded server runs with the shipped users and permissions
	// (deployments/nats/accounts.conf); their passwords are generated on
	// first start and kept in DATA_DIR/nats-auth.
	emb, err := natsauth.Start(natsauth.Options{DataDir: dataDir, Port: port, ServerName: "csp-embedded"})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("%w: port %d is taken; set NATS_PORT to a free one (-1 picks one)", err, port)
		}
		return nil, nil, err
	}
	srv := emb.Server
	fmt.Printf("embedded NATS with JetStream on %s (data in %s)\n", srv.ClientURL(), emb.StoreDir)
	generated := ""
	if emb.Credentials.Created {
		generated = " (generated now)"
	}
	fmt.Printf("embedded NATS requires credentials: users in deployments/nats/accounts.conf, passwords in %s%s\n", emb.Credentials.Path, generated)
	closed := make(chan struct{})
	nc, err := emb.Connect(natsauth.ProcessorUser, nats.Name("csp-processor"),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }),
		// A permission the processor lacks is refused asynchronously: say so.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			fmt.Fprintln(os.Stderr, "NATS:", err)
		}))
	if err != nil {
		shutdown(srv)
		return nil, nil, err
	}
	return nc, func() {
		// Drain flushes what is buffered; the server goes only after the
		// connection has closed.
		if nc.Drain() == nil {
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
			}
		}
		shutdown(srv)
	}, nil
}

func shutdown(s *server.Server) { s.Shutdown(); s.WaitForShutdown() }

// connectRedis uses REDIS_URL (with REDIS_TLS_*), or starts a private
// redis-server that only the processor's ACL user, with a password kept in
// $DATA_DIR/redis, may use.
func connectRedis(ctx context.Context, dataDir string) (redis.UniversalClient, func(), error) {
	if cfg := redisconn.FromEnv(); cfg.URL != "" {
		// Several addresses make a cluster client (state/redisconn/cluster.go).
		rdb, err := cfg.NewClient(func(o *redis.Options) { tune(o) })
		if err != nil {
			return nil, nil, err // names the setting; password hidden
		}
		if err := rdb.Ping(ctx).Err(); err != nil {
			_ = rdb.Close()
			return nil, nil, fmt.Errorf("redis at %s %s: %w", redisconn.EnvURL, redisconn.Redacted(cfg.URL), err)
		}
		if err := redisconn.CheckNotCluster(ctx, rdb); err != nil {
			_ = rdb.Close()
			return nil, nil, err
		}
		return rdb, func() { _ = rdb.Close() }, nil
	} else if err := cfg.CheckUnused(); err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(dataDir, "redis")
	// Its own ACL user and a password kept in dir (0600): no one else on
	// the machine reads or rewrites the state.
	srv, err := redisserver.StartPrivate(ctx, dir)
	if err != nil {
		return nil, nil, err // says how to install redis-server
	}
	fmt.Printf("private redis-server on %s (data in %s)\n", srv.Addr(), dir)
	opt, _ := redis.ParseURL(srv.URL())
	rdb := redis.NewClient(tune(opt))
	return rdb, func() { _ = rdb.Close(); _ = srv.Close() }, nil
}

// replicaWait reads REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT. The
// timeout must stay below the client's read timeout: the store sends WAIT
// in a pipeline with the commit, and go-redis reads a pipeline's replies
// with the client's read timeout, so a longer WAIT would fail as a network
// error instead of a count.
func replicaWait(rdb redis.UniversalClient) (int, time.Duration, error) {
	n, err := envInt("REDIS_WAIT_REPLICAS")
	if err != nil {
		return 0, 0, err
	}
	if n < 0 {
		return 0, 0, fmt.Errorf("REDIS_WAIT_REPLICAS=%d is negative", n)
	}
	timeout := state.DefaultWaitTimeout
	if v := os.Getenv("REDIS_WAIT_TIMEOUT"); v != "" {
		if timeout, err = time.ParseDuration(v); err != nil || timeout <= 0 {
			return 0, 0, fmt.Errorf("REDIS_WAIT_TIMEOUT=%q: want a positive duration such as 1s", v)
		}
	}
	var readTimeout time.Duration
	switch c := rdb.(type) {
	case *redis.Client:
		readTimeout = c.Options().ReadTimeout
	case *redis.ClusterClient:
		readTimeout = c.Options().ReadTimeout
	}
	if n > 0 && readTimeout > 0 && timeout >= readTimeout {
		return 0, 0, fmt.Errorf("REDIS_WAIT_TIMEOUT=%v must be below the Redis client's read timeout %v", timeout, readTimeout)
	}
	return n, timeout, nil
}

// tune sizes the pool for one connection per partition in flight, and
// speaks RESP2: the processor uses no RESP3 feature, and under RESP3 the
// client looks for push notifications around every command (about 3 % of
// the processor's CPU under load).
func tune(opt *redis.Options) *redis.Options {
	if opt.PoolSize < 64 {
		opt.PoolSize = 64
	}
	if opt.Protocol == 0 {
		opt.Protocol = 2
	}
	return opt
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// envInt reads an optional integer; 0 when unset (the default applies).
func envInt(k string) (int, error) {
	v := os.Getenv(k)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a whole number", k, v)
	}
	return n, nil
}

// newLogger logs to w at the level asked for, as text lines or, for a log
// pipeline, one JSON object per line.
func newLogger(w io.Writer, level, format string) (watermill.LoggerAdapter, error) {
	if level == "" {
		level = "info"
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "", "text":
		return watermill.NewSlogLogger(slog.New(slog.NewTextHandler(w, opts))), nil
	case "json":
		return watermill.NewSlogLogger(slog.New(slog.NewJSONHandler(w, opts))), nil
	}
	return nil, fmt.Errorf("LOG_FORMAT=%q: want text or json", format)
}

// servePprof serves the Go profiler on its own mux (never on a port that
// carries anything else), so an operator can take a CPU profile under load:
// go tool pprof http://ADDR/debug/pprof/profile?seconds=20. It listens
// before it returns, so a taken port stops the processor at start.
func servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("PPROF_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Printf("pprof on http://%s/debug/pprof/\n", ln.Addr())
	return nil
}

// memoryLimit is the processor's soft memory limit when GOMEMLIMIT is not
// set. The heap is mostly the state cache (STATE_CACHE_MB) and short-lived
// buffers; without a limit the collector lets the heap grow to twice what
// is live, and a long run's resident memory creeps towards that. With it
// the collector works harder only when the limit comes near. It leaves the
// collector room above a full cache (twice the cache, plus 96 MiB for
// everything else): a limit close to the live heap makes the collector run
// all the time (a 100 MiB limit with a 64 MiB cache spent a fifth of the
// processor's CPU collecting).
func memoryLimit(cacheBytes int) int64 {
	if cacheBytes <= 0 {
		cacheBytes = state.DefaultStateCacheBytes
	}
	return 2*int64(cacheBytes) + 96<<20
}

func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		cacheMB, _ := envInt("STATE_CACHE_MB") // a bad value stops the processor when its settings are read
		debug.SetMemoryLimit(memoryLimit(cacheMB << 20))
	}
}

// partitionLeases reads PARTITION_OWNERSHIP and the lease settings: nil
// for "all", the lease configuration for "leases" (the default).
func partitionLeases(getenv func(string) string) (*lease.Config, error) {
	switch v := getenv("PARTITION_OWNERSHIP"); v {
	case "", "leases":
		lc, err := lease.Config{}.FromEnv(getenv)
		if err != nil {
			return nil, err
		}
		return &lc, nil
	case "all":
		return nil, nil
	default:
		return nil, fmt.Errorf("PARTITION_OWNERSHIP=%q: want leases (the default) or all", v)
	}
}
