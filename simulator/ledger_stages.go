package simulator

import (
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// Each command's way, stage by stage (report.Timeline): the ledger notes
// when a command was published (Published), when the simulator received
// its PubAck (Stored, from the ack handler of the runner's publishing
// JetStream context), and, with its first event, when the processor
// committed it (the event's Csp-Committed-At header) and when the event
// arrived. The timeline goes to the report once its first event and its
// PubAck are both in, whichever came last: the simulator may handle a
// PubAck after the processor answered the command.

// pending is a command's timeline while its first event or its PubAck is
// still to come.
type pending struct {
	report.Timeline
	commandType messages.CommandType
}

// startTimeline notes a command about to be published. Caller holds l.mu.
func (l *Ledger) startTimeline(commandID string, t messages.CommandType, at time.Time) {
	l.timelines[commandID] = &pending{Timeline: report.Timeline{Published: at}, commandType: t}
}

// stored is the runner's JetStream ack handler: the command published
// with this Nats-Msg-Id ("<customer>:<command ID>", messages.CommandMsgID)
// is in the stream. A PubAck of a message published again, answered as a
// duplicate, changes nothing: the first one counted.
func (l *Ledger) stored(msg *nats.Msg, at time.Time) {
	_, commandID, ok := strings.Cut(msg.Header.Get(jetstream.MsgIDHeader), ":")
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.timelines[commandID]
	if p == nil || !p.Stored.IsZero() {
		return
	}
	p.Stored = at
	l.finishTimeline(commandID, p)
}

// firstEvent notes a command's first event, received at at with the
// commit time its headers carry. Caller holds l.mu.
func (l *Ledger) firstEvent(commandID string, h nats.Header, at time.Time) {
	p := l.timelines[commandID]
	if p == nil {
		return
	}
	p.Received = at
	if v := h.Get(messages.HeaderCommittedAt); v != "" {
		if committed, err := messages.ParseCommittedAt(v); err == nil {
			p.Committed = committed
		}
	}
	l.finishTimeline(commandID, p)
}

// finishTimeline hands a timeline with its first event and its PubAck to
// the report. Caller holds l.mu.
func (l *Ledger) finishTimeline(commandID string, p *pending) {
	if p.Received.IsZero() || p.Stored.IsZero() {
		return
	}
	l.rec.Stages(p.Timeline)
	delete(l.timelines, commandID)
}

// ackHandlerJetStream is a JetStream context with js's settings whose
// ack handler tells the ledger when each command was stored.
func ackHandlerJetStream(nc *nats.Conn, js jetstream.JetStream, l *Ledger) (jetstream.JetStream, error) {
	settings := js.Options()
	return jetstream.New(nc,
		func(o *jetstream.JetStreamOptions) error { *o = settings; return nil },
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
			l.stored(m, time.Now())
		}))
}
