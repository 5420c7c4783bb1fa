package faulttest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/simulator/childproc"
	"github.com/cspreseller/csp-processor/simulator/scratch"
)

// binDir holds the binaries built for this test binary (TestMain).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faulttest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// built maps a package to its binary, built once per test binary.
var built sync.Map // package path -> func() (string, error)

// binary builds the main package pkg (a module path: nats-server comes
// from the module's own requirements) once and returns its path.
func binary(t *testing.T, pkg string) string {
	t.Helper()
	build, _ := built.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		bin := filepath.Join(binDir, filepath.Base(strings.TrimSuffix(pkg, "/v2")))
		out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		return bin, nil
	}))
	bin, err := build.(func() (string, error))()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// process is a child process of the test, its output kept for the log of
// a failed test.
type process struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *childproc.OutputTail
}

// start runs bin with env added to the test's environment. ready, when
// set, is a line of the output that says the process is ready: start
// returns once it was printed.
func start(t *testing.T, name, bin string, args, env []string, ready string) *process {
	t.Helper()
	p := &process{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{}), out: &childproc.OutputTail{}}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	seen := make(chan struct{})
	go func(want string) {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.out.Add(sc.Text())
			if want != "" && strings.Contains(sc.Text(), want) {
				want = ""
				close(seen)
			}
		}
		_, _ = io.Copy(io.Discard, pr) // never block the process on its output
	}(ready)
	go func() {
		_ = p.cmd.Wait()
		_ = pw.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last output of %s (pid %d):\n%s", name, p.cmd.Process.Pid, p.out)
		}
	})
	if ready == "" {
		return p
	}
	select {
	case <-seen:
	case <-p.exited:
		t.Fatalf("%s exited before it was ready:\n%s", name, p.out)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready within 30 s:\n%s", name, p.out)
	}
	return p
}

// kill ends the process with SIGKILL and waits until it exited.
func (p *process) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill %s: %v", p.name, err)
	}
	<-p.exited
}

// stop asks the process to end (SIGTERM) and kills it after 20 s.
func (p *process) stop() { childproc.Stop(p.cmd.Process, p.exited, 20*time.Second) }

// natsServer is a nats-server process with JetStream, syncing every write
// before acknowledging it as the processor's embedded server does, on a
// fixed port and store directory so that it can be started again after a
// kill with what it had stored.
type natsServer struct {
	bin, conf string
	port      int
	proc      *process
}

func startNATS(t *testing.T, dir string) *natsServer {
	t.Helper()
	n := &natsServer{bin: binary(t, "github.com/nats-io/nats-server/v2"), port: freePort(t), conf: filepath.Join(dir, "nats.conf")}
	conf := fmt.Sprintf("listen: \"127.0.0.1:%d\"\njetstream {\n  store_dir: %q\n  sync_interval: always\n}\n", n.port, filepath.Join(dir, "nats"))
	if err := os.WriteFile(n.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	n.run(t)
	t.Cleanup(func() { n.proc.stop() })
	return n
}

// run starts the server and returns once it accepts clients (JetStream's
// store is recovered by then).
func (n *natsServer) run(t *testing.T) {
	n.proc = start(t, "nats-server", n.bin, []string{"-c", n.conf}, nil, "Server is ready")
}

// restart kills the server and starts it again; it returns the instant
// the new one was ready.
func (n *natsServer) restart(t *testing.T) time.Time {
	n.proc.kill(t)
	n.run(t)
	return time.Now()
}

func (n *natsServer) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// dataDir is a directory for the servers' data, in memory where the
// machine has /dev/shm (a process kill keeps it; fsync costs nothing).
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := scratch.Dir("faulttest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// withDeadline is a context for one wait of a test.
func withDeadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
