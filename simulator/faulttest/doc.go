// Package faulttest runs the simulator's load against a processor whose
// servers fail under it, all of them real processes: a nats-server built
// from the module (JetStream, every write synced), a private redis-server
// (AOF, appendfsync always) and the processor binary. Each test kills one
// of them with SIGKILL at a random instant of the load and starts it again
// on the same port and data, then requires the run to end as a run without
// faults does: every command answered, no event twice, every amount equal
// to the simulator's model.
//
// Each test logs a line per fault and one for the run, in a fixed format:
//
//	fault=redis-restart at=4.4s outage=0.12s recovery=0.26s inflight=0 backlog=0.00s
//	fault=redis-restart recovery_max=0.26s lost=0 dup=0 mismatches=0 commands=3600 checked=2100
//
// outage is from the kill until the server answers again; recovery is from
// then (for the processor: from the kill) until the first command's
// outcome whose event the broker stored after that instant, the moment
// the system works again. inflight counts the commands waiting for an
// answer at the kill, and backlog is from the kill until the last of them
// was answered (a command the processor was deciding comes back after its
// ack wait, ACK_WAIT=5s here). `make faults` runs only these tests,
// verbosely.
//
// The fault instants are random; each test logs the FAULT_SEED it drew
// them with, and FAULT_SEED=<n> repeats them.
//
// The tests live in _test files only; this file documents the package.
package faulttest
