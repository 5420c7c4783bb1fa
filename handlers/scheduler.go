package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/state"
)

// Scheduler fires durable timers (guarantee G7, README): it reads the timer
// index, publishes one timer.fired command per due timer (as
// SystemPartner, command ID = timer ID, Nats-Msg-Id = customer:timer ID)
// into the command stream, and removes the entry once JetStream stored the
// command. The command then takes the ordinary path: ordered with the
// customer's other commands, deduplicated by the inbox, decided by the
// rules. A timer announced twice (two replicas, a crash before the
// removal) is therefore applied once.
//
// With BrokerClock it polls the wall clock, reading the timer index of
// the slots of the partitions it owns (Owned). With SimulatedClock the
// clock is the simulator's: it answers requests on
// messages.SimClockSubject in a queue group, so one replica answers each
// clock move, and that replica fires every slot's due timers one due
// instant at a time, waiting for each batch to be
// applied before the next, so that a timer set by another (a renewal's
// completion) fires in its place in time. The simulated time is kept in
// Redis, so a restarted processor fires what became due before it died.
// Test clocks (testclocks.go) keep their customers' timers out of the
// slots' indexes: only their own advances fire them.
type Scheduler struct {
	Store *state.Store
	JS    jetstream.JetStream
	NATS  *nats.Conn
	// Partitions is the partition count (bus.StreamsConfig.Partitions).
	Partitions int
	// Owned returns the partitions whose timers this replica fires on the
	// wall clock: those it consumes. Nil means all of them.
	Owned func() []int
	Clock ClockMode
	// Poll is the wall-clock polling interval (BrokerClock); default 1s.
	Poll time.Duration
	// Publish bounds the wait for the timer commands' PubAcks (bus.Store;
	// bus defaults when zero: 3 s a wait, 10 s in all; NewProcessor gives
	// timerPublishBudget).
	Publish bus.StoreOptions
	Logger  watermill.LoggerAdapter

	cancel context.CancelFunc
	done   chan struct{}
	sub    *nats.Subscription
	mu     sync.Mutex // one clock move at a time
	// testClockSub answers test clock requests (testclocks.go).
	testClockSub *nats.Subscription
	// counters count the timer commands stored (nil: not counted).
	counters *timerCounters
}

// timerPublishBudget bounds the storing of one round's timer commands:
// long enough to ride out a stream leader's failover on a cluster (5 to
// 9 s measured, plus an ack timeout) in one piece, so a clock move does
// not fail and get asked again; far inside the duplicate window.
const timerPublishBudget = 30 * time.Second

// batchPerSlot bounds one round's reads of a slot's index.
const batchPerSlot = 512

// simClockQueue is the queue group of the schedulers' clock subscription:
// one replica answers each clock move.
const simClockQueue = "csp-scheduler"

// allSlots lists every slot.
var allSlots = func() []int {
	out := make([]int, bus.Slots)
	for i := range out {
		out[i] = i
	}
	return out
}()

// ownedSlots lists the slots of the partitions this replica owns.
func (s *Scheduler) ownedSlots() []int {
	if s.Owned == nil {
		return allSlots
	}
	n := s.Partitions
	if n <= 0 {
		n = bus.DefaultPartitions
	}
	var out []int
	for _, p := range s.Owned() {
		first, end := bus.PartitionSlots(p, n)
		for slot := first; slot < end; slot++ {
			out = append(out, slot)
		}
	}
	return out
}

// Start begins firing timers.
func (s *Scheduler) Start() error {
	if s.Poll == 0 {
		s.Poll = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	if s.NATS != nil {
		tc, err := s.subscribeTestClocks(ctx)
		if err != nil {
			cancel()
			return err
		}
		s.testClockSub = tc
	}
	if s.Clock == SimulatedClock {
		sub, err := s.NATS.QueueSubscribe(messages.SimClockSubject, simClockQueue, func(m *nats.Msg) { s.answerClock(ctx, m) })
		if err != nil {
			cancel()
			return fmt.Errorf("scheduler: subscribe %s: %w", messages.SimClockSubject, err)
		}
		s.sub = sub
		go func() {
			defer close(s.done)
			// Resume: what became due before a restart fires now.
			if now, err := s.Store.SimClock(ctx); err == nil && !now.IsZero() {
				s.mu.Lock()
				if _, err := s.advance(ctx, now); err != nil && ctx.Err() == nil {
					s.Logger.Error("Resuming simulated timers failed", err, nil)
				}
				s.mu.Unlock()
			}
		}()
		return nil
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(s.Poll)
		defer t.Stop()
		for {
			if _, err := s.fireDue(ctx, s.ownedSlots(), time.Now(), false); err != nil && ctx.Err() == nil {
				s.Logger.Error("Firing timers failed; retrying at the next tick", err, nil)
			}
			select {
			case <-t.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	return nil
}

// Shutdown stops firing; what is due later fires after the next start.
func (s *Scheduler) Shutdown(ctx context.Context) error {
	if s.cancel == nil {
		return nil
	}
	if s.sub != nil {
		_ = s.sub.Unsubscribe()
	}
	if s.testClockSub != nil {
		_ = s.testClockSub.Unsubscribe()
	}
	s.cancel()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) answerClock(ctx context.Context, m *nats.Msg) {
	var req messages.SimClockRequest
	reply := messages.SimClockReply{}
	to, err := time.Time{}, json.Unmarshal(m.Data, &req)
	if err == nil {
		to, err = time.Parse(time.RFC3339Nano, req.To)
	}
	if err == nil {
		s.mu.Lock()
		var now time.Time
		if now, err = s.Store.SetSimClock(ctx, to); err == nil {
			reply.Fired, err = s.advance(ctx, now)
			reply.Now = now.UTC().Format(time.RFC3339Nano)
		}
		s.mu.Unlock()
	}
	if err != nil {
		reply.Error = err.Error()
	}
	b, _ := json.Marshal(reply)
	_ = m.Respond(b)
}

// advance fires, one due instant at a time, every timer due up to now and
// waits until each is applied.
func (s *Scheduler) advance(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		earliest, slots, err := s.earliestDue(ctx, now)
		if err != nil || len(slots) == 0 {
			return total, err
		}
		fired, err := s.fireDue(ctx, slots, earliest, true)
		total += len(fired)
		if err != nil {
			return total, err
		}
		if err := s.waitApplied(ctx, fired); err != nil {
			return total, err
		}
	}
}

// earliestDue returns the earliest due time of any timer due up to upTo
// and the slots holding a timer due then (none: nothing is due), from one
// read of every slot's earliest entry.
func (s *Scheduler) earliestDue(ctx context.Context, upTo time.Time) (time.Time, []int, error) {
	due, err := s.Store.DueTimersOf(ctx, allSlots, upTo, 1)
	if err != nil {
		return time.Time{}, nil, err
	}
	var earliest time.Time
	var slots []int
	for slot, d := range due {
		switch {
		case len(d) == 0:
		case len(slots) == 0 || d[0].DueAt.Before(earliest):
			earliest, slots = d[0].DueAt, []int{slot}
		case d[0].DueAt.Equal(earliest):
			slots = append(slots, slot)
		}
	}
	return earliest, slots, nil
}

// fireDue publishes a timer.fired command for every indexed timer of slots
// due up to upTo, waits for JetStream to store them, and unindexes them.
// The slots' indexes are read in one round trip.
func (s *Scheduler) fireDue(ctx context.Context, slots []int, upTo time.Time, simulated bool) ([]state.TimerEntry, error) {
	if len(slots) == 0 {
		return nil, nil
	}
	bySlot, err := s.Store.DueTimersOf(ctx, slots, upTo, batchPerSlot)
	if err != nil {
		return nil, err
	}
	var fired []state.TimerEntry
	for i, due := range bySlot {
		if len(due) == 0 { // the index returns only what is due by upTo, to the nanosecond
			continue
		}
		if err := s.storeTimerCommands(ctx, due, simulated); err != nil {
			return fired, err
		}
		if err := s.Store.UnindexTimers(ctx, slots[i], due); err != nil {
			return fired, err
		}
		fired = append(fired, due...)
	}
	return fired, nil
}

// storeTimerCommands publishes a timer.fired command for each entry and
// waits for JetStream to store them all.
func (s *Scheduler) storeTimerCommands(ctx context.Context, due []state.TimerEntry, simulated bool) error {
	msgs := make([]*nats.Msg, 0, len(due))
	for _, t := range due {
		msg, err := messages.NewCommandMsg(messages.SystemPartner, messages.RoleSystem, messages.Command{
			ID: t.TimerID, Type: messages.CmdTimerFired, CustomerID: t.CustomerID,
			Data: &messages.TimerFiredData{TimerID: t.TimerID, Kind: t.Kind, SubscriptionID: t.SubscriptionID, DueAt: t.DueAt},
		})
		if err != nil {
			return err
		}
		if simulated {
			msg.Header.Set(messages.HeaderSimulatedTime, t.DueAt.UTC().Format(time.RFC3339Nano))
		}
		msgs = append(msgs, msg)
	}
	// Bounded (a PubAck lost with a stream leader is waited for at most
	// Publish.AckTimeout, then the timer command is published again with
	// its Nats-Msg-Id); a timer not stored within the budget stays
	// indexed and is published again at the next round or clock move.
	if _, err := bus.Store(ctx, s.JS, msgs, s.publishOptions()); err != nil {
		return fmt.Errorf("scheduler: timers not stored: %w", err)
	}
	s.counters.timerFired(len(msgs))
	return nil
}

// waitApplied waits until every fired timer's command is in its customer's
// inbox, or was dead-lettered because it could not be applied (simulation
// mode only: the simulator may not move on before). A stale entry whose ID
// the state holds with another due time is never recorded (rules.Decide
// ignores it), so it counts as applied at once. A command that failed for
// a permanent reason is dead-lettered after the handler's MaxAttempts, so
// a poison command ahead of a timer, or the timer itself, does not hold
// the clock; a store or broker outage can, at most 2 minutes.
func (s *Scheduler) waitApplied(ctx context.Context, fired []state.TimerEntry) error {
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for _, t := range fired {
		for {
			ok, err := s.Store.Applied(ctx, t.CustomerID, t.TimerID)
			if err == nil && !ok {
				ok, err = s.staleEntry(ctx, t)
			}
			if err == nil && !ok {
				ok, err = s.Store.DeadLettered(ctx, t.CustomerID, t.TimerID)
			}
			if err != nil {
				return err
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("scheduler: timer %s of %s was not applied within 2 minutes", t.TimerID, t.CustomerID)
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// publishOptions are s.Publish with every retry logged.
func (s *Scheduler) publishOptions() bus.StoreOptions {
	o := s.Publish
	if o.OnRetry == nil {
		o.OnRetry = func(msg *nats.Msg, cause error) {
			s.Logger.Info("Publishing a timer command again", watermill.LogFields{
				"msg_id": msg.Header.Get(jetstream.MsgIDHeader), "cause": cause.Error()})
		}
	}
	return o
}

// staleEntry reports whether the customer's state holds the entry's timer
// ID with another due time (an earlier timer that had the same ID).
func (s *Scheduler) staleEntry(ctx context.Context, t state.TimerEntry) (bool, error) {
	b, ok, err := s.Store.StateField(ctx, t.CustomerID, rules.TimerField(t.TimerID))
	if err != nil || !ok {
		return false, err
	}
	var live rules.Timer
	if err := json.Unmarshal(b, &live); err != nil {
		return false, fmt.Errorf("scheduler: timer %s of %s: %w", t.TimerID, t.CustomerID, err)
	}
	return !live.DueAt.Equal(t.DueAt), nil
}

// Lag is how far the scheduler is behind: the processor's clock (the
// simulated time in Redis with SimulatedClock, else the wall clock) minus
// the due time of the oldest timer that is due and not fired yet, in the
// slots this replica fires (every slot with SimulatedClock); 0 when none
// is due. One read of each slot's earliest entry, in one round trip.
func (s *Scheduler) Lag(ctx context.Context) (time.Duration, error) {
	now, slots := time.Now(), s.ownedSlots()
	if s.Clock == SimulatedClock {
		sim, err := s.Store.SimClock(ctx)
		if err != nil || sim.IsZero() { // no clock move yet: nothing can be due
			return 0, err
		}
		now, slots = sim, allSlots
	}
	due, err := s.Store.DueTimersOf(ctx, slots, now, 1)
	if err != nil {
		return 0, err
	}
	var lag time.Duration
	for _, d := range due {
		if len(d) > 0 {
			lag = max(lag, now.Sub(d[0].DueAt))
		}
	}
	return lag, nil
}
