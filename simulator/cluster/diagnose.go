package cluster

import (
	"context"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// Diagnose describes, for a test that waited in vain, where the commands
// are: who holds each partition's lease, and what each partition's
// consumer has pending, delivered and unacked. Read as the processor user.
func (c *Cluster) Diagnose(ctx context.Context) string {
	var b strings.Builder
	holders, err := c.PartitionHolders(ctx)
	fmt.Fprintf(&b, "lease holders: %v (err %v)\n", holders, err)
	c.mu.Lock()
	for i, r := range c.replicas {
		if r != nil {
			fmt.Fprintf(&b, "%s running=%v\n", ReplicaID(i), r.running())
		}
	}
	c.mu.Unlock()
	nc, err := c.natsConfig("processor").Connect()
	if err != nil {
		return b.String() + fmt.Sprintf("connect: %v\n", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return b.String() + fmt.Sprintf("jetstream: %v\n", err)
	}
	for p := range c.opt.Partitions {
		name := bus.ConsumerName(bus.DefaultConsumerPrefix, p, c.opt.Partitions)
		cons, err := js.Consumer(ctx, c.Streams.CommandStream, name)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", name, err)
			continue
		}
		ci := cons.CachedInfo()
		leader := ""
		if ci.Cluster != nil {
			leader = ci.Cluster.Leader
		}
		fmt.Fprintf(&b, "%s: pending=%d ack_pending=%d redelivered=%d waiting=%d delivered=%d ack_floor=%d leader=%s\n",
			name, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.NumWaiting, ci.Delivered.Stream, ci.AckFloor.Stream, leader)
	}
	return b.String()
}
