// Package simulator plays the upstream order system and the billing
// system: it publishes commands, consumes the processor's events and
// checks them. This first slice carries the upstream client, the event
// watcher and the demo story the README's run command shows.
//
// A run survives its servers' failures the way a real upstream must: a
// command is published until JetStream stored it, again with the same
// Nats-Msg-Id when its PubAck fails or does not come (store.go); a clock
// move is asked again when its answer does not come (clock.go); and every
// wait for the processor has a deadline with a counted outcome, a command
// without any event being reported lost rather than waited for
// (ledger_lost.go). simulator/faulttest kills NATS, Redis and the
// processor under load and requires the run to end with nothing lost.
package simulator
