// Command cspctl is the operator's tool for a running processor: it reads
// customers' state, timers, outboxes, partitions and the simulated clock,
// and lists, shows, replays and purges dead letters, all through the
// processor's operator service (NATS micro service csp-operator, subjects
// csp.ops.*; messages/operator.go). It connects as the processor does
// (NATS_URL and the credential and TLS settings, connect.go), as the NATS
// user operator, which the shipped permissions allow that service and
// nothing else.
//
// `cspctl -h` lists the commands; the README's "Operating: cspctl" section
// has an example of each.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the service refused or failed, or NATS could not be reached
	exitUsage = 2 // the command line is wrong
)

// run is cspctl with its arguments (without the program name), its
// environment and its output; it returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	global := quietFlags("cspctl")
	asJSON := global.Bool("json", false, "print the service's JSON answer as it is")
	timeout := global.Duration("timeout", 15*time.Second, "how long to wait for an answer")
	err := global.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, global)
		return exitOK
	}
	var cmd *command
	var rest []string
	if err == nil {
		cmd, rest, err = lookup(global.Args())
	}
	if err != nil {
		fmt.Fprintf(stderr, "cspctl: %v\n\n", err)
		printUsage(stderr, global)
		return exitUsage
	}
	fs := quietFlags("cspctl " + cmd.name)
	commandUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: cspctl %s %s\n\n%s\n", cmd.name, cmd.args, cmd.help)
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	parsed, err := cmd.parse(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "cspctl %s: %v\n\n", cmd.name, err)
		commandUsage(stderr)
		return exitUsage
	}
	if err := connectAndRun(ctx, getenv, *timeout, *asJSON, stdout, parsed); err != nil {
		fmt.Fprintf(stderr, "cspctl %s: %v\n", cmd.name, err)
		return exitError
	}
	return exitOK
}

// quietFlags is a flag set that prints nothing itself: run says what was
// wrong and shows the usage once.
func quietFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// connectAndRun connects as the operator and runs a parsed command.
func connectAndRun(ctx context.Context, getenv func(string) string, timeout time.Duration, asJSON bool, stdout io.Writer, run func(c *ctl) error) error {
	nc, err := connect(getenv)
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return run(&ctl{ctx: ctx, nc: nc, out: stdout, asJSON: asJSON})
}

// lookup finds the command the arguments name ("dlq" takes a second word).
func lookup(args []string) (*command, []string, error) {
	if len(args) == 0 {
		return nil, nil, errors.New("no command given")
	}
	name, rest := args[0], args[1:]
	if name == "dlq" {
		if len(rest) == 0 {
			return nil, nil, errors.New("dlq: say list, show, replay or purge")
		}
		name, rest = "dlq "+rest[0], rest[1:]
	}
	for i := range commands {
		if commands[i].name == name {
			return &commands[i], rest, nil
		}
	}
	return nil, nil, fmt.Errorf("unknown command %q", name)
}

func printUsage(w io.Writer, global *flag.FlagSet) {
	fmt.Fprintf(w, `Usage: cspctl [-json] [-timeout 15s] <command> [flags] [arguments]

Reads and repairs a running processor through its operator service
(NATS micro service %s, subjects %s.*), as the NATS user operator.

Commands:
`, messages.OperatorServiceName, messages.OperatorSubjectPrefix)
	for _, c := range commands {
		fmt.Fprintf(w, "  %s %s\n", c.name, c.args)
		for _, line := range strings.Split(c.help, "\n") {
			fmt.Fprintf(w, "      %s\n", line)
		}
	}
	fmt.Fprintf(w, "\n`cspctl <command> -h` shows a command's flags.\n\nGlobal flags:\n")
	global.SetOutput(w)
	global.PrintDefaults()
	fmt.Fprint(w, connectionHelp)
}
