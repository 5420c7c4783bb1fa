package cluster

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU is the processor time the cluster's processes have used so far, by
// kind of server. Two readings around a run, divided by its wall time,
// say how many cores each kind used: on one machine the kinds compete for
// the same cores, and the one using most is the first limit.
type CPU struct {
	NATS, Redis, Processors time.Duration
}

// Sub is c minus an earlier reading.
func (c CPU) Sub(earlier CPU) CPU {
	return CPU{NATS: c.NATS - earlier.NATS, Redis: c.Redis - earlier.Redis, Processors: c.Processors - earlier.Processors}
}

// CPU reads every running process's CPU time from /proc (Linux only). A
// process killed between two readings makes their difference meaningless;
// the sizing runs kill nothing.
func (c *Cluster) CPU() (CPU, error) {
	var cpu CPU
	var errs []error
	add := func(to *time.Duration, pid int) {
		if pid == 0 {
			return
		}
		d, err := ProcessCPU(pid)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*to += d
	}
	for i := range c.NATS.Size() {
		add(&cpu.NATS, c.NATS.PID(i))
	}
	for _, n := range c.Redis.Nodes() {
		add(&cpu.Redis, n.PID())
	}
	c.mu.Lock()
	for _, r := range c.replicas {
		if r.running() {
			add(&cpu.Processors, r.cmd.Process.Pid)
		}
	}
	c.mu.Unlock()
	return cpu, errors.Join(errs...)
}

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times: 100
// on every architecture Go supports (the kernel's HZ may differ; this
// does not).
const clockTicks = 100

// ProcessCPU is the user and system CPU time process pid has used, from
// /proc/PID/stat.
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var ticks int64
	for _, field := range f[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
