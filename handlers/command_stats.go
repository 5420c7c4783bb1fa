package handlers

import (
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// Command outcomes, as counted (CommandStats.Outcomes). Each command the
// handler finishes with counts once: the attempts that failed and were
// retried do not.
const (
	cmdOutcomeAccepted     = "accepted"
	cmdOutcomeRejected     = "rejected"
	cmdOutcomeDeferred     = "deferred" // parked until a renewal completes (REN-4)
	cmdOutcomeDuplicate    = "duplicate"
	cmdOutcomeDeadLettered = "dead_lettered"
	// cmdOutcomeIgnored is a timer command that was not due or stale: it
	// leaves no trace, not even in the inbox.
	cmdOutcomeIgnored = "ignored"
)

// unknownType labels a command whose type is not one this version knows
// (it was dead-lettered): the label's values stay the fixed set of types.
const unknownType = "unknown"

// CommandOutcome is a command type and how its handling ended.
type CommandOutcome struct{ Type, Outcome string }

// Rejection is a rejection's code and the rule that decided it: both from
// fixed sets (the rules' codes and the rule catalogue).
type Rejection struct{ Code, Rule string }

// Money is one kind of billing event ("charge" or "credit") in a currency.
type Money struct{ Kind, Currency string }

// MoneyTotal is how many billing events of a Money were committed and
// their amounts' sum in the currency's minor units.
type MoneyTotal struct{ Count, AmountMinor uint64 }

// PartitionStats is what the handler saw of one partition.
type PartitionStats struct {
	// Redeliveries counts commands handed to the handler again: retries
	// in place after a failure and the server's redeliveries.
	Redeliveries uint64
	// OldestUnacked is the broker's timestamp of the oldest command of the
	// partition handed to the handler and not acked yet (zero: none).
	OldestUnacked time.Time
}

// CommandStats is what the command handler counted since it started.
type CommandStats struct {
	Outcomes    map[CommandOutcome]uint64
	Rejections  map[Rejection]uint64
	DeadLetters map[string]uint64 // by dead-letter code
	Billing     map[Money]MoneyTotal
	Partitions  map[int]PartitionStats
}

// commandCounters are CommandStats as the concurrent handler calls update
// them. One mutex: each command takes it a few times for a map update,
// nothing next to its Redis and NATS round trips.
type commandCounters struct {
	mu          sync.Mutex
	outcomes    map[CommandOutcome]uint64
	rejections  map[Rejection]uint64
	deadLetters map[string]uint64
	billing     map[Money]MoneyTotal
	redelivered map[int]uint64
	// inFlight are the commands handed to the handler and not acked yet,
	// by message UUID (stream and sequence: the same on a redelivery).
	inFlight map[string]inFlightCommand
}

type inFlightCommand struct {
	partition int
	storedAt  time.Time
	// counted: an attempt counted the command's outcome. A later attempt
	// (its events' publish failed after the commit) finds the command
	// applied and must not count it again as a duplicate.
	counted bool
}

// first reports whether msg's outcome is not counted yet, and marks it
// counted. Called with mu held.
func (c *commandCounters) first(msg *message.Message) bool {
	f, ok := c.inFlight[msg.UUID]
	if !ok {
		return true
	}
	if f.counted {
		return false
	}
	f.counted = true
	c.inFlight[msg.UUID] = f
	return true
}

func newCommandCounters() *commandCounters {
	return &commandCounters{outcomes: map[CommandOutcome]uint64{}, rejections: map[Rejection]uint64{},
		deadLetters: map[string]uint64{}, billing: map[Money]MoneyTotal{}, redelivered: map[int]uint64{},
		inFlight: map[string]inFlightCommand{}}
}

// decision is what the counters keep of a committed decision.
type decision struct {
	result  inboxResult
	rule    string
	billing []billed
}

// billed is one billing event of a decision and its kind ("charge" or
// "credit").
type billed struct {
	kind  string
	event *messages.BillingEvent
}

// decisionOf summarises a decision and the inbox result buildCommit made
// of it.
func decisionOf(out rules.Outcome, result inboxResult) decision {
	d := decision{result: result}
	if out.Rejected != nil {
		d.rule = out.Rejected.Rule
	}
	for _, e := range out.Events {
		b, ok := e.Data.(*messages.BillingEvent)
		if !ok {
			continue
		}
		switch e.Type {
		case messages.EvtBillingCharge:
			d.billing = append(d.billing, billed{"charge", b})
		case messages.EvtBillingCredit:
			d.billing = append(d.billing, billed{"credit", b})
		}
	}
	return d
}

// handed records a command handed to the handler: in flight until done,
// and a redelivery when it was tried before.
func (c *commandCounters) handed(msg *message.Message) {
	if c == nil {
		return
	}
	partition, err := strconv.Atoi(msg.Metadata.Get(bus.MetaPartition))
	if err != nil {
		return // not from the command subscriber
	}
	stored, _ := time.Parse(time.RFC3339Nano, msg.Metadata.Get(bus.MetaTimestamp))
	c.mu.Lock()
	defer c.mu.Unlock()
	if bus.Attempts(msg) > 1 {
		c.redelivered[partition]++
	}
	if _, ok := c.inFlight[msg.UUID]; !ok {
		c.inFlight[msg.UUID] = inFlightCommand{partition: partition, storedAt: stored}
	}
}

// acked records that the router acks msg.
func (c *commandCounters) acked(msg *message.Message) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.inFlight, msg.UUID)
	c.mu.Unlock()
}

// finished counts a command's outcome.
func (c *commandCounters) finished(msg *message.Message, typ messages.CommandType, outcome string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first(msg) {
		c.outcomes[CommandOutcome{Type: typeLabel(typ), Outcome: outcome}]++
	}
}

// committed counts a committed decision: its outcome, its rejection and
// its billing events.
func (c *commandCounters) committed(msg *message.Message, typ messages.CommandType, d decision) {
	if c == nil {
		return
	}
	outcome := d.result.Outcome
	if outcome == "" {
		outcome = cmdOutcomeAccepted
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.first(msg) {
		return
	}
	c.outcomes[CommandOutcome{Type: typeLabel(typ), Outcome: outcome}]++
	if outcome == cmdOutcomeRejected {
		c.rejections[Rejection{Code: d.result.Code, Rule: d.rule}]++
	}
	for _, b := range d.billing {
		k := Money{Kind: b.kind, Currency: b.event.Currency}
		t := c.billing[k]
		t.Count++
		t.AmountMinor += uint64(max(b.event.AmountMinor, 0)) // never negative (BillingEvent)
		c.billing[k] = t
	}
}

// deadLettered counts a command set aside under code.
func (c *commandCounters) deadLettered(msg *message.Message, typ messages.CommandType, code string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first(msg) {
		c.outcomes[CommandOutcome{Type: typeLabel(typ), Outcome: cmdOutcomeDeadLettered}]++
		c.deadLetters[code]++
	}
}

// snapshot copies the counts. Partitions has an entry for each of
// partitions (those this replica consumes now); commands in flight on
// others (a partition handed over) are forgotten, since they will not be
// acked here.
func (c *commandCounters) snapshot(partitions []int) CommandStats {
	if c == nil {
		return CommandStats{Partitions: map[int]PartitionStats{}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := CommandStats{Outcomes: maps.Clone(c.outcomes), Rejections: maps.Clone(c.rejections), DeadLetters: maps.Clone(c.deadLetters),
		Billing: maps.Clone(c.billing), Partitions: map[int]PartitionStats{}}
	for p, n := range c.redelivered {
		s.Partitions[p] = PartitionStats{Redeliveries: n}
	}
	for _, p := range partitions {
		s.Partitions[p] = s.Partitions[p]
	}
	for id, f := range c.inFlight {
		ps, ok := s.Partitions[f.partition]
		if !ok || !slices.Contains(partitions, f.partition) {
			delete(c.inFlight, id)
			continue
		}
		if ps.OldestUnacked.IsZero() || f.storedAt.Before(ps.OldestUnacked) {
			ps.OldestUnacked = f.storedAt
		}
		s.Partitions[f.partition] = ps
	}
	return s
}

// typeLabel is typ when this version knows it, else unknownType.
func typeLabel(typ messages.CommandType) string {
	if knownTypes()[typ] {
		return string(typ)
	}
	return unknownType
}

var knownTypes = sync.OnceValue(func() map[messages.CommandType]bool {
	m := map[messages.CommandType]bool{}
	for _, t := range messages.CommandTypes() {
		m[t] = true
	}
	return m
})
