package cluster

import (
	"os"
	"runtime"
	"testing"
	"time"
)

// ProcessCPU reads a process's CPU time: this process's grows while it
// spins, and never by more than the wall time times the cores it may use.
func TestProcessCPUGrowsWithWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	var after time.Duration
	x := 0
	for after <= before {
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v for 30 s of spinning", before)
		}
		for i := range 1_000_000 {
			x += i
		}
		if after, err = ProcessCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	_ = x
	if grew, limit := after-before, time.Since(start)*time.Duration(runtime.NumCPU())+10*time.Millisecond; grew > limit {
		t.Errorf("CPU time grew by %v in %v of wall time on %d cores", grew, time.Since(start), runtime.NumCPU())
	}
}
