package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Storing messages in JetStream: the one place every publisher of ours
// waits for PubAcks (the events Publisher, the scheduler's timer commands,
// the simulator's commands).
//
// Every wait is bounded. A message whose PubAck does not come within
// AckTimeout (a stream leader died with it; a failover drops what was in
// flight and answers nothing), or that cannot be sent for the moment (the
// connection is reconnecting, too many PubAcks outstanding, no responders
// while a stream has no leader), is published again with the same
// Nats-Msg-Id until Budget is spent. The stream keeps one message per ID
// within its duplicate window (DuplicateWindow), and Budget is kept within
// half of it, so a retry stores the message or is acknowledged as a
// duplicate of the copy stored before; it never stores a second one.
//
// JetStream's error 10158, "duplicate message id is in process", is the
// answer of a clustered stream's leader to a message whose ID it has
// proposed to its peers but not yet applied (an earlier publish of the
// same message, often the one whose PubAck was lost). It is neither stored
// for sure (the proposal may yet be lost with a leader) nor failed: the
// message is published again after a short backoff, and the answer is then
// a PubAck (Duplicate when the first copy was applied) or another error.
// It is never counted as a failure.
//
// Any other JetStream error (the stream is full, a message too large, a
// wrong expected sequence) is final: publishing again would get the same
// answer.

// ErrCodeMsgIDInProcess is JetStream's "duplicate message id is in
// process" (10158).
const ErrCodeMsgIDInProcess jetstream.ErrorCode = 10158

const (
	// DefaultPubAckTimeout bounds one wait for a PubAck: far above what a
	// synced write takes under load, short enough that a message lost with
	// a stream leader is published again soon after the new leader is
	// elected (a few seconds).
	DefaultPubAckTimeout = 3 * time.Second
	// MaxStoreBudget bounds all the attempts at storing one message: half
	// the duplicate window, so that a retry always falls within the window
	// of a copy stored before.
	MaxStoreBudget = DuplicateWindow / 2

	// maxNamedFailures bounds the messages an error names one by one.
	maxNamedFailures = 10

	storeRetryInitial = 25 * time.Millisecond
	storeRetryMax     = time.Second
)

// StoreOptions bound Store. Zero fields take defaults.
type StoreOptions struct {
	// AckTimeout bounds one wait for the PubAcks of an attempt
	// (DefaultPubAckTimeout).
	AckTimeout time.Duration
	// Budget bounds all the attempts together (DefaultPublishTimeout); at
	// most MaxStoreBudget.
	Budget time.Duration
	// OnRetry, when set, is told of every message published again and of
	// why (to log or count it).
	OnRetry func(msg *nats.Msg, cause error)
}

// IsMsgIDInProcess reports whether err is JetStream's "duplicate message id
// is in process" (10158).
func IsMsgIDInProcess(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == ErrCodeMsgIDInProcess
}

// ErrNoPubAck is the cause of a message whose PubAck did not come within
// the ack timeout.
var ErrNoPubAck = errors.New("no PubAck")

// Store publishes msgs asynchronously and returns once JetStream stored
// every one of them (the PubAcks, in the order of msgs), publishing again
// what was not acknowledged, as described above, until o.Budget is spent or
// ctx ends. Every message needs a Nats-Msg-Id (a retry without one could
// store it twice). On an error some messages may be stored; the error names
// every one that is not by its Nats-Msg-Id, and its acks entry is nil.
// Retried messages may be stored after messages that followed them in
// msgs.
func Store(ctx context.Context, js jetstream.JetStream, msgs []*nats.Msg, o StoreOptions) ([]*jetstream.PubAck, error) {
	b := NewBatch(js, o)
	for _, m := range msgs {
		if err := b.Add(m); err != nil {
			return nil, err
		}
	}
	return b.Wait(ctx)
}

// Batch is Store in two steps, for a publisher that paces its messages:
// Add publishes one message at once, Wait waits for all of them and
// publishes again what was not acknowledged. Each message's budget counts
// from its Add. A Batch is used by one goroutine.
type Batch struct {
	js       jetstream.JetStream
	o        StoreOptions
	msgs     []*nats.Msg
	futures  []jetstream.PubAckFuture
	sentAt   []time.Time // the last publish
	giveUp   []time.Time // the first publish + budget
	acks     []*jetstream.PubAck
	causes   []error
	attempts []int
}

// NewBatch returns an empty batch publishing on js.
func NewBatch(js jetstream.JetStream, o StoreOptions) *Batch {
	if o.AckTimeout <= 0 {
		o.AckTimeout = DefaultPubAckTimeout
	}
	if o.Budget <= 0 {
		o.Budget = DefaultPublishTimeout
	}
	o.Budget = min(o.Budget, MaxStoreBudget)
	return &Batch{js: js, o: o}
}

// Len is the number of messages added.
func (b *Batch) Len() int { return len(b.msgs) }

// Add publishes msg. It fails only for a message without a Nats-Msg-Id;
// a publish that fails is left to Wait to publish again.
func (b *Batch) Add(msg *nats.Msg) error {
	if msg.Header.Get(jetstream.MsgIDHeader) == "" {
		return fmt.Errorf("bus: store a message to %s: no %s, so a retry could store it twice", msg.Subject, jetstream.MsgIDHeader)
	}
	now := time.Now()
	b.msgs = append(b.msgs, msg)
	b.futures = append(b.futures, nil)
	b.sentAt = append(b.sentAt, now)
	b.giveUp = append(b.giveUp, now.Add(b.o.Budget))
	b.acks = append(b.acks, nil)
	b.causes = append(b.causes, nil)
	b.attempts = append(b.attempts, 0)
	b.send(len(b.msgs) - 1)
	return nil
}

// send publishes message i (again).
func (b *Batch) send(i int) {
	b.attempts[i]++
	b.sentAt[i] = time.Now()
	b.futures[i] = nil
	stall := time.Until(b.giveUp[i])
	if stall <= 0 {
		b.causes[i] = context.DeadlineExceeded
		return
	}
	// Wait for room among the client's outstanding async publishes at most
	// until the message's budget is spent.
	f, err := b.js.PublishMsgAsync(b.msgs[i], jetstream.WithStallWait(stall))
	if err != nil {
		b.causes[i] = err
		return
	}
	b.futures[i] = f
}

// Wait returns once every message added is stored, publishing again, with
// the same Nats-Msg-Id, what was not acknowledged within AckTimeout of its
// publish or was answered "in process", until each one's budget is spent
// or ctx ends. The error names every message not stored.
func (b *Batch) Wait(ctx context.Context) ([]*jetstream.PubAck, error) {
	pending := make([]int, len(b.msgs))
	for i := range pending {
		pending[i] = i
	}
	backoff := storeRetryInitial
	for len(pending) > 0 && ctx.Err() == nil {
		retry := b.collect(ctx, pending)
		pending = pending[:0]
		for _, i := range retry {
			if time.Now().Add(backoff).Before(b.giveUp[i]) {
				pending = append(pending, i)
			}
		}
		if len(pending) == 0 || !sleep(ctx, backoff) {
			break
		}
		for _, i := range pending {
			if b.o.OnRetry != nil {
				b.o.OnRetry(b.msgs[i], b.causes[i])
			}
			b.send(i)
		}
		backoff = min(2*backoff, storeRetryMax)
	}
	var errs []error
	failed := 0
	for i, ack := range b.acks {
		if ack != nil {
			continue
		}
		if failed++; failed > maxNamedFailures {
			continue
		}
		cause := b.causes[i]
		if cause == nil {
			cause = ctx.Err()
		}
		if cause == nil {
			cause = errors.New("not sent")
		}
		errs = append(errs, fmt.Errorf("bus: message %s to %s not stored (%d attempts): %w",
			b.msgs[i].Header.Get(jetstream.MsgIDHeader), b.msgs[i].Subject, b.attempts[i], cause))
	}
	if failed > maxNamedFailures {
		errs = append(errs, fmt.Errorf("bus: and %d more messages not stored", failed-maxNamedFailures))
	}
	return b.acks, errors.Join(errs...)
}

// collect waits for the outcome of each pending message's last publish, at
// most until AckTimeout after it (never past its budget), records it, and
// returns the messages to publish again.
func (b *Batch) collect(ctx context.Context, pending []int) (retry []int) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, i := range pending {
		f := b.futures[i]
		if f == nil { // the publish itself failed
			if retryable(b.causes[i]) {
				retry = append(retry, i)
			}
			continue
		}
		until := b.sentAt[i].Add(b.o.AckTimeout)
		if b.giveUp[i].Before(until) {
			until = b.giveUp[i]
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(max(time.Until(until), 0))
		var ack *jetstream.PubAck
		var err error
		select {
		case ack = <-f.Ok():
		case err = <-f.Err():
		case <-ctx.Done():
			err = ctx.Err()
		case <-timer.C:
			// Take what has come meanwhile; else the PubAck is lost.
			select {
			case ack = <-f.Ok():
			case err = <-f.Err():
			default:
				err = fmt.Errorf("%w within %v", ErrNoPubAck, b.o.AckTimeout)
			}
		}
		switch {
		case ack != nil && ack.Stream != "":
			b.acks[i], b.causes[i] = ack, nil
		case err == nil:
			b.causes[i] = errors.New("empty PubAck")
		default:
			b.causes[i] = err
			if retryable(err) && ctx.Err() == nil {
				retry = append(retry, i)
			}
		}
	}
	return retry
}

// retryable reports whether publishing again may store a message that
// failed with err.
func retryable(err error) bool {
	if IsMsgIDInProcess(err) {
		return true
	}
	var apiErr *jetstream.APIError
	switch {
	case errors.As(err, &apiErr):
		return false // the stream refused this message; it would again
	case errors.Is(err, context.Canceled),
		errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining),
		errors.Is(err, nats.ErrBadSubject), errors.Is(err, nats.ErrMaxPayload),
		errors.Is(err, jetstream.ErrAsyncPublishReplySubjectSet):
		return false
	}
	// A lost or late PubAck, a reconnecting connection, a full window of
	// outstanding publishes, a stream between leaders.
	return true
}

// sleep waits d, or returns false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
