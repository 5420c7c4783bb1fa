package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go/jetstream"
)

// Metadata keys the CommandSubscriber sets on every message, after copying
// the NATS headers (so a sender cannot forge them with a header of the same
// name). The Publisher reads MetaSubject as the subject to publish to.
const (
	// MetaSubject is the subject the command is stored under:
	// csp.cmdp.<partition>.<partner>.<customer>.<type...>.
	MetaSubject = "Csp-Subject"
	// MetaStream is the name of the stream the command is stored in.
	MetaStream = "Csp-Stream"
	// MetaStreamSeq is the command's stream sequence (decimal).
	MetaStreamSeq = "Csp-Stream-Seq"
	// MetaTimestamp is the broker's timestamp of the stored message,
	// RFC3339Nano in UTC: the same on every redelivery and not settable by
	// the sender (guarantee G4, README).
	MetaTimestamp = "Csp-Timestamp"
	// MetaNumDelivered is how many times the server delivered the message
	// (decimal, 1 on the first delivery). In-process retries after a Nack do
	// not change it.
	MetaNumDelivered = "Csp-Num-Delivered"
	// MetaPartition is the partition the command was consumed from.
	MetaPartition = "Csp-Partition"
	// MetaAttempt is how many times this process has handed the command to
	// the handler in the current delivery (decimal, 1 the first time; the
	// in-process retries after a Nack count up). See Attempts.
	MetaAttempt = "Csp-Attempt"
)

// Attempts is how many times a command received from the CommandSubscriber
// has been tried, this attempt included: the in-process attempt of the
// current delivery (MetaAttempt) plus one for each earlier delivery by the
// server (MetaNumDelivered - 1), which ended without an ack (the process
// died or stopped, or the broker redelivered after AckWait). An earlier
// delivery counts once however often it was retried in process: a lower
// bound, since nothing about it survives the process. Missing or
// unparsable metadata counts as 1.
func Attempts(msg *message.Message) int {
	attempt, err := strconv.Atoi(msg.Metadata.Get(MetaAttempt))
	if err != nil || attempt < 1 {
		attempt = 1
	}
	if delivered, err := strconv.Atoi(msg.Metadata.Get(MetaNumDelivered)); err == nil && delivered > 1 {
		attempt += delivered - 1
	}
	return attempt
}

// CommandSubscriber is a watermill message.Subscriber over the partitioned
// command stream. It consumes one durable pull consumer per partition
// (MaxAckPending 1) and hands one command of a partition at a time to the
// router, waiting for its Ack or Nack before taking the next one.
//
// Nothing is acknowledged to the server unless the handler acked it. A Nack
// is never passed to the server: the same command is handed to the handler
// again after an exponential backoff, with "in progress" sent meanwhile, so
// no later command of the partition can overtake it.
type CommandSubscriber struct {
	js      jetstream.JetStream
	streams StreamsConfig
	cfg     SubscriberConfig
	logger  watermill.LoggerAdapter

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*CommandSubscriber)(nil)

// NewCommandSubscriber returns a subscriber for the command stream named in
// streams, consuming the partitions in cfg.Partitions.
func NewCommandSubscriber(js jetstream.JetStream, streams StreamsConfig, cfg SubscriberConfig) (*CommandSubscriber, error) {
	if js == nil {
		return nil, errors.New("bus: command subscriber needs a JetStream context")
	}
	streams = streams.WithDefaults()
	cfg = cfg.WithDefaults()
	if err := errors.Join(streams.Validate(), cfg.Validate()); err != nil {
		return nil, fmt.Errorf("bus: command subscriber config: %w", err)
	}
	cfg.Partitions = slices.Clone(cfg.Partitions)
	return &CommandSubscriber{
		js:      js,
		streams: streams,
		cfg:     cfg,
		logger:  cfg.Logger,
		closing: make(chan struct{}),
	}, nil
}

// ConsumerConfig is the configuration of partition p's durable consumer.
func ConsumerConfig(cfg SubscriberConfig, p int) jetstream.ConsumerConfig {
	cfg = cfg.WithDefaults()
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName(cfg.ConsumerPrefix, p),
		Description:   "CSP commands of partition " + strconv.Itoa(p),
		FilterSubject: PartitionFilter(p),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 1,
	}
}

// EnsureConsumers creates or updates the durable consumers of the given
// partitions (all of them when partitions is empty) on the command stream.
// Subscribe calls it; it is exported for operator tools.
func EnsureConsumers(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, cfg SubscriberConfig) ([]jetstream.Consumer, error) {
	_, consumers, err := ensureConsumers(ctx, js, streams.WithDefaults(), cfg.WithDefaults())
	return consumers, err
}

func ensureConsumers(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, cfg SubscriberConfig) ([]int, []jetstream.Consumer, error) {
	parts, err := resolvePartitions(ctx, js, streams, cfg.Partitions)
	if err != nil {
		return nil, nil, err
	}
	out := make([]jetstream.Consumer, 0, len(parts))
	for _, p := range parts {
		cc := ConsumerConfig(cfg, p)
		c, err := js.CreateOrUpdateConsumer(ctx, streams.CommandStream, cc)
		if err != nil {
			return nil, nil, fmt.Errorf("bus: ensure consumer %s on %s: %w", cc.Durable, streams.CommandStream, err)
		}
		out = append(out, c)
	}
	return parts, out, nil
}

// resolvePartitions checks the stream's partition count against the config
// and returns the partitions to consume.
func resolvePartitions(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, want []int) ([]int, error) {
	n, err := commandPartitions(ctx, js, streams.CommandStream)
	if err != nil {
		return nil, err
	}
	if n != streams.Partitions {
		return nil, fmt.Errorf("bus: stream %s has %d partitions but the config says %d", streams.CommandStream, n, streams.Partitions)
	}
	if len(want) == 0 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	seen := make(map[int]bool, len(want))
	for _, p := range want {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("bus: partition %d out of range 0..%d", p, n-1)
		}
		if seen[p] {
			return nil, fmt.Errorf("bus: partition %d listed twice", p)
		}
		seen[p] = true
	}
	return slices.Clone(want), nil
}

// Subscribe starts consuming the configured partitions and returns the
// channel the router reads. topic is only a label (logs); the partitions
// come from the config. The channel is closed after ctx is cancelled or
// Close is called and every partition goroutine has ended: each waits for
// the handler of its in-flight command, at most ShutdownTimeout, and never
// acks what the handler did not ack.
//
// A partition that cannot be consumed any more (its consumer was deleted,
// the connection closed) ends the whole subscription, so the process fails
// visibly instead of silently leaving some customers unprocessed.
//
// Messages carry a context derived from ctx that is not cancelled with it:
// a handler that is running when the subscription stops may finish within
// ShutdownTimeout.
func (s *CommandSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("bus: command subscriber is closed")
	}
	parts, consumers, err := ensureConsumers(ctx, s.js, s.streams, s.cfg)
	if err != nil {
		return nil, err
	}

	// stop ends fetching: ctx cancelled, Close, or a partition that failed.
	// It is a child of ctx so that cancelling ctx stops fetching at once
	// (synchronously), not after a goroutine noticed: otherwise a handler's
	// ack right after the cancel could let the next command through.
	stop, cancel := context.WithCancel(ctx)
	iters := make([]jetstream.MessagesContext, 0, len(consumers))
	for _, c := range consumers {
		it, err := c.Messages(
			jetstream.PullMaxMessages(s.cfg.PullMaxMessages),
			// Heartbeats every 5s; a pull request answered by nobody (the
			// consumer vanished before it was registered) shows as missing
			// heartbeats after 10s.
			jetstream.PullExpiry(pullExpiry),
			jetstream.WithMessagesErrOnMissingHeartbeat(true),
		)
		if err != nil {
			for _, started := range iters {
				started.Stop()
			}
			cancel()
			return nil, fmt.Errorf("bus: consume %s: %w", c.CachedInfo().Name, err)
		}
		iters = append(iters, it)
	}

	out := make(chan *message.Message)
	msgCtx := context.WithoutCancel(ctx)
	var partitions sync.WaitGroup
	s.wg.Add(1)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.closing:
		case <-stop.Done():
		}
		cancel()
	}()
	for i, it := range iters {
		pc := &partitionConsumer{
			sub:       s,
			consumer:  consumers[i],
			partition: parts[i],
			topic:     topic,
			iter:      it,
			out:       out,
			msgCtx:    msgCtx,
		}
		partitions.Add(1)
		go func() {
			defer partitions.Done()
			if err := pc.run(stop); err != nil {
				s.logger.Error("Command partition stopped; stopping the subscription", err,
					watermill.LogFields{"partition": pc.partition, "topic": topic})
				cancel()
			}
		}()
	}
	go func() {
		defer s.wg.Done()
		partitions.Wait()
		cancel()
		close(out)
	}()
	s.logger.Info("Consuming command partitions", watermill.LogFields{
		"topic": topic, "stream": s.streams.CommandStream, "partitions": len(parts),
	})
	return out, nil
}

// Close stops every subscription and returns once their output channels are
// closed (in-flight commands got their Ack or Nack, or ShutdownTimeout
// passed). It does not close the NATS connection.
func (s *CommandSubscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// pullExpiry is how long one pull request waits at the server.
const pullExpiry = 10 * time.Second

// partitionConsumer moves the commands of one partition to the router, one
// at a time.
type partitionConsumer struct {
	sub       *CommandSubscriber
	consumer  jetstream.Consumer
	partition int
	topic     string
	iter      jetstream.MessagesContext
	out       chan<- *message.Message
	msgCtx    context.Context
}

// run returns nil when stop is done, an error when the partition cannot be
// consumed any more.
func (pc *partitionConsumer) run(stop context.Context) error {
	defer pc.iter.Stop()
	for {
		jm, err := pc.iter.Next(jetstream.NextContext(stop))
		if stop.Err() != nil {
			// Not handed to anyone: the server redelivers it after AckWait.
			return nil
		}
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) ||
				errors.Is(err, jetstream.ErrConsumerDeleted) ||
				errors.Is(err, jetstream.ErrBadRequest) {
				return err
			}
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				if _, ierr := pc.consumer.Info(stop); errors.Is(ierr, jetstream.ErrConsumerNotFound) {
					return fmt.Errorf("consumer of partition %d: %w", pc.partition, ierr)
				}
			}
			pc.sub.logger.Error("Fetching a command failed; retrying", err, watermill.LogFields{"partition": pc.partition})
			pause := time.NewTimer(100 * time.Millisecond)
			select {
			case <-pause.C:
			case <-stop.Done():
				pause.Stop()
			}
			continue
		}
		if !pc.deliver(stop, jm) {
			return nil
		}
	}
}

// deliver hands jm to the router until the handler acks it, then acks it to
// the server. It returns false when the subscription is stopping.
func (pc *partitionConsumer) deliver(stop context.Context, jm jetstream.Msg) bool {
	cfg := pc.sub.cfg
	log := pc.sub.logger
	template, err := pc.toWatermill(jm)
	if err != nil {
		// Cannot happen for a message from a pull consumer. Not acked: the
		// server redelivers it after AckWait.
		log.Error("Command without JetStream metadata; not acked", err, watermill.LogFields{"partition": pc.partition, "subject": jm.Subject()})
		return true
	}
	fields := watermill.LogFields{"message_uuid": template.UUID, "partition": pc.partition, "topic": pc.topic}

	progress := time.NewTicker(cfg.AckWait / 3)
	defer progress.Stop()
	inProgress := func() {
		if err := jm.InProgress(); err != nil {
			log.Error("Sending in-progress failed", err, fields)
		}
	}

	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = cfg.RetryInitialInterval
	bo.MaxInterval = cfg.RetryMaxInterval
	bo.MaxElapsedTime = 0
	bo.Reset()

	stopping := stop.Done()
	for attempt := 1; ; attempt++ {
		wm := freshCopy(template)
		wm.Metadata.Set(MetaAttempt, strconv.Itoa(attempt))
		wm.SetContext(pc.msgCtx)

		// Hand it over.
	send:
		for {
			select {
			case pc.out <- wm:
				break send
			case <-progress.C:
				inProgress()
			case <-stopping:
				return false
			}
		}

		// Wait for the handler's verdict.
		var shutdownTimer <-chan time.Time
		var shuttingDown bool
	wait:
		for {
			select {
			case <-wm.Acked():
				if err := jm.Ack(); err != nil {
					// A lost ack means a redelivery; the handler deduplicates.
					log.Error("Acking a command failed", err, fields)
				}
				return !shuttingDown
			case <-wm.Nacked():
				if shuttingDown {
					return false
				}
				break wait
			case <-progress.C:
				inProgress()
			case <-stopping:
				// Stop fetching now, before the handler's ack frees the
				// partition: the server then has no pull request of ours to
				// hand the next command to, and another replica gets it at
				// once instead of after AckWait.
				pc.iter.Stop()
				shuttingDown = true
				stopping = nil
				t := time.NewTimer(cfg.ShutdownTimeout)
				defer t.Stop()
				shutdownTimer = t.C
			case <-shutdownTimer:
				log.Error("Handler did not ack or nack before the shutdown timeout; leaving the command unacked",
					nil, fields)
				return false
			}
		}

		// Nacked: hand the same command over again after a backoff, keeping
		// it ours on the server meanwhile.
		delay := bo.NextBackOff()
		log.Debug("Command nacked; retrying in process", fields.Add(watermill.LogFields{
			"attempt": attempt, "retry_in": delay.String(),
		}))
		retry := time.NewTimer(delay)
	backoffWait:
		for {
			select {
			case <-retry.C:
				break backoffWait
			case <-progress.C:
				inProgress()
			case <-stopping:
				retry.Stop()
				return false
			}
		}
	}
}

// toWatermill builds the watermill message for a stored command.
func (pc *partitionConsumer) toWatermill(jm jetstream.Msg) (*message.Message, error) {
	md, err := jm.Metadata()
	if err != nil {
		return nil, err
	}
	wm := message.NewMessage(md.Stream+":"+strconv.FormatUint(md.Sequence.Stream, 10), jm.Data())
	for k, v := range jm.Headers() {
		if len(v) > 0 {
			wm.Metadata.Set(k, v[0])
		}
	}
	wm.Metadata.Set(MetaSubject, jm.Subject())
	wm.Metadata.Set(MetaStream, md.Stream)
	wm.Metadata.Set(MetaStreamSeq, strconv.FormatUint(md.Sequence.Stream, 10))
	wm.Metadata.Set(MetaTimestamp, md.Timestamp.UTC().Format(time.RFC3339Nano))
	wm.Metadata.Set(MetaNumDelivered, strconv.FormatUint(md.NumDelivered, 10))
	wm.Metadata.Set(MetaPartition, strconv.Itoa(pc.partition))
	return wm, nil
}

// freshCopy is a new message with m's UUID, metadata and a copy of its
// payload, so a handler that changed the payload it was given does not
// change what the next attempt sees.
func freshCopy(m *message.Message) *message.Message {
	c := message.NewMessage(m.UUID, slices.Clone(m.Payload))
	for k, v := range m.Metadata {
		c.Metadata.Set(k, v)
	}
	return c
}
