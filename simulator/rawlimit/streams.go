package rawlimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// Stream and consumer names of the measurement. The subjects cannot be
// renamed (bus fixes them), so the streams need a server of their own: on a
// server with the processor's streams, creating them fails with overlapping
// subjects. Distinct names keep a mistake from touching the processor's data.
const (
	CommandStream    = "RAWLIMIT_COMMANDS"
	EventStream      = "RAWLIMIT_EVENTS"
	DeadLetterStream = "RAWLIMIT_DEADLETTER"
	ConsumerPrefix   = "rawlimit"
	// AnchorStream is an empty file stream that stays, see freshStreams.
	AnchorStream  = "RAWLIMIT_ANCHOR"
	anchorSubject = "rawlimit.anchor"
)

// StreamsConfig is the bus configuration the measurement runs with: the
// processor's stream layout under this package's names.
func StreamsConfig(partitions int) bus.StreamsConfig {
	return bus.StreamsConfig{
		CommandStream:    CommandStream,
		EventStream:      EventStream,
		DeadLetterStream: DeadLetterStream,
		Partitions:       partitions,
	}.WithDefaults()
}

// SubscriberConfig is the command subscriber's configuration: the
// processor's defaults with this package's consumer names.
func SubscriberConfig() bus.SubscriberConfig {
	return bus.SubscriberConfig{ConsumerPrefix: ConsumerPrefix}.WithDefaults()
}

// freshStreams deletes what an earlier measurement left (its streams stay
// after a run so they can be inspected) and creates the streams anew, so
// every run starts from empty streams and new consumers.
//
// The anchor stream is created first and never deleted. nats-server 2.15.2
// removes the account's streams directory in the background once a stream
// deletion leaves it empty, and a stream created meanwhile fails with "error
// creating store for stream" (mkdir .../streams: no such file or
// directory); an anchor keeps the directory from ever being empty.
func freshStreams(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, cfg bus.StreamsConfig) error {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: AnchorStream, Subjects: []string{anchorSubject}, Storage: jetstream.FileStorage, MaxMsgs: 1,
	})
	if err != nil {
		return fmt.Errorf("rawlimit: anchor stream: %w", err)
	}
	for _, name := range []string{cfg.CommandStream, cfg.EventStream, cfg.DeadLetterStream} {
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("rawlimit: delete stream %s: %w", name, err)
		}
	}
	if err := bus.EnsureStreams(ctx, js, nc, cfg); err != nil {
		return fmt.Errorf("rawlimit: %w (the measurement needs a NATS server of its own: "+
			"its streams capture the processor's subjects)", err)
	}
	return nil
}

// pollInterval is how often waitSettled re-reads the consumers. Only the
// tail after the timed part polls, so it does not affect the rates.
const pollInterval = 10 * time.Millisecond

// waitSettled waits until every partition's consumer has nothing pending
// and nothing unacknowledged: every command was delivered and acked. The
// acks travel after the events, so they may lag the last event a little.
func waitSettled(ctx context.Context, js jetstream.JetStream, cfg bus.StreamsConfig, sub bus.SubscriberConfig) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		busy, err := unsettled(ctx, js, cfg, sub)
		if err != nil {
			return err
		}
		if busy == "" {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("rawlimit: commands not all acked: %s: %w", busy, ctx.Err())
		}
	}
}

// unsettled names the first consumer with pending or unacknowledged
// commands, "" when there is none.
func unsettled(ctx context.Context, js jetstream.JetStream, cfg bus.StreamsConfig, sub bus.SubscriberConfig) (string, error) {
	for p := range cfg.Partitions {
		name := bus.ConsumerName(sub.ConsumerPrefix, p, cfg.Partitions)
		c, err := js.Consumer(ctx, cfg.CommandStream, name)
		if err != nil {
			return "", fmt.Errorf("rawlimit: consumer %s: %w", name, err)
		}
		info := c.CachedInfo()
		if info.NumPending != 0 || info.NumAckPending != 0 {
			return fmt.Sprintf("%s has %d pending, %d unacked", name, info.NumPending, info.NumAckPending), nil
		}
	}
	return "", nil
}
