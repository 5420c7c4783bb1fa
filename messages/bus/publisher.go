package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher is a watermill message.Publisher that publishes to JetStream
// and returns only when the server stored every message (or an error). It
// is safe for concurrent use: every Publish call sends its messages
// asynchronously and waits only for its own PubAcks, so callers do not
// queue behind each other.
//
// For each message:
//   - the subject is msg.Metadata[MetaSubject] when set, else topic;
//   - the Nats-Msg-Id header is msg.UUID, so publishing the same message
//     again within DuplicateWindow stores it once (UUIDs must therefore be
//     deterministic: an event ID, a command's "<stream>:<seq>");
//   - every other metadata entry becomes a header, except MetaSubject and
//     keys starting with "Nats-" (those steer the server, e.g.
//     Nats-Expected-Last-Sequence, and must not leak from a consumed command
//     into what is published).
//
// Dead letters are ordinary messages published to csp.dlq.<code>: see
// NewDeadLetter.
type Publisher struct {
	js      jetstream.JetStream
	timeout time.Duration
	closed  atomic.Bool
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher on js. Create js with
// jetstream.WithPublishAsyncTimeout so an unanswered publish is also
// forgotten by the client (else it stays among the outstanding publishes,
// and enough of them stall every later publish).
func NewPublisher(js jetstream.JetStream, cfg PublisherConfig) (*Publisher, error) {
	if js == nil {
		return nil, errors.New("bus: publisher needs a JetStream context")
	}
	cfg = cfg.WithDefaults()
	if cfg.Timeout < 0 || cfg.Timeout > MaxStoreBudget {
		return nil, fmt.Errorf("bus: publisher timeout %v out of range 0..%v (half the duplicate window: "+
			"a retry later than the window could store an event twice)", cfg.Timeout, MaxStoreBudget)
	}
	return &Publisher{js: js, timeout: cfg.Timeout}, nil
}

// ErrPublisherClosed is returned by Publish after Close.
var ErrPublisherClosed = errors.New("bus: publisher is closed")

// Publish publishes msgs and waits until the server stored every one of
// them, or Timeout passed: a message whose PubAck is lost (a stream leader
// died) or answered "duplicate message id is in process" is published again
// with the same Nats-Msg-Id within Timeout (Store). Every message is checked
// before the first is sent; an invalid one fails the call and nothing is
// sent. When a message is not stored the error names its UUID and subject;
// some others may be stored already, so the caller retries the whole call
// (duplicates are dropped by Nats-Msg-Id).
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return ErrPublisherClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	out := make([]*nats.Msg, len(msgs))
	for i, m := range msgs {
		nm, err := toNats(topic, m)
		if err != nil {
			return err
		}
		out[i] = nm
	}
	_, err := Store(context.Background(), p.js, out, StoreOptions{AckTimeout: min(DefaultPubAckTimeout, p.timeout), Budget: p.timeout})
	return err
}

// Close makes later Publish calls fail. It does not close the connection.
func (p *Publisher) Close() error {
	p.closed.Store(true)
	return nil
}

// toNats converts a watermill message for publishing.
func toNats(topic string, m *message.Message) (*nats.Msg, error) {
	if m == nil {
		return nil, errors.New("bus: publish: nil message")
	}
	subject := m.Metadata.Get(MetaSubject)
	if subject == "" {
		subject = topic
	}
	if !validPublishSubject(subject) {
		return nil, fmt.Errorf("bus: publish message %s: %q is not a valid subject to publish to", m.UUID, subject)
	}
	if m.UUID == "" || !validHeaderValue(m.UUID) {
		return nil, fmt.Errorf("bus: publish message to %s: UUID %q cannot be a Nats-Msg-Id", subject, m.UUID)
	}
	h := nats.Header{}
	for k, v := range m.Metadata {
		if k == MetaSubject || strings.HasPrefix(strings.ToLower(k), "nats-") {
			continue
		}
		if !validHeaderKey(k) || !validHeaderValue(v) {
			return nil, fmt.Errorf("bus: publish message %s: metadata %q cannot be a NATS header", m.UUID, k)
		}
		h.Set(k, v)
	}
	h.Set(jetstream.MsgIDHeader, m.UUID)
	return &nats.Msg{Subject: subject, Data: m.Payload, Header: h}, nil
}

func validPublishSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n*>") {
		return false
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}

func validHeaderKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	return !strings.ContainsAny(v, "\r\n")
}
