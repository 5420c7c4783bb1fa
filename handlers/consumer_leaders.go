package handlers

import (
	"context"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// spreadConsumerLeadersTimeout bounds the spreading at start-up: it is an
// improvement of the load's spread, not a condition of running.
const spreadConsumerLeadersTimeout = 30 * time.Second

// spreadConsumerLeaders moves the command consumers' leaders on a JetStream
// cluster so that no node leads more than its share: node restarts pile
// them onto the node that stayed up (28 of 32 on one node after two
// restarts, messages/bus leaders_cluster_test.go), which then carries every
// partition's pulls and acks and whose death stalls them all at once. A
// failure is logged and start-up goes on.
func spreadConsumerLeaders(ctx context.Context, js jetstream.JetStream, bc bus.Config, logger watermill.LoggerAdapter) {
	if bc.Streams.Replicas < 2 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, spreadConsumerLeadersTimeout)
	defer cancel()
	moved, err := bus.SpreadCommandConsumerLeaders(ctx, js, bc.Streams, bc.Subscriber.ConsumerPrefix)
	if err != nil {
		logger.Error("Spreading the command consumers' leaders over the cluster failed", err, nil)
		return
	}
	if moved > 0 {
		logger.Info("Moved command consumer leaders to spread them over the cluster", watermill.LogFields{"moved": moved})
	}
}
