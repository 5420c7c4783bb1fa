// Package scratch makes the temporary directories where the simulator's own
// servers (its embedded NATS, its private redis-server) keep their data.
//
// That data lives only as long as one run and is deleted after it, so it
// goes to memory (/dev/shm) where the machine has it: on a small virtual
// machine every file operation of the broker's store is a costly trip
// through the hypervisor, and a run would measure the disk of the test
// machine instead of the processor. The raw-limit measurement uses the same
// place, so the ratio of the two compares like with like. A run given -dir
// keeps its data there, on disk, instead.
package scratch

import (
	"os"
)

// memoryDir is where Dir puts directories when it exists and is writable.
var memoryDir = "/dev/shm"

// Dir creates a new directory named after pattern (as os.MkdirTemp) in
// memory when the machine has /dev/shm, else in the system's temporary
// directory. The caller removes it.
func Dir(pattern string) (string, error) {
	if st, err := os.Stat(memoryDir); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp(memoryDir, pattern); err == nil {
			return dir, nil
		}
	}
	return os.MkdirTemp("", pattern)
}
