package natscluster

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one nats-server process and the last lines of its output.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	out    *tail
	ready  chan struct{} // closed when "Server is ready" was printed
}

// readyLine is what nats-server prints once it accepts clients (its
// JetStream store recovered by then).
const readyLine = "Server is ready"

func startProcess(bin string, args, env []string) (*process, error) {
	p := &process{cmd: exec.Command(bin, args...), exited: make(chan struct{}), out: &tail{}, ready: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.SysProcAttr = dieWithParent()
	pr, pw := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = pw, pw
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(pr)
		seen := false
		for sc.Scan() {
			p.out.add(sc.Text())
			if !seen && strings.Contains(sc.Text(), readyLine) {
				seen = true
				close(p.ready)
			}
		}
		_, _ = io.Copy(io.Discard, pr) // never block the process on its output
	}()
	go func() {
		_ = p.cmd.Wait()
		_ = pw.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitReady returns once the process is ready, or an error when it exited
// first or timeout passed.
func (p *process) waitReady(timeout time.Duration) error {
	select {
	case <-p.ready:
		return nil
	case <-p.exited:
		return errors.New("exited before it was ready")
	case <-time.After(timeout):
		return errors.New("not ready within " + timeout.String())
	}
}

// kill ends the process with SIGKILL and waits until it exited.
func (p *process) kill() error {
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.exited
	return nil
}

// stop asks the process to end (SIGTERM) and kills it after grace.
func (p *process) stop(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.kill()
	}
}

func (p *process) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// tail keeps the last lines of a process's output.
type tail struct {
	mu    sync.Mutex
	lines []string
}

const tailLines = 80

func (b *tail) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > tailLines {
		b.lines = b.lines[len(b.lines)-tailLines:]
	}
}

func (b *tail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
