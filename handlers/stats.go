package handlers

import (
	"sync/atomic"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// timerCounters count the timers' two ends in one processor: the
// timer.fired commands its scheduler published, and the timer commands its
// handler applied for the first time. Summed over the replicas, fired per
// applied above 1 means replicas fired timers another one fired too.
type timerCounters struct {
	fired, applied atomic.Uint64
}

// Stats is what a processor counted since it started.
type Stats struct {
	Customers state.CustomerStats
	// TimersFired counts the timer.fired commands the scheduler published
	// (stored in the command stream).
	TimersFired uint64
	// TimerCommandsApplied counts timer.fired commands whose commit was
	// Committed: a timer is applied once, whoever fired it how often. A
	// stale timer the rules ignore commits nothing and is not counted.
	TimerCommandsApplied uint64
	// Commands counts the commands by outcome, rejections, dead letters,
	// billing money, and per partition this replica consumes, its
	// redeliveries and oldest command in flight.
	Commands CommandStats
	// Outbox is what the outbox relay's last sweep left.
	Outbox state.Backlog
}

// Stats returns the processor's counters so far. It does no I/O.
func (p *Processor) Stats() Stats {
	return Stats{Customers: p.customers.Stats(), TimersFired: p.counters.fired.Load(), TimerCommandsApplied: p.counters.applied.Load(),
		Commands: p.commands.snapshot(p.sub.Partitions()), Outbox: p.relay.Backlog()}
}

// timerFired counts n timer commands published; nil counts nothing (a
// Scheduler or CommandHandler built outside NewProcessor).
func (c *timerCounters) timerFired(n int) {
	if c != nil {
		c.fired.Add(uint64(n))
	}
}

// commandApplied counts a timer command when its commit was the first.
func (c *timerCounters) commandApplied(typ messages.CommandType, status state.CommitStatus) {
	if c != nil && typ == messages.CmdTimerFired && status == state.Committed {
		c.applied.Add(1)
	}
}
