package cluster

import (
	"errors"
	"time"

	"github.com/cspreseller/csp-processor/simulator/procstat"
)

// Names of the process groups (Processes) and of the simulator report's
// resource series.
const (
	GroupNATS       = "NATS"
	GroupRedis      = "Redis"
	GroupProcessors = "processors"
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

// Processes are the cluster's running processes by kind: the NATS nodes,
// the Redis nodes and the processor replicas (a killed one is left out
// until it is started again, under a new PID).
func (c *Cluster) Processes() []procstat.Group {
	var nats, redis, procs []int
	for i := range c.NATS.Size() {
		if pid := c.NATS.PID(i); pid != 0 {
			nats = append(nats, pid)
		}
	}
	for _, n := range c.Redis.Nodes() {
		if pid := n.PID(); pid != 0 {
			redis = append(redis, pid)
		}
	}
	c.mu.Lock()
	for _, r := range c.replicas {
		if r.running() {
			procs = append(procs, r.cmd.Process.Pid)
		}
	}
	c.mu.Unlock()
	return []procstat.Group{{Name: GroupNATS, PIDs: nats}, {Name: GroupRedis, PIDs: redis}, {Name: GroupProcessors, PIDs: procs}}
}

// CPU reads every running process's CPU time from /proc (Linux only). A
// process killed between two readings makes their difference meaningless;
// the sizing runs kill nothing.
func (c *Cluster) CPU() (CPU, error) {
	var cpu CPU
	var errs []error
	for _, g := range c.Processes() {
		var sum time.Duration
		for _, pid := range g.PIDs {
			d, err := procstat.CPU(pid)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			sum += d
		}
		switch g.Name {
		case GroupNATS:
			cpu.NATS = sum
		case GroupRedis:
			cpu.Redis = sum
		case GroupProcessors:
			cpu.Processors = sum
		}
	}
	return cpu, errors.Join(errs...)
}
