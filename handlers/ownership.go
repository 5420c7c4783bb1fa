package handlers

import (
	"context"
	"slices"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
)

// partitionOwner is what the lease keeper drives when the processor is one
// of several replicas (Config.Leases): a partition whose lease this replica
// acquired is consumed under the lease's fence, which every commit of its
// commands carries (bus.MetaFence, state.Commit.Fence); a partition lost
// or given away stops before the keeper lets go of the lease, so two
// replicas never pull one partition at once (G3). The scheduler fires the
// timers, and the outbox relay sweeps the customers, of the partitions
// being consumed (CommandSubscriber.Partitions), so those follow the
// leases too.
type partitionOwner struct {
	sub *bus.CommandSubscriber
}

var _ lease.Owner = partitionOwner{}

// Acquire starts consuming the partition. The subscriber holds back its
// commands until those a previous owner died with are back (bus README,
// CommandSubscriber, "Starting a partition"). If this replica's own consumer of
// an earlier lease of the partition is still stopping (its Release ran
// out of time), Acquire waits for it, until the lease is lost.
func (o partitionOwner) Acquire(ctx context.Context, l lease.Lease) error {
	return o.sub.StartPartition(ctx, l.Partition, l.Fence)
}

// Release stops consuming the partition and returns once nothing of it is
// in flight. An error (ctx ended first) makes the keeper leave the lease
// to expire rather than hand it over as cleanly stopped.
func (o partitionOwner) Release(ctx context.Context, partition int) error {
	return o.sub.StopPartition(ctx, partition)
}

// ownsCustomer reports whether this replica consumes the partition of a
// customer: the outbox relay's filter.
func (o partitionOwner) ownsCustomer(partitions int) func(customerID string) bool {
	return func(customerID string) bool {
		return slices.Contains(o.sub.Partitions(), bus.PartitionOf(customerID, partitions))
	}
}
