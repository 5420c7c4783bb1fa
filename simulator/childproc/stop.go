package childproc

import (
	"os"
	"syscall"
	"time"
)

// Stop asks a child to end (SIGTERM: a processor drains its commands and
// flushes its outbox) and kills it if it has not exited after grace. exited
// is closed when the child has been waited for. It reports whether the
// child had to be killed.
func Stop(p *os.Process, exited <-chan struct{}, grace time.Duration) (killed bool) {
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return false
	case <-time.After(grace):
		_ = p.Kill()
		<-exited
		return true
	}
}
