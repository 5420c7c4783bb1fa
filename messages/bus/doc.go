// Package bus is the processor's JetStream layer: the command, event and
// dead-letter streams (EnsureStreams), a watermill Subscriber that consumes
// commands one at a time per customer partition (CommandSubscriber), a
// watermill Publisher that returns only once JetStream stored every
// message (Publisher), and an embedded nats-server (StartEmbedded).
//
// Commands are published to csp.cmd.<partner>.<customer>.<type...>. The
// command stream's subject transform stores each under
// csp.cmdp.<partition>.<partner>.<customer>.<type...>, the partition being
// FNV-1a of the customer token modulo the partition count (PartitionOf).
// One durable pull consumer per partition with MaxAckPending 1 keeps every
// customer's commands in publish order across crashes and any number of
// replicas (guarantee G3, README). README.md next to this file explains each
// setting.
package bus
