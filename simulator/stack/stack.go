// Package stack brings up what a simulator run talks to: a NATS server
// with JetStream, a Redis server and a processor in simulation mode —
// each either started here or given by URL — and reads the processor's
// memory use.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/handlers"
	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsconn"
	"github.com/cspreseller/csp-processor/simulator/footprint"
	"github.com/cspreseller/csp-processor/simulator/procstat"
	"github.com/cspreseller/csp-processor/simulator/scratch"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redisconn"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// Processor says how the processor runs.
type Processor string

const (
	// Spawn builds ./cmd/processor (or runs Options.ProcessorBin) as its
	// own process, so that its memory is its own.
	Spawn Processor = "spawn"
	// InProcess runs the processor in this process (tests).
	InProcess Processor = "inprocess"
	// External: a processor in simulation mode is already running against
	// the given NATS and Redis.
	External Processor = "external"
)

// Options configure Start.
type Options struct {
	// NATS and Redis say how to reach existing servers (URL, credentials,
	// TLS files); an empty URL starts the server here. A spawned processor
	// gets the same settings.
	NATS      natsconn.Config
	Redis     redisconn.Config
	Processor Processor
	// ProcessorBin is the processor binary for Spawn; empty: go build it.
	ProcessorBin string
	// Partitions of the command stream (0: the processor's default).
	Partitions int
	// Dir keeps the servers' data; empty: a temporary directory.
	Dir string
	// Log receives the spawned processor's output (nil: discarded).
	Log io.Writer
}

// Stack is the running set.
type Stack struct {
	NC      *nats.Conn
	JS      jetstream.JetStream
	Redis   redis.UniversalClient
	Catalog *catalog.Catalog
	Streams bus.StreamsConfig
	// ProcessorPID is the spawned processor's process ID (0 otherwise).
	ProcessorPID int
	// RedisPID is the private redis-server's process ID (0: an external
	// Redis).
	RedisPID int
	// embeddedNATS and inProcess say what runs inside this process.
	embeddedNATS, inProcess bool
	// spawnCfg restarts a spawned processor (nil: not spawned).
	spawnCfg *spawnConfig

	closers []func() error
}

// Start brings everything up and returns once the processor answers the
// simulated clock.
func Start(ctx context.Context, opt Options) (_ *Stack, err error) {
	s := &Stack{Streams: bus.StreamsConfig{Partitions: opt.Partitions}.WithDefaults()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.Catalog, err = catalog.Default(); err != nil {
		return nil, err
	}
	dir := opt.Dir
	if dir == "" {
		if dir, err = scratch.Dir("csp-sim-"); err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() error { return os.RemoveAll(dir) })
	}
	natsCfg := opt.NATS
	if natsCfg.URL == "" {
		srv, err := bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: filepath.Join(dir, "nats"), Port: -1, ServerName: "csp-sim"})
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, func() error { srv.Shutdown(); srv.WaitForShutdown(); return nil })
		natsCfg = natsconn.Config{URL: srv.ClientURL()}
		s.embeddedNATS = true
	}
	// Reconnect for ever, quickly, buffering what is published meanwhile:
	// a NATS restart is an outage the run waits out, not its end.
	if s.NC, err = natsCfg.Connect(nats.Name("csp-simulator"), nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond), nats.ReconnectBufSize(64<<20)); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() error { s.NC.Close(); return nil })
	// A publish whose PubAck never comes is forgotten after the publish
	// timeout (bus.Store has published it again long before), so lost
	// PubAcks do not fill the window of outstanding publishes.
	if s.JS, err = jetstream.New(s.NC, jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithPublishAsyncTimeout(bus.DefaultPublishTimeout)); err != nil {
		return nil, err
	}
	redisCfg := opt.Redis
	if redisCfg.URL == "" {
		srv, err := redisserver.StartPrivate(ctx, filepath.Join(dir, "redis"))
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, srv.Close)
		redisCfg = redisconn.Config{URL: srv.URL()}
		s.RedisPID = srv.PID()
	}
	// Several addresses in the URL make a cluster client.
	if s.Redis, err = redisCfg.NewClient(nil); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.Redis.Close)

	switch opt.Processor {
	case External:
	case InProcess:
		if err := s.startInProcess(ctx, opt); err != nil {
			return nil, err
		}
		s.inProcess = true
	case Spawn, "":
		if err := s.spawn(ctx, opt, dir, natsCfg, redisCfg); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("processor %q: want spawn, inprocess or external", opt.Processor)
	}
	return s, s.waitReady(ctx)
}

func (s *Stack) startInProcess(ctx context.Context, opt Options) error {
	cfg := handlers.Config{NATS: s.NC, Redis: s.Redis, Catalog: s.Catalog, Clock: handlers.SimulatedClock}
	cfg.Bus.Streams.Partitions = opt.Partitions
	proc, err := handlers.NewProcessor(ctx, cfg)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- proc.Run(runCtx) }()
	select {
	case <-proc.Running():
	case err := <-done:
		cancel()
		return err
	}
	s.closers = append(s.closers, func() error { cancel(); return <-done })
	return nil
}

func (s *Stack) spawn(ctx context.Context, opt Options, dir string, natsCfg natsconn.Config, redisCfg redisconn.Config) error {
	bin := opt.ProcessorBin
	if bin == "" {
		bin = filepath.Join(dir, "processor")
		if err := BuildProcessor(ctx, bin); err != nil {
			return err
		}
	}
	env := append(os.Environ(), "SIMULATION=1", "DATA_DIR="+filepath.Join(dir, "processor"), "LOG_LEVEL=warn")
	env = append(append(env, natsCfg.Env()...), redisCfg.Env()...)
	if opt.Partitions > 0 {
		env = append(env, "PARTITIONS="+strconv.Itoa(opt.Partitions))
	}
	out := opt.Log
	if out == nil {
		out = io.Discard
	}
	s.spawnCfg = &spawnConfig{bin: bin, env: env, out: out}
	s.closers = append(s.closers, s.StopProcessor)
	return s.startSpawned()
}

// BuildProcessor builds ./cmd/processor into bin (run from the
// repository's root), so that several stacks can share one binary.
func BuildProcessor(ctx context.Context, bin string) error {
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/processor")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the processor (run from the repository's root, or pass -processor-bin): %w", err)
	}
	return nil
}

// spawnConfig is how a spawned processor is started, again after
// StopProcessor.
type spawnConfig struct {
	bin string
	env []string
	out io.Writer
	// running is the processor process (nil: stopped), exited the result
	// of its Wait.
	running *exec.Cmd
	exited  chan error
}

func (s *Stack) startSpawned() error {
	c := s.spawnCfg
	cmd := exec.Command(c.bin)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the processor %s: %w", c.bin, err)
	}
	s.ProcessorPID = cmd.Process.Pid
	c.running, c.exited = cmd, make(chan error, 1)
	go func(exited chan<- error) { exited <- cmd.Wait() }(c.exited)
	return nil
}

// StopProcessor stops a spawned processor (SIGTERM: it finishes the
// commands in flight; killed after 20 s) and leaves the servers running.
// It does nothing when the processor is not a spawned one or is stopped.
func (s *Stack) StopProcessor() error {
	c := s.spawnCfg
	if c == nil || c.running == nil {
		return nil
	}
	cmd := c.running
	c.running = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		return err
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-c.exited
		return errors.New("the processor did not stop within 20 s of SIGTERM; killed")
	}
}

// StartProcessor starts the spawned processor again after StopProcessor,
// as a new process (ProcessorPID changes), and returns at once: the
// processor goes to work on what its streams hold while it comes up.
// WaitReady waits for it to answer.
func (s *Stack) StartProcessor() error {
	if s.spawnCfg == nil {
		return errors.New("the processor is not a spawned process of this stack")
	}
	if s.spawnCfg.running != nil {
		return errors.New("the processor is running")
	}
	return s.startSpawned()
}

// WaitReady returns once the processor answers the simulated clock.
func (s *Stack) WaitReady(ctx context.Context) error { return s.waitReady(ctx) }

// waitReady asks the simulated clock for its time until the processor
// answers (the streams exist by then too).
func (s *Stack) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		msg, err := s.NC.RequestWithContext(ctx, messages.SimClockSubject, []byte(`{"to":"1970-01-01T00:00:00Z"}`))
		if err == nil && len(msg.Data) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the processor did not answer on %s within 60 s (is it running with SIMULATION=1?): %w", messages.SimClockSubject, err)
		case <-time.After(100 * time.Millisecond): // waiting for a process to come up
		}
	}
}

// Close stops what Start started, in reverse order.
func (s *Stack) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// ProcessorRSS returns the spawned processor's resident and peak resident
// memory in bytes (VmRSS and VmHWM of /proc/<pid>/status; Linux only).
func (s *Stack) ProcessorRSS() (rss, peak int64, err error) {
	if s.ProcessorPID == 0 {
		return 0, 0, errors.New("the processor is not a process of this run")
	}
	return procstat.Memory(s.ProcessorPID)
}

// Names of the process groups of Processes (and of the report's resource
// series): the servers that run inside the simulator's process are named
// with it, since their CPU and memory cannot be told apart from its own.
const (
	GroupSimulator = "simulator"
	GroupProcessor = "processor"
	GroupRedis     = "Redis"
)

// Processes are the processes of the run this stack knows: the simulator
// itself (with the embedded NATS server and an in-process processor when
// they run in it), the spawned processor and the private redis-server. An
// external server's process is not known and not listed.
func (s *Stack) Processes() []procstat.Group {
	self := GroupSimulator
	var with []string
	if s.embeddedNATS {
		with = append(with, "NATS")
	}
	if s.inProcess {
		with = append(with, "processor")
	}
	if len(with) > 0 {
		self += " + " + strings.Join(with, " + ")
	}
	groups := []procstat.Group{{Name: self, PIDs: []int{os.Getpid()}}}
	if s.ProcessorPID != 0 {
		groups = append(groups, procstat.Group{Name: GroupProcessor, PIDs: []int{s.ProcessorPID}})
	}
	if s.RedisPID != 0 {
		groups = append(groups, procstat.Group{Name: GroupRedis, PIDs: []int{s.RedisPID}})
	}
	return groups
}

// RedisMemory is Redis's used_memory in bytes, summed over the masters of
// a cluster.
func (s *Stack) RedisMemory(ctx context.Context) (int64, error) {
	return footprint.UsedMemory(ctx, s.Redis)
}

// RedisFootprint measures the processor's keys (footprint.Measure);
// liveSubs is the run's count of active and suspended subscriptions.
func (s *Stack) RedisFootprint(ctx context.Context, liveSubs int64) (footprint.Footprint, error) {
	f, err := footprint.Measure(ctx, s.Redis, state.DefaultPrefix)
	f.LiveSubscriptions = liveSubs
	return f, err
}
