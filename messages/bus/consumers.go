package bus

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerName is the durable name of partition p's consumer among
// partitions: "<prefix>-p<NN>of<partitions>". The partition count is part
// of the name, so a consumer is never reused with another filter after
// the count changed: a new count gets new consumers (see
// ensureConsumers for where they start).
func ConsumerName(prefix string, p, partitions int) string {
	return fmt.Sprintf("%s-p%02dof%d", prefix, p, partitions)
}

// consumerNamePattern matches the names ConsumerName gives for prefix,
// capturing the partition and the count.
func consumerNamePattern(prefix string) *regexp.Regexp {
	return regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `-p(\d+)of(\d+)$`)
}

// ConsumerConfig is the configuration of partition p's durable consumer
// among partitions.
func ConsumerConfig(cfg SubscriberConfig, p, partitions int) jetstream.ConsumerConfig {
	cfg = cfg.WithDefaults()
	cc := jetstream.ConsumerConfig{
		Durable:       ConsumerName(cfg.ConsumerPrefix, p, partitions),
		Description:   fmt.Sprintf("CSP commands of partition %d of %d", p, partitions),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: cfg.MaxInFlight,
	}
	// The server stores a single filter as FilterSubject; asking for it
	// that way keeps the stored and the wanted configuration comparable.
	if f := PartitionFilters(p, partitions); len(f) == 1 {
		cc.FilterSubject = f[0]
	} else {
		cc.FilterSubjects = f
	}
	return cc
}

// consumerFilters is every filter subject of a consumer configuration.
func consumerFilters(cc jetstream.ConsumerConfig) []string {
	if cc.FilterSubject != "" {
		return append([]string{cc.FilterSubject}, cc.FilterSubjects...)
	}
	return cc.FilterSubjects
}

// EnsureConsumers creates or updates the durable consumers of every
// partition on the command stream and returns them, in partition order.
// Subscribe calls it; it is exported for operator tools.
func EnsureConsumers(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, cfg SubscriberConfig) ([]jetstream.Consumer, error) {
	return ensureConsumers(ctx, js, streams.WithDefaults(), cfg.WithDefaults())
}

// ensureConsumers creates the consumers of every partition that lack
// one, and updates the settings a replica may change (AckWait,
// MaxInFlight) on those that exist.
//
// New consumers start where consumers of another partition count (an
// earlier PARTITIONS) left off: at the lowest stream sequence any of them
// had not finished (see handoverStart). What lies between that and where
// each old consumer actually was is delivered again and answered by the
// inbox as duplicates (G1), in stream order (G3). Once every new consumer
// exists the old ones are deleted, so a later start does not see them.
func ensureConsumers(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, cfg SubscriberConfig) ([]jetstream.Consumer, error) {
	if err := checkCommandStream(ctx, js, streams.CommandStream); err != nil {
		return nil, err
	}
	n := streams.Partitions
	out := make([]jetstream.Consumer, n)
	var missing []int
	for p := range n {
		c, err := js.Consumer(ctx, streams.CommandStream, ConsumerName(cfg.ConsumerPrefix, p, n))
		switch {
		case errors.Is(err, jetstream.ErrConsumerNotFound):
			missing = append(missing, p)
		case err != nil:
			return nil, fmt.Errorf("bus: look up consumer %s: %w", ConsumerName(cfg.ConsumerPrefix, p, n), err)
		default:
			out[p] = c
		}
	}
	var old []string
	var start uint64
	if len(missing) > 0 {
		var err error
		if start, old, err = handoverStart(ctx, js, streams, cfg); err != nil {
			return nil, err
		}
	}
	for p := range n {
		want := ConsumerConfig(cfg, p, n)
		if start > 0 {
			want.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
			want.OptStartSeq = start
		}
		c, err := ensureConsumer(ctx, js, streams.CommandStream, out[p], want)
		if err != nil {
			return nil, err
		}
		out[p] = c
	}
	for _, name := range old {
		if err := js.DeleteConsumer(ctx, streams.CommandStream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, fmt.Errorf("bus: delete consumer %s of an earlier partition count: %w", name, err)
		}
	}
	return out, nil
}

// ensureConsumer creates the consumer want describes unless have (or one
// created meanwhile by another replica) exists, and brings the settings a
// replica may change up to date. Where an existing consumer starts is
// never changed.
func ensureConsumer(ctx context.Context, js jetstream.JetStream, stream string, have jetstream.Consumer, want jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	if have == nil {
		c, err := js.CreateConsumer(ctx, stream, want)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, jetstream.ErrConsumerExists) {
			return nil, fmt.Errorf("bus: create consumer %s on %s: %w", want.Durable, stream, err)
		}
		// Another replica created it, perhaps with another start.
		if have, err = js.Consumer(ctx, stream, want.Durable); err != nil {
			return nil, fmt.Errorf("bus: look up consumer %s: %w", want.Durable, err)
		}
	}
	cur := have.CachedInfo().Config
	if !slices.Equal(consumerFilters(cur), consumerFilters(want)) {
		return nil, fmt.Errorf("bus: consumer %s on %s filters %v, want %v; delete it (nats consumer rm %s %s) and start again",
			want.Durable, stream, consumerFilters(cur), consumerFilters(want), stream, want.Durable)
	}
	if cur.AckWait == want.AckWait && cur.MaxAckPending == want.MaxAckPending && cur.MaxDeliver == want.MaxDeliver &&
		cur.Description == want.Description {
		return have, nil
	}
	cur.AckWait, cur.MaxAckPending, cur.MaxDeliver, cur.Description = want.AckWait, want.MaxAckPending, want.MaxDeliver, want.Description
	c, err := js.UpdateConsumer(ctx, stream, cur)
	if err != nil {
		return nil, fmt.Errorf("bus: update consumer %s on %s: %w", want.Durable, stream, err)
	}
	return c, nil
}

// oldConsumerQuiet bounds how long handoverStart waits for the pull
// requests of stopped replicas to leave the old consumers: a client that
// stopped does not withdraw its pull request, the server drops it when it
// expires (pullExpiry).
const oldConsumerQuiet = pullExpiry + 5*time.Second

// handoverStart looks for consumers of prefix with another partition count
// and returns where the new consumers must start (0: from the beginning,
// there are none) and their names. A consumer that has delivered and been
// acked everything it filters allows a start after the stream's last
// sequence read before it; one with commands pending or unacked needs a
// start right after its ack floor. The lowest of these loses nothing and
// moves no customer's command behind a later one.
//
// Old consumers still pulled (a replica with the old count still running)
// are waited for briefly, then refused: two consumers delivering one
// customer's commands at once could reorder them.
func handoverStart(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, cfg SubscriberConfig) (uint64, []string, error) {
	s, err := js.Stream(ctx, streams.CommandStream)
	if err != nil {
		return 0, nil, fmt.Errorf("bus: look up stream %s: %w", streams.CommandStream, err)
	}
	last := s.CachedInfo().State.LastSeq
	pattern := consumerNamePattern(cfg.ConsumerPrefix)
	var old []string
	for name := range s.ConsumerNames(ctx).Name() {
		if m := pattern.FindStringSubmatch(name); m != nil && m[2] != strconv.Itoa(streams.Partitions) {
			old = append(old, name)
		}
	}
	if len(old) == 0 {
		return 0, nil, nil
	}
	slices.Sort(old)
	deadline := time.Now().Add(oldConsumerQuiet)
	for {
		start := last + 1
		var pulled []string
		for _, name := range old {
			c, err := s.Consumer(ctx, name)
			if err != nil {
				return 0, nil, fmt.Errorf("bus: look up consumer %s of an earlier partition count: %w", name, err)
			}
			info, err := c.Info(ctx)
			if err != nil {
				return 0, nil, fmt.Errorf("bus: consumer %s of an earlier partition count: %w", name, err)
			}
			if info.NumWaiting > 0 {
				pulled = append(pulled, name)
			}
			if info.NumPending > 0 || info.NumAckPending > 0 {
				start = min(start, info.AckFloor.Stream+1)
			}
		}
		if len(pulled) == 0 {
			return start, old, nil
		}
		if time.Now().After(deadline) {
			return 0, nil, fmt.Errorf("bus: consumers %s of another partition count are still being pulled "+
				"(a processor started with another PARTITIONS is running); stop every processor, then start them all "+
				"with PARTITIONS=%d: the new consumers start where the old ones left off",
				strings.Join(pulled, ", "), streams.Partitions)
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, nil, ctx.Err()
		}
	}
}
