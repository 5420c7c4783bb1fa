package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/cspreseller/csp-processor/simulator/childproc"
)

// replica is one processor process; a killed replica is started again
// under the same REPLICA_ID and DATA_DIR.
type replica struct {
	id     string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *childproc.OutputTail
	// opsAddr is where the process serves /metrics (its OPS_ADDR).
	opsAddr string
}

// startReplica runs bin with env added to this process's environment.
func startReplica(id, bin string, env []string, log io.Writer) (*replica, error) {
	r := &replica{id: id, cmd: exec.Command(bin), exited: make(chan struct{}), out: &childproc.OutputTail{}}
	r.cmd.Env = append(os.Environ(), env...)
	r.cmd.SysProcAttr = childproc.Attr()
	pr, pw := io.Pipe()
	r.cmd.Stdout, r.cmd.Stderr = pw, pw
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cluster: start processor %s: %w", id, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			r.out.Add(sc.Text())
			if log != nil {
				fmt.Fprintf(log, "[%s] %s\n", id, sc.Text())
			}
		}
		_, _ = io.Copy(io.Discard, pr) // never block the process on its output
	}()
	go func() {
		_ = r.cmd.Wait()
		_ = pw.Close()
		close(r.exited)
	}()
	return r, nil
}

func (r *replica) running() bool {
	select {
	case <-r.exited:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits until
// it exited.
func (r *replica) kill() error {
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cluster: kill processor %s: %w", r.id, err)
	}
	<-r.exited
	return nil
}

// stop asks the process to hand its partitions back and end (SIGTERM),
// and kills it after grace.
func (r *replica) stop(grace time.Duration) { childproc.Stop(r.cmd.Process, r.exited, grace) }
