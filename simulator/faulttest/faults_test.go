package faulttest

import (
	"fmt"
	"testing"
	"time"
)

// Redis dies (SIGKILL) under load and comes back on its port with its AOF:
// the processor reconnects, the commands it could not commit are retried
// or redelivered, and the run ends with every command answered once and
// every amount as the model says.
func TestFault_RedisKilledAndRestartedUnderLoad(t *testing.T) {
	g := newRig(t)
	wait := g.run(g.load("redis"))
	at := g.pause(4*time.Second, 10*time.Second)
	f := g.begin("redis-restart", fmt.Sprintf("at=%.1fs", at.Seconds()))
	f.back = g.restartRedis()
	g.check(f.name, wait(), g.recovered(f))
}

// NATS dies (SIGKILL) under load and comes back on its port with its
// JetStream store: the simulator's publishes and clock moves wait for the
// reconnection and are retried with the same message IDs, the processor's
// consumers resume, and the run ends as without the fault.
func TestFault_NATSKilledAndRestartedUnderLoad(t *testing.T) {
	g := newRig(t)
	wait := g.run(g.load("nats"))
	at := g.pause(4*time.Second, 10*time.Second)
	f := g.begin("nats-restart", fmt.Sprintf("at=%.1fs", at.Seconds()))
	f.back = g.nats.restart(t)
	g.check(f.name, wait(), g.recovered(f))
}

// The processor is killed (SIGKILL) three times at random instants of the
// load and started again at once: what it was deciding is redelivered
// after its ack wait (5 s) and decided once, and the run ends as without
// the kills. Recovery counts from the kill.
func TestFault_ProcessorKilledRepeatedlyUnderLoad(t *testing.T) {
	g := newRig(t)
	wait := g.run(g.load("proc"))
	var worst time.Duration
	for k := 1; k <= 3; k++ {
		at := g.pause(2*time.Second, 5*time.Second)
		f := g.begin("processor-kill", fmt.Sprintf("kill=%d after=%.1fs", k, at.Seconds()))
		g.proc.kill(t)
		f.back = f.killed
		g.startProcessor()
		worst = max(worst, g.recovered(f))
	}
	g.check("processor-kill", wait(), worst)
}
