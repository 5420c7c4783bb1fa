package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// Metadata keys the CommandSubscriber sets on every message, after copying
// the NATS headers (so a sender cannot forge them with a header of the same
// name). The Publisher reads MetaSubject as the subject to publish to.
const (
	// MetaSubject is the subject the command is stored under:
	// csp.cmdp.<slot>.<partner>.<role>.<customer>.<type...>.
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
	// MetaFence is the fence token (decimal) of the lease under which the
	// partition was started (StartPartition with a non-zero fence); absent
	// when the partition is owned statically.
	MetaFence = "Csp-Fence"
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

// CommandSubscriber is a watermill message.Subscriber over the command
// stream. It consumes one durable pull consumer per partition and hands
// up to MaxInFlight commands of a partition to the router at once, at most
// one per customer: a customer's next command is handed over only after
// the previous one was acked to the server (partition.go). Which
// partitions it consumes is either fixed (SubscriberConfig.Partitions) or
// decided at run time by StartPartition and StopPartition (Dynamic).
//
// Nothing is acknowledged to the server unless the handler acked it. A
// Nack is never passed to the server: the same command is handed to the
// handler again after an exponential backoff, with "in progress" sent
// meanwhile, so no later command of its customer can overtake it.
type CommandSubscriber struct {
	js      jetstream.JetStream
	streams StreamsConfig
	cfg     SubscriberConfig
	logger  watermill.LoggerAdapter

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
	sub     *subscription // the one Subscribe; nil before
}

var _ message.Subscriber = (*CommandSubscriber)(nil)

// NewCommandSubscriber returns a subscriber for the command stream named in
// streams.
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

// subscription is what one Subscribe started.
type subscription struct {
	topic     string
	out       chan *message.Message
	msgCtx    context.Context
	stop      context.Context // done: the whole subscription stops
	cancel    context.CancelFunc
	consumers []jetstream.Consumer // by partition

	mu      sync.Mutex
	running map[int]*partitionConsumer
	ended   bool           // no partition may start any more
	wg      sync.WaitGroup // partition goroutines; Add only under mu while !ended
}

// checkPartitions checks a static partition list against the count.
func checkPartitions(want []int, n int) ([]int, error) {
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

// Subscribe creates or updates the consumers of every partition and
// starts consuming the configured partitions (none when Dynamic), and
// returns the channel the router reads. topic is only a label (logs). A
// subscriber serves one Subscribe. The channel is closed after ctx is
// cancelled or Close is called and every partition has ended: each waits
// for the handlers of the commands it handed out, at most
// ShutdownTimeout, never acks what the handler did not ack, and NAKs the
// commands it held but had not handed out, in stream order, so the next
// owner gets them first.
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
	if s.sub != nil {
		return nil, errors.New("bus: command subscriber serves one Subscribe")
	}
	var parts []int
	if !s.cfg.Dynamic {
		var err error
		if parts, err = checkPartitions(s.cfg.Partitions, s.streams.Partitions); err != nil {
			return nil, err
		}
	}
	// Like the streams (handlers.NewProcessor), the consumers are asked
	// for again while a cluster does not answer in time: a replica joining
	// while another moves the consumers' leaders, or a node recovering, is
	// slow to answer, not wrong, and must not end the process. An
	// attempt may wait for consumers of an earlier partition count to
	// fall quiet (handoverStart), so it is given that long on top.
	var consumers []jetstream.Consumer
	err := retryStartup(ctx, 0, startupAttempt+oldConsumerQuiet, "ensure consumers", func(ctx context.Context) (err error) {
		consumers, err = ensureConsumers(ctx, s.js, s.streams, s.cfg)
		return err
	})
	if err != nil {
		return nil, err
	}

	// stop ends fetching: ctx cancelled, Close, or a partition that failed.
	// It is a child of ctx so that cancelling ctx stops handing out
	// commands at once (synchronously), not after a goroutine noticed.
	stop, cancel := context.WithCancel(ctx)
	sub := &subscription{
		topic:     topic,
		out:       make(chan *message.Message),
		msgCtx:    context.WithoutCancel(ctx),
		stop:      stop,
		cancel:    cancel,
		consumers: consumers,
		running:   map[int]*partitionConsumer{},
	}
	s.sub = sub
	s.wg.Add(1)
	go func() {
		select {
		case <-ctx.Done():
		case <-s.closing:
		case <-stop.Done():
		}
		cancel()
	}()
	for _, p := range parts {
		_ = s.startLocked(sub, p, 0) // cannot fail: nothing stopped the subscription yet
	}
	go func() {
		defer s.wg.Done()
		<-stop.Done()
		sub.mu.Lock()
		sub.ended = true
		sub.mu.Unlock()
		sub.wg.Wait()
		close(sub.out)
	}()
	s.logger.Info("Consuming command partitions", watermill.LogFields{
		"topic": topic, "stream": s.streams.CommandStream, "partitions": len(parts), "dynamic": s.cfg.Dynamic,
	})
	return sub.out, nil
}

// startLocked starts partition p's goroutine. s.mu is held.
func (s *CommandSubscriber) startLocked(sub *subscription, p int, fence uint64) error {
	stop, cancel := context.WithCancel(sub.stop)
	pc := &partitionConsumer{
		sub:       s,
		subn:      sub,
		consumer:  sub.consumers[p],
		partition: p,
		fence:     fence,
		stop:      stop,
		cancel:    cancel,
		done:      make(chan struct{}),
	}
	sub.mu.Lock()
	if sub.ended {
		sub.mu.Unlock()
		cancel()
		return errors.New("bus: the subscription has ended")
	}
	sub.running[p] = pc
	sub.wg.Add(1)
	sub.mu.Unlock()
	go func() {
		defer sub.wg.Done()
		defer close(pc.done)
		defer func() {
			sub.mu.Lock()
			if sub.running[p] == pc {
				delete(sub.running, p)
			}
			sub.mu.Unlock()
		}()
		if err := pc.run(); err != nil {
			s.logger.Error("Command partition stopped; stopping the subscription", err,
				watermill.LogFields{"partition": p, "topic": sub.topic})
			sub.cancel()
		}
	}()
	return nil
}

// StartPartition starts consuming partition p (Dynamic only) and returns
// once it is started. fence, when not zero, is set as MetaFence on every
// message of the partition. Before pulling, the partition waits while its
// consumer has unacked commands, at most AckWait (waitPreviousOwner), so
// commands a previous owner died with come before any later one.
//
// A partition that runs is refused. One that is still stopping (a
// StopPartition whose ctx ended before the consumer did, as for a lease
// lost while its partition drained) is waited for, up to ctx, and then
// started anew: refusing it would leave the partition unconsumed when its
// lease is acquired again, and starting beside it would have two
// consumers of one partition.
func (s *CommandSubscriber) StartPartition(ctx context.Context, p int, fence uint64) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.Lock()
		sub, err := s.dynamicLocked(p)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		sub.mu.Lock()
		old := sub.running[p]
		sub.mu.Unlock()
		if old == nil {
			err = s.startLocked(sub, p, fence)
			s.mu.Unlock()
			return err
		}
		s.mu.Unlock()
		if old.stop.Err() == nil {
			return fmt.Errorf("bus: partition %d is already started", p)
		}
		select {
		case <-old.done:
		case <-ctx.Done():
			return fmt.Errorf("bus: start partition %d: its previous consumer is still stopping: %w", p, ctx.Err())
		}
	}
}

// StopPartition stops consuming partition p (Dynamic only) and returns
// once the partition holds nothing any more: no more pulls, the handlers
// of the commands it handed out answered (at most ShutdownTimeout), the
// commands it held back NAKed in stream order. Stopping a partition that
// is not started does nothing.
func (s *CommandSubscriber) StopPartition(ctx context.Context, p int) error {
	s.mu.Lock()
	sub, err := s.dynamicLocked(p)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	sub.mu.Lock()
	pc := sub.running[p]
	sub.mu.Unlock()
	if pc == nil {
		return nil
	}
	pc.cancel()
	select {
	case <-pc.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("bus: stop partition %d: %w", p, ctx.Err())
	}
}

// Partitions returns the partitions being consumed, in order.
func (s *CommandSubscriber) Partitions() []int {
	s.mu.Lock()
	sub := s.sub
	s.mu.Unlock()
	if sub == nil {
		return nil
	}
	sub.mu.Lock()
	defer sub.mu.Unlock()
	out := make([]int, 0, len(sub.running))
	for p := range sub.running {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

func (s *CommandSubscriber) dynamicLocked(p int) (*subscription, error) {
	switch {
	case !s.cfg.Dynamic:
		return nil, errors.New("bus: StartPartition and StopPartition need SubscriberConfig.Dynamic")
	case s.closed:
		return nil, errors.New("bus: command subscriber is closed")
	case s.sub == nil:
		return nil, errors.New("bus: StartPartition and StopPartition need Subscribe first")
	case s.sub.stop.Err() != nil:
		return nil, errors.New("bus: the subscription has ended")
	case p < 0 || p >= s.streams.Partitions:
		return nil, fmt.Errorf("bus: partition %d out of range 0..%d", p, s.streams.Partitions-1)
	}
	return s.sub, nil
}

// Close stops every partition and returns once the output channel is
// closed (handed-out commands got their Ack or Nack, or ShutdownTimeout
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
