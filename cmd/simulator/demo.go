package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/standalone"
)

// demoTimeout bounds the story: five commands, each answered in
// milliseconds.
const demoTimeout = 60 * time.Second

// runDemo starts the processor as `make serve` does (its embedded NATS
// with the shipped users on NATS_PORT, default 4333; its private Redis;
// its data in -data), connects as the simulator user with the password the
// processor generated, plays one customer's story (simulator.RunDemo),
// printing every event to out, and stops the processor. The processor's
// own lines go to log.
func runDemo(ctx context.Context, args []string, out, log io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dataDir := fs.String("data", cmp.Or(os.Getenv("DATA_DIR"), "data"), "the processor's DATA_DIR: its embedded NATS store and passwords, its Redis data")
	bin := fs.String("processor-bin", "", "processor binary (empty: go build ./cmd/processor)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errors.New("demo takes no arguments")
	}
	// The processor's info lines would bury the story; LOG_LEVEL wins.
	var env []string
	if os.Getenv("LOG_LEVEL") == "" {
		env = append(env, "LOG_LEVEL=warn")
	}
	proc, err := standalone.Start(ctx, standalone.Options{Bin: *bin, DataDir: *dataDir, Env: env, Log: log})
	if err != nil {
		return err
	}
	err = playDemo(ctx, proc, out)
	return errors.Join(err, proc.Stop())
}

// playDemo plays the story as the simulator user, which may send commands
// as any partner and read their events (deployments/nats/accounts.conf).
func playDemo(ctx context.Context, proc *standalone.Processor, out io.Writer) error {
	nc, err := proc.Connect(natsauth.SimulatorUser, nats.Name("csp-demo"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(bus.DefaultPublishTimeout))
	if err != nil {
		return err
	}
	// The catalog the processor reads, so the demo buys an offer it sells.
	cat, err := catalog.LoadOrDefault(os.Getenv(catalog.EnvFile))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	return simulator.RunDemo(ctx, js, bus.DefaultEventStream, cat, out)
}
