package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// pullExpiry is how long one pull request waits at the server.
const pullExpiry = 10 * time.Second

// ackTimeout bounds the wait for the server to confirm the acks and NAKs
// of a stopping partition.
const ackTimeout = 5 * time.Second

// partitionConsumer moves the commands of one partition to the router: up
// to MaxInFlight held at once (the consumer's MaxAckPending), in a FIFO
// per customer of which only the head is with the router.
type partitionConsumer struct {
	sub       *CommandSubscriber
	subn      *subscription
	consumer  jetstream.Consumer
	partition int
	fence     uint64
	stop      context.Context // done: stop pulling and handing out
	cancel    context.CancelFunc
	done      chan struct{}
}

// held is a command the partition holds: waiting behind its customer's
// earlier command, with the router, or waiting for an in-process retry.
type held struct {
	jm       jetstream.Msg
	seq      uint64
	customer string
	template *message.Message
	touched  time.Time // received, or in-progress last sent
}

// outcome is how a customer's head command left the router's hands.
type outcome int

const (
	// acked: the handler acked it and the ack was sent to the server.
	acked outcome = iota + 1
	// notHanded: the partition stopped while it was not with a handler
	// (before handing, in a retry backoff, or nacked during the stop).
	notHanded
	// unresolved: a handler had it and did not answer within
	// ShutdownTimeout. Neither it nor its customer's later commands are
	// NAKed: the server redelivers them all, in stream order, after
	// AckWait.
	unresolved
)

type delivered struct {
	h   *held
	out outcome
}

type pulled struct {
	jm  jetstream.Msg
	err error
}

// run returns nil when the partition was stopped, an error when it cannot
// be consumed any more.
func (pc *partitionConsumer) run() error {
	unacked, err := pc.previousOwnerUnacked()
	if err != nil {
		if pc.stop.Err() != nil {
			return nil
		}
		return err
	}
	if pc.stop.Err() != nil {
		return nil
	}
	cfg := pc.sub.cfg
	iter, err := pc.consumer.Messages(
		jetstream.PullMaxMessages(cfg.PullMaxMessages),
		// Heartbeats every 5s; a pull request answered by nobody (the
		// consumer vanished before it was registered) shows as missing
		// heartbeats after 10s.
		jetstream.PullExpiry(pullExpiry),
		jetstream.WithMessagesErrOnMissingHeartbeat(true),
	)
	if err != nil {
		return fmt.Errorf("consume partition %d: %w", pc.partition, err)
	}
	incoming := make(chan pulled)
	go pc.read(iter, incoming)
	return pc.loop(iter, incoming, unacked)
}

// previousOwnerUnacked keeps G3 when the partition's previous owner
// (another replica, or this process before a crash) left commands
// delivered and unacked: it returns how many the consumer counts, and
// loop collects that many redeliveries before it hands anything out,
// holding (and ordering per customer) what else it pulls meanwhile.
//
// Pulling at once is safe because the server hands expired and NAKed
// deliveries out before any new message: nats-server v2.15.2 consumer.go,
// checkPending moves the pending messages past their AckWait to the
// redelivery queue (sorted by stream sequence within each run) when its
// timer fires at the earliest deadline, a NAK puts its message on that
// queue at once, and getNextMsg serves the queue before it reads the next
// new message. Expiries found by different runs of checkPending are
// queued run after run, so the queue is not sorted as a whole (a previous
// owner killed in the middle of sending its in-progress leaves later
// sequences with older timestamps): hence collecting before handing out.
//
// A graceful previous owner (StopPartition) NAKed what it held, in stream
// order, so its commands come back at once and the handover costs no wait.
// A crashed one's come back once their AckWait has run out, at most
// AckWait after it stopped sending in-progress, which was before this
// start; loop gives up collecting after twice that (one of them acked
// late by a previous owner that was still finishing counts for nothing).
func (pc *partitionConsumer) previousOwnerUnacked() (int, error) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(pc.stop, 5*time.Second)
		info, err := pc.consumer.Info(ctx)
		cancel()
		if err == nil {
			return info.NumAckPending, nil
		}
		if pc.stop.Err() != nil {
			return 0, nil
		}
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			return 0, fmt.Errorf("consumer of partition %d: %w", pc.partition, err)
		}
		pc.sub.logger.Error("Reading the consumer failed; retrying", err, watermill.LogFields{"partition": pc.partition})
		select {
		case <-tick.C:
		case <-pc.stop.Done():
			return 0, nil
		}
	}
}

// read forwards what the iterator yields until it is stopped, then closes
// incoming.
func (pc *partitionConsumer) read(iter jetstream.MessagesContext, incoming chan<- pulled) {
	defer close(incoming)
	for {
		jm, err := iter.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		incoming <- pulled{jm, err}
		if err != nil {
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrBadRequest) {
				return
			}
			pause := time.NewTimer(100 * time.Millisecond)
			select {
			case <-pause.C:
			case <-pc.stop.Done():
				pause.Stop()
			}
		}
	}
}

// loop holds the partition's commands and hands each customer's head to
// the router, until the partition is stopped and nothing is with the
// router any more.
//
// While recovering (unacked > 0: commands of a previous owner come back
// first), nothing is handed out until unacked redeliveries arrived, or
// twice AckWait passed (previousOwnerUnacked): then every customer's
// commands are in stream order before its first one goes to the router,
// whatever order the server sent them in.
func (pc *partitionConsumer) loop(iter jetstream.MessagesContext, incoming chan pulled, unacked int) error {
	cfg := pc.sub.cfg
	log := pc.sub.logger
	lf := watermill.LogFields{"partition": pc.partition}

	heldBySeq := map[uint64]*held{}
	queues := map[string][]*held{} // per customer, stream order; the head is with a worker when active
	active := map[string]bool{}
	blocked := map[string]bool{} // customers whose head ended unresolved
	results := make(chan delivered)
	workers := 0
	var failure error

	progressEvery := cfg.AckWait / 3
	progress := time.NewTicker(progressEvery)
	defer progress.Stop()

	recovering := unacked > 0
	var recoveryEnd <-chan time.Time
	if recovering {
		t := time.NewTimer(2 * cfg.AckWait)
		defer t.Stop()
		recoveryEnd = t.C
	}
	startHead := func(customer string) {
		if recovering || active[customer] || pc.stop.Err() != nil {
			return
		}
		q := queues[customer]
		if len(q) == 0 {
			return
		}
		active[customer] = true
		workers++
		go func(h *held) { results <- delivered{h, pc.deliver(h)} }(q[0])
	}

	stopping := pc.stop.Done()
	for incoming != nil || workers > 0 {
		select {
		case m, ok := <-incoming:
			if !ok {
				incoming = nil
				if pc.stop.Err() == nil && failure == nil {
					// The iterator ended by itself: the connection closed.
					failure = fmt.Errorf("partition %d: %w", pc.partition, jetstream.ErrMsgIteratorClosed)
					pc.cancel()
				}
				continue
			}
			if m.err != nil {
				if err := pc.fetchFailed(m.err); err != nil && failure == nil {
					failure = err
					pc.cancel()
				}
				continue
			}
			h, err := pc.hold(m.jm)
			if err != nil {
				// Cannot happen for a message from a pull consumer. Not
				// acked: the server redelivers it after AckWait.
				log.Error("Command without JetStream metadata; not acked", err, lf)
				continue
			}
			if _, dup := heldBySeq[h.seq]; dup {
				// A redelivery of a command held here (its in-progress
				// came too late): the copy held already stands for it.
				log.Debug("Redelivered copy of a held command ignored", lf.Add(watermill.LogFields{"seq": h.seq}))
				continue
			}
			heldBySeq[h.seq] = h
			q := queues[h.customer]
			i, _ := slices.BinarySearchFunc(q, h.seq, func(e *held, seq uint64) int { return cmpSeq(e.seq, seq) })
			if i == 0 && active[h.customer] {
				i = 1 // never in front of the command with the router
			}
			queues[h.customer] = slices.Insert(q, i, h)
			if recovering {
				if d, _ := strconv.Atoi(h.template.Metadata.Get(MetaNumDelivered)); d > 1 {
					unacked--
				}
				if unacked > 0 {
					continue
				}
				recovering, recoveryEnd = false, nil
				for c := range queues {
					startHead(c)
				}
				continue
			}
			startHead(h.customer)
		case <-recoveryEnd:
			recovering, recoveryEnd = false, nil
			for c := range queues {
				startHead(c)
			}
		case r := <-results:
			workers--
			active[r.h.customer] = false
			switch r.out {
			case acked:
				delete(heldBySeq, r.h.seq)
				q := queues[r.h.customer][1:]
				if len(q) == 0 {
					delete(queues, r.h.customer)
				} else {
					queues[r.h.customer] = q
				}
				startHead(r.h.customer)
			case unresolved:
				blocked[r.h.customer] = true
			}
		case now := <-progress.C:
			// Only what was held for half a period or more: most commands
			// are done long before their AckWait, and an in-progress each
			// would cost the server as much as the ack. The rest is at
			// most 1.5 periods old at the next tick, well within AckWait.
			// Sent in stream order, so the server's timestamps grow with
			// the sequence and a crash expires them in that order.
			var due []*held
			for _, h := range heldBySeq {
				if now.Sub(h.touched) >= progressEvery/2 {
					due = append(due, h)
				}
			}
			slices.SortFunc(due, func(a, b *held) int { return cmpSeq(a.seq, b.seq) })
			for _, h := range due {
				h.touched = now
				if err := h.jm.InProgress(); err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
					log.Error("Sending in-progress failed", err, lf)
				}
			}
		case <-stopping:
			// Stop pulling at once, before a handler's ack lets a
			// customer's next command through.
			stopping = nil
			iter.Stop()
		}
	}

	// Hand the commands held back to the server, in stream order, so the
	// next owner gets them before anything later. A blocked customer's
	// are left: its head may still be with a handler here.
	var back []*held
	for _, h := range heldBySeq {
		if !blocked[h.customer] {
			back = append(back, h)
		}
	}
	slices.SortFunc(back, func(a, b *held) int { return cmpSeq(a.seq, b.seq) })
	for _, h := range back {
		if err := h.jm.Nak(); err != nil {
			log.Error("NAK of a held command failed; the server redelivers it after AckWait", err,
				lf.Add(watermill.LogFields{"seq": h.seq}))
		}
	}
	// The server handles one connection's messages in order and answers a
	// flush after all before it: once this returns, it has every ack and
	// NAK of the partition, and the next owner sees them.
	if nc := pc.sub.js.Conn(); nc != nil && !nc.IsClosed() {
		if err := nc.FlushTimeout(ackTimeout); err != nil {
			log.Error("Flushing the acks of a stopped partition failed", err, lf)
		}
	}
	return failure
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fetchFailed returns an error when the partition cannot be consumed any
// more; other fetch errors are logged and pulling goes on.
func (pc *partitionConsumer) fetchFailed(err error) error {
	if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrBadRequest) {
		return fmt.Errorf("consumer of partition %d: %w", pc.partition, err)
	}
	if errors.Is(err, jetstream.ErrNoHeartbeat) {
		ctx, cancel := context.WithTimeout(pc.stop, 5*time.Second)
		_, ierr := pc.consumer.Info(ctx)
		cancel()
		if errors.Is(ierr, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("consumer of partition %d: %w", pc.partition, ierr)
		}
	}
	if pc.stop.Err() == nil {
		pc.sub.logger.Error("Fetching a command failed; retrying", err, watermill.LogFields{"partition": pc.partition})
	}
	return nil
}

// hold builds the held command of a stored message.
func (pc *partitionConsumer) hold(jm jetstream.Msg) (*held, error) {
	template, err := pc.toWatermill(jm)
	if err != nil {
		return nil, err
	}
	seq, _ := strconv.ParseUint(template.Metadata.Get(MetaStreamSeq), 10, 64)
	return &held{jm: jm, seq: seq, customer: customerToken(jm.Subject()), template: template, touched: time.Now()}, nil
}

// customerToken is the customer token of a stored command subject
// (csp.cmdp.<slot>.<partner>.<role>.<customer>.<type...>). A subject
// without one (the transform makes none) gets "", one FIFO for all such.
func customerToken(subject string) string {
	rest, ok := strings.CutPrefix(subject, messages.PartitionSubjectPrefix+".")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, ".", 5)
	if len(parts) < 5 {
		return ""
	}
	return parts[3]
}

// deliver hands h to the router until the handler acks it, then acks it
// to the server.
func (pc *partitionConsumer) deliver(h *held) outcome {
	cfg := pc.sub.cfg
	log := pc.sub.logger
	fields := watermill.LogFields{"message_uuid": h.template.UUID, "partition": pc.partition, "topic": pc.subn.topic}

	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = cfg.RetryInitialInterval
	bo.MaxInterval = cfg.RetryMaxInterval
	bo.MaxElapsedTime = 0
	bo.Reset()

	for attempt := 1; ; attempt++ {
		if pc.stop.Err() != nil {
			return notHanded
		}
		wm := freshCopy(h.template)
		wm.Metadata.Set(MetaAttempt, strconv.Itoa(attempt))
		wm.SetContext(pc.subn.msgCtx)
		select {
		case pc.subn.out <- wm:
		case <-pc.stop.Done():
			return notHanded
		}

		// Wait for the handler's verdict.
		var shutdownTimer <-chan time.Time
		stopping := pc.stop.Done()
	wait:
		for {
			select {
			case <-wm.Acked():
				// Sent, not awaited: the customer's next command may go
				// at once (it is applied after this one whatever becomes
				// of the ack, and a lost ack only means a redelivery the
				// inbox answers). Awaiting the server's confirmation
				// halved end-to-end throughput (README.md). A stop
				// flushes the connection instead (loop).
				if err := h.jm.Ack(); err != nil {
					// A lost ack means a redelivery; the handler deduplicates.
					log.Error("Acking a command failed", err, fields)
				}
				return acked
			case <-wm.Nacked():
				if pc.stop.Err() != nil {
					return notHanded
				}
				break wait
			case <-stopping:
				stopping = nil
				t := time.NewTimer(cfg.ShutdownTimeout)
				defer t.Stop()
				shutdownTimer = t.C
			case <-shutdownTimer:
				log.Error("Handler did not ack or nack before the shutdown timeout; leaving the command unacked",
					nil, fields)
				return unresolved
			}
		}

		// Nacked: hand the same command over again after a backoff; the
		// partition's in-progress keeps it ours on the server meanwhile.
		delay := bo.NextBackOff()
		log.Debug("Command nacked; retrying in process", fields.Add(watermill.LogFields{
			"attempt": attempt, "retry_in": delay.String(),
		}))
		retry := time.NewTimer(delay)
		select {
		case <-retry.C:
		case <-pc.stop.Done():
			retry.Stop()
			return notHanded
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
	if pc.fence != 0 {
		wm.Metadata.Set(MetaFence, strconv.FormatUint(pc.fence, 10))
	} else {
		delete(wm.Metadata, MetaFence) // a sender cannot set it
	}
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
