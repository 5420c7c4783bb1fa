// Package standalone runs the processor binary the way `make serve` does:
// with its embedded NATS server (the shipped users of
// deployments/nats/accounts.conf, passwords generated into
// DATA_DIR/nats-auth/credentials.env), its private redis-server and its data
// in DATA_DIR. Start returns once the processor says it runs, with its
// server's URL and its users' passwords, so that a client connects as a
// real user with a real user's permissions: the demo (`simulator demo`)
// connects as "simulator", the examples' test as a partner and as billing.
//
// The processor is its own process, as an operator runs it, so the
// processor binary imports no simulator code.
package standalone

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/simulator/childproc"
)

// processorPackage is built when Options.Bin is empty; by import path, so
// that it builds from any directory inside the module.
const processorPackage = "github.com/cspreseller/csp-processor/cmd/processor"

// What the processor prints at start (cmd/processor/main.go): the embedded
// server's URL, then, once its consumers run, that it is running.
var (
	embeddedURLLine = regexp.MustCompile(`^embedded NATS with JetStream on (\S+) `)
	runningLine     = "processor running"
)

// startTimeout bounds the processor's start: the streams, the consumers
// and a redis-server on a loaded machine take seconds, not minutes.
const startTimeout = 60 * time.Second

// Options configure Start.
type Options struct {
	// Bin is the processor binary; empty: go build the module's
	// cmd/processor into a temporary directory.
	Bin string
	// DataDir is the processor's DATA_DIR. Required: the passwords are
	// read from there.
	DataDir string
	// Env is added to this process's environment for the processor
	// (NATS_PORT, LOG_LEVEL, ...). NATS_URL may be set in neither: this
	// package runs the processor with its embedded server.
	Env []string
	// Log receives the processor's output, line by line (nil: discarded).
	Log io.Writer
}

// Processor is a running processor process.
type Processor struct {
	// URL is its embedded NATS server's client URL.
	URL string
	// Credentials are the passwords of the shipped users on that server.
	Credentials *natsauth.Credentials

	cmd    *exec.Cmd
	exited chan struct{}
	out    *childproc.OutputTail
	binDir string
}

// Start builds (unless Options.Bin) and starts the processor and returns
// once it runs.
func Start(ctx context.Context, opt Options) (*Processor, error) {
	if opt.DataDir == "" {
		return nil, errors.New("standalone: no data directory")
	}
	for _, kv := range append(os.Environ(), opt.Env...) {
		if v, ok := strings.CutPrefix(kv, "NATS_URL="); ok && v != "" {
			return nil, errors.New("standalone: NATS_URL is set, but this runs the processor with its embedded NATS server; unset it")
		}
	}
	p := &Processor{exited: make(chan struct{}), out: &childproc.OutputTail{}}
	bin := opt.Bin
	if bin == "" {
		var err error
		if p.binDir, err = os.MkdirTemp("", "csp-processor-bin-"); err != nil {
			return nil, fmt.Errorf("standalone: %w", err)
		}
		bin = filepath.Join(p.binDir, "processor")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, processorPackage).CombinedOutput(); err != nil {
			_ = os.RemoveAll(p.binDir)
			return nil, fmt.Errorf("standalone: go build %s (run it inside the repository, or give the binary): %v\n%s", processorPackage, err, out)
		}
	}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(append(os.Environ(), "DATA_DIR="+opt.DataDir), opt.Env...)
	p.cmd.SysProcAttr = childproc.Attr()
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		_ = os.RemoveAll(p.binDir)
		return nil, fmt.Errorf("standalone: start %s: %w", bin, err)
	}
	urls, running, read := make(chan string, 1), make(chan struct{}), make(chan struct{})
	go func() { p.readOutput(pr, opt.Log, urls, running); close(read) }()
	// exited closes once the process was waited for and all its output
	// went to Log, so that a caller may read Log after Stop.
	go func() {
		_ = p.cmd.Wait()
		_ = pw.Close()
		<-read
		close(p.exited)
	}()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case <-running:
	case <-p.exited:
		return nil, p.failed(fmt.Errorf("the processor exited at start (%v)", p.cmd.ProcessState))
	case <-ctx.Done():
		return nil, p.failed(fmt.Errorf("the processor did not say %q: %w", runningLine, ctx.Err()))
	}
	select {
	case p.URL = <-urls:
	default:
		return nil, p.failed(errors.New("the processor printed no embedded NATS URL"))
	}
	var err error
	if p.Credentials, err = natsauth.Load(filepath.Join(opt.DataDir, natsauth.CredentialsDir)); err != nil {
		return nil, p.failed(err)
	}
	return p, nil
}

// readOutput passes the processor's lines to log and reports the embedded
// server's URL and the running line as they come.
func (p *Processor) readOutput(r io.Reader, log io.Writer, urls chan<- string, running chan<- struct{}) {
	sc := bufio.NewScanner(r)
	announced := false
	for sc.Scan() {
		line := sc.Text()
		p.out.Add(line)
		if log != nil {
			fmt.Fprintln(log, line)
		}
		if m := embeddedURLLine.FindStringSubmatch(line); m != nil {
			select {
			case urls <- m[1]:
			default:
			}
		}
		if !announced && strings.HasPrefix(line, runningLine) {
			announced = true
			close(running)
		}
	}
	_, _ = io.Copy(io.Discard, r) // never block the process on its output
}

// failed stops the process and returns err with its last output.
func (p *Processor) failed(err error) error {
	_ = p.Stop()
	return fmt.Errorf("standalone: %w\n%s", err, p.out)
}

// Connect connects to the processor's server as one of the shipped users,
// with its password and its own inbox prefix (the only one its
// permissions allow); opts add to those.
func (p *Processor) Connect(user string, opts ...nats.Option) (*nats.Conn, error) {
	pw := p.Credentials.Password(user)
	if pw == "" {
		return nil, fmt.Errorf("standalone: %s has no password for user %q", p.Credentials.Path, user)
	}
	base := []nats.Option{nats.UserInfo(user, pw), nats.CustomInboxPrefix(natsauth.InboxPrefix(user))}
	nc, err := nats.Connect(p.URL, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("standalone: connect as %s: %w", user, err)
	}
	return nc, nil
}

// Output is the processor's last lines of output.
func (p *Processor) Output() string { return p.out.String() }

// Stop asks the processor to stop as an operator does (SIGTERM: it drains
// its commands and flushes its outbox), kills it after 20 s, and returns
// its exit error. Calling it again returns nil.
func (p *Processor) Stop() error {
	defer os.RemoveAll(p.binDir)
	select {
	case <-p.exited:
		return nil
	default:
	}
	if childproc.Stop(p.cmd.Process, p.exited, 20*time.Second) {
		return errors.New("standalone: the processor did not stop within 20 s of SIGTERM; killed")
	}
	if st := p.cmd.ProcessState; !st.Success() {
		return fmt.Errorf("standalone: the processor stopped with %v", st)
	}
	return nil
}
