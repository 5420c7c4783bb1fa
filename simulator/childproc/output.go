package childproc

import (
	"strings"
	"sync"
)

// OutputTail keeps the last 60 lines of a child process's output, to
// explain a failure without growing for the life of a run (the cluster's
// replicas, the fault tests' processes, the demo's processor).
type OutputTail struct {
	mu    sync.Mutex
	lines []string
}

// Add appends one line of output.
func (b *OutputTail) Add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > 60 {
		b.lines = b.lines[len(b.lines)-60:]
	}
}

func (b *OutputTail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
