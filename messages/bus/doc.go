// Package bus is the processor's JetStream layer: the command, event and
// dead-letter streams (EnsureStreams), a watermill Subscriber that consumes
// commands one at a time per customer, several per partition (CommandSubscriber), a
// watermill Publisher that returns only once JetStream stored every
// message (Publisher), and an embedded nats-server (StartEmbedded).
//
// Commands are published to csp.cmd.<partner>.<role>.<customer>.<type...>.
// The command stream's subject transform stores each under
// csp.cmdp.<slot>.<partner>.<role>.<customer>.<type...>, the slot being
// FNV-1a of the customer token modulo 1024 (SlotOf). A partition is a
// contiguous range of slots with one durable pull consumer; the
// subscriber holds up to MaxInFlight commands of a partition and hands
// one per customer at a time to the router, which keeps every customer's
// commands in publish order (guarantee G3, README). README.md next to this
// file explains each setting.
package bus
