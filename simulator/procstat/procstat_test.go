package procstat

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func skipUnlessLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
}

// spin burns CPU until this process's CPU time has grown past before, and
// returns the reading that shows it.
func spin(t *testing.T, before time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	x := 0
	for {
		after, err := CPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if after > before {
			_ = x
			return after
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU time stayed at %v for 30 s of spinning", before)
		}
		for i := range 1_000_000 {
			x += i
		}
	}
}

// CPU reads a process's CPU time: this process's grows while it spins,
// and never by more than the wall time times the cores it may use.
func TestProcessCPUGrowsWithWork(t *testing.T) {
	skipUnlessLinux(t)
	before, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	after := spin(t, before)
	if grew, limit := after-before, time.Since(start)*time.Duration(runtime.NumCPU())+10*time.Millisecond; grew > limit {
		t.Errorf("CPU time grew by %v in %v of wall time on %d cores", grew, time.Since(start), runtime.NumCPU())
	}
}

// Read's resident memory agrees with /proc/PID/status's VmRSS (both are
// this process's, read a moment apart) and grows when memory is touched.
func TestReadMemoryAgreesWithStatus(t *testing.T) {
	skipUnlessLinux(t)
	u, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	rss, peak, err := Memory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS <= 0 || rss <= 0 || peak < rss {
		t.Fatalf("stat rss %d, status rss %d peak %d", u.RSS, rss, peak)
	}
	if d := u.RSS - rss; d > 8<<20 || d < -8<<20 {
		t.Errorf("stat says %d bytes resident, status %d", u.RSS, rss)
	}
	block := make([]byte, 64<<20)
	for i := 0; i < len(block); i += 4096 {
		block[i] = 1
	}
	grown, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if grown.RSS < u.RSS+32<<20 {
		t.Errorf("resident memory %d after touching 64 MiB, %d before", grown.RSS, u.RSS)
	}
	runtime.KeepAlive(block)
}

// The meter's first reading is the baseline; the next gives the CPU the
// group used in between. A PID that cannot be read leaves its group out,
// and a PID seen for the first time adds none of its earlier CPU time.
func TestMeterGivesTheCPUOfEachInterval(t *testing.T) {
	skipUnlessLinux(t)
	self := os.Getpid()
	var m Meter
	t0 := time.Now()
	groups := []Group{{Name: "self", PIDs: []int{self}}, {Name: "gone", PIDs: []int{-1}}}
	if span, rs := m.Read(t0, groups); span != 0 || rs != nil {
		t.Fatalf("first reading gave span %v readings %v, want the baseline only", span, rs)
	}
	before, _ := CPU(self)
	after := spin(t, before)
	t1 := t0.Add(time.Second)
	span, rs := m.Read(t1, groups)
	if span != time.Second || len(rs) != 1 || rs[0].Name != "self" {
		t.Fatalf("span %v readings %+v, want 1s and the self group only", span, rs)
	}
	if rs[0].CPU < after-before || rs[0].RSS <= 0 {
		t.Errorf("self used %v (want at least %v) with %d bytes resident", rs[0].CPU, after-before, rs[0].RSS)
	}
	// The same process under a group's new member list: a PID not read
	// before contributes from now on, not its whole life.
	_, rs = m.Read(t1.Add(time.Second), []Group{{Name: "both", PIDs: []int{self, os.Getppid()}}})
	if len(rs) != 1 || rs[0].CPU > time.Second {
		t.Errorf("readings %+v: the parent's CPU since it started was counted", rs)
	}
}

// Watch records every interval and once more when stopped, so a run
// shorter than the interval still has a reading.
func TestWatchReadsOnceMoreWhenStopped(t *testing.T) {
	skipUnlessLinux(t)
	var got []Reading
	stop := Watch(time.Hour, func() []Group { return []Group{{Name: "self", PIDs: []int{os.Getpid()}}} },
		func(_ time.Time, span time.Duration, rs []Reading) {
			if span <= 0 {
				t.Errorf("span %v", span)
			}
			got = append(got, rs...)
		})
	stop()
	stop() // harmless
	if len(got) != 1 || got[0].Name != "self" || got[0].RSS <= 0 {
		t.Fatalf("readings %+v, want one of self", got)
	}
}
