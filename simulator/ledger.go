package simulator

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// Ledger is the billing system's side of the simulator: it consumes every
// event, drops repeated deliveries by event ID, books billing events, and
// keeps what each command produced until the run reconciles it against the
// model (reconcile.go). It also times each command from its publish to its
// first event.
type Ledger struct {
	mu   sync.Mutex
	seen map[uuid.UUID]struct{}
	// Duplicates counts deliveries of an event ID already booked.
	Duplicates int64
	// lastSeq is the highest event stream sequence received.
	lastSeq uint64
	// inFlight are commands published and not yet answered, by ID.
	inFlight map[string]time.Time
	// timelines are the ways of commands whose first event or PubAck is
	// still to come (ledger_stages.go).
	timelines map[string]*pending
	// lost are commands given up on (no event within the run's deadline,
	// ledger_lost.go); Late counts the events that came for them after.
	lost map[string]struct{}
	Late int64
	// partners are the ones whose events the ledger follows.
	partners []string
	// OnOutcome, when set, is called (under the ledger's lock) with the
	// command, its customer, the broker's store time and the arrival time
	// of each command's first event: the fault tests measure recovery
	// with it.
	OnOutcome func(commandID, customerID string, stored, arrived time.Time)
	results   map[string]*CommandResult
	// timerBills are billing events of timer.fired commands not yet
	// reconciled.
	timerBills []Entry
	// notices are refund window notices not yet reconciled
	// (ledger_notices.go).
	notices []Notice
	// createdByTimer maps order/line/offer to the subscription a timer
	// created (a trial conversion).
	createdByTimer map[string]string
	changed        chan struct{}
	rec            *report.Recorder
	cc             jetstream.ConsumeContext
	// Corrupt, when set, changes a billing entry as it is booked: the
	// test that proves a wrong amount fails the run uses it.
	Corrupt func(*Entry)
}

// Entry is one booked billing event.
type Entry struct {
	EventID     string
	CommandID   string
	CommandType messages.CommandType
	CustomerID  string
	Kind        string // charge or credit
	Bill        messages.BillingEvent
}

// CommandResult is what one command produced.
type CommandResult struct {
	Rejected string // the rejection code, or the rejected order line's
	// Lost: no event came within the run's deadline (ledger_lost.go).
	Lost      bool
	Bills     []Entry
	OrderSubs map[string]string // line ID -> subscription ID
	// TransferredSubs are the target's new subscriptions of a
	// transfer.submit, in the order they were created.
	TransferredSubs []string
	// Created are the subscriptions a trial conversion or a partial
	// upgrade created (ledger_changes.go).
	Created []string
	// RejectedData is the rejection's data (the deciding facts).
	RejectedData map[string]string
	// ExchangedTo is the new subscription of a reservation.exchange
	// (CAN-6), from its reservation.exchanged event.
	ExchangedTo string
	// Deferred: the command's answer was command.deferred (REN-4); what it
	// does comes later (ledger_parked.go).
	Deferred bool
	// settling: the result of a deferred command after its deferral was
	// reconciled, booking what it does when its renewal completes.
	settling bool
}

// NewLedger starts consuming the partners' events from the stream's next
// message.
func NewLedger(ctx context.Context, js jetstream.JetStream, stream string, rec *report.Recorder, partners ...string) (*Ledger, error) {
	l := &Ledger{
		seen: map[uuid.UUID]struct{}{}, inFlight: map[string]time.Time{}, results: map[string]*CommandResult{},
		createdByTimer: map[string]string{}, changed: make(chan struct{}), rec: rec, lost: map[string]struct{}{},
		partners: partners, timelines: map[string]*pending{},
	}
	filters := make([]string, len(partners))
	for i, p := range partners {
		filters[i] = messages.EventSubjectPrefix + "." + p + ".>"
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: filters, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, fmt.Errorf("ledger: event consumer: %w", err)
	}
	if l.cc, err = cons.Consume(l.receive); err != nil {
		return nil, fmt.Errorf("ledger: consume: %w", err)
	}
	return l, nil
}

// Stop ends the consumption.
func (l *Ledger) Stop() { l.cc.Stop() }

// Published records a command of type t about to be published (so that
// its first event, however fast, finds it).
func (l *Ledger) Published(commandID string, t messages.CommandType, at time.Time) {
	l.mu.Lock()
	l.inFlight[commandID] = at
	l.startTimeline(commandID, t, at)
	l.results[commandID] = &CommandResult{}
	l.signal()
	l.mu.Unlock()
}

func (l *Ledger) receive(m jetstream.Msg) {
	now := time.Now()
	ev, err := messages.DecodeEventStrict(m.Data())
	meta, _ := m.Metadata()
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.signal()
	if meta != nil && meta.Sequence.Stream > l.lastSeq {
		l.lastSeq = meta.Sequence.Stream
	}
	if err != nil {
		l.rec.Mismatch(fmt.Sprintf("undecodable event on %s: %v", m.Subject(), err))
		return
	}
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		l.rec.Mismatch(fmt.Sprintf("event with a malformed ID %q on %s", ev.ID, m.Subject()))
		return
	}
	if _, dup := l.seen[id]; dup {
		l.Duplicates++
		return
	}
	l.seen[id] = struct{}{}
	if _, lost := l.lost[ev.CommandID]; lost {
		l.Late++ // counted lost already; what it does is not booked
		return
	}
	if at, ok := l.inFlight[ev.CommandID]; ok {
		typ := ev.CommandType
		if p := l.timelines[ev.CommandID]; p != nil {
			typ = p.commandType // as sent
		}
		l.rec.Completed(now, string(typ), now.Sub(at))
		l.firstEvent(ev.CommandID, m.Headers(), now)
		delete(l.inFlight, ev.CommandID)
		if l.OnOutcome != nil && meta != nil {
			l.OnOutcome(ev.CommandID, ev.CustomerID, meta.Timestamp, now)
		}
	}
	res := l.results[ev.CommandID]
	noteCreated(res, ev)
	switch d := ev.Data.(type) {
	case *messages.CommandDeferredEvent:
		if res != nil {
			res.Deferred = true
		}
	case *messages.CommandRejectedEvent:
		l.rec.Rejected(d.Code)
		if res != nil {
			res.Rejected, res.RejectedData = d.Code, d.Data
		}
	case *messages.ReservationExchangedEvent:
		if res != nil {
			res.ExchangedTo = d.NewSubscriptionID
		}
	case *messages.OrderProcessedEvent:
		for _, line := range d.Lines {
			if line.Rejection != nil {
				l.rec.Rejected(line.Rejection.Code)
				if res != nil {
					res.Rejected, res.RejectedData = line.Rejection.Code, line.Rejection.Data
				}
			} else if res != nil {
				if res.OrderSubs == nil {
					res.OrderSubs = map[string]string{}
				}
				res.OrderSubs[line.LineID] = line.SubscriptionID
			}
		}
	case *messages.SubscriptionCreatedEvent:
		switch {
		case ev.CommandType == messages.CmdTimerFired:
			l.createdByTimer[subKey(d.OrderID, d.LineID, d.OfferID)] = d.SubscriptionID
		case ev.CommandType == messages.CmdTransferSubmit && res != nil:
			res.TransferredSubs = append(res.TransferredSubs, d.SubscriptionID)
		}
	case *messages.BillingEvent:
		e := Entry{EventID: ev.ID, CommandID: ev.CommandID, CommandType: ev.CommandType, CustomerID: ev.CustomerID,
			Kind: "charge", Bill: *d}
		if ev.Type == messages.EvtBillingCredit {
			e.Kind = "credit"
		}
		if l.Corrupt != nil {
			l.Corrupt(&e)
		}
		l.rec.Billing(e.Kind, d.Currency, d.AmountMinor, ev.OccurredAt)
		switch {
		case res != nil:
			res.Bills = append(res.Bills, e)
		case ev.CommandType == messages.CmdTimerFired:
			l.timerBills = append(l.timerBills, e)
		default:
			l.rec.Mismatch(fmt.Sprintf("billing event %s of command %s (%s) that the simulator did not send: %s %d %s",
				ev.ID, ev.CommandID, ev.CommandType, e.Kind, d.AmountMinor, d.Currency))
		}
	case *messages.RefundWindowNoticeEvent:
		l.bookNotice(ev, d)
	}
}

func subKey(order, line, offer string) string { return order + "/" + line + "/" + offer }

func (l *Ledger) signal() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// InFlightIDs are the published commands that have no event yet.
func (l *Ledger) InFlightIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Collect(maps.Keys(l.inFlight))
}

// AwaitInFlight waits until at least one published command has no event
// yet, or ctx ends: a fault test strikes then, with work under way.
func (l *Ledger) AwaitInFlight(ctx context.Context) error {
	return l.waitUntil(ctx, func() bool { return len(l.inFlight) > 0 })
}

// InFlight is how many published commands have no event yet.
func (l *Ledger) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.inFlight)
}

// waitUntil blocks until cond holds (evaluated under the lock) or ctx ends.
func (l *Ledger) waitUntil(ctx context.Context, cond func() bool) error {
	for {
		l.mu.Lock()
		ok := cond()
		ch := l.changed
		l.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// take hands the results of the given commands and the timer bills to
// the reconciliation and forgets them.
func (l *Ledger) take(commandIDs []string) (map[string]*CommandResult, []Entry, map[string]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]*CommandResult, len(commandIDs))
	for _, id := range commandIDs {
		out[id] = l.results[id]
		delete(l.results, id)
		l.keepDeferred(id, out[id])
	}
	timers := l.timerBills
	l.timerBills = nil
	created := l.createdByTimer
	l.createdByTimer = map[string]string{}
	return out, timers, created
}
