package handlers

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
	"github.com/cspreseller/csp-processor/state"
)

// The timer index has one key per slot of the command stream.
func TestTimerIndexHasOneKeyPerSlot(t *testing.T) {
	if state.TimerSlots != bus.Slots {
		t.Fatalf("state.TimerSlots %d, bus.Slots %d", state.TimerSlots, bus.Slots)
	}
}

// customerOfPartition returns a customer ID of partition p among n.
func customerOfPartition(t testing.TB, prefix string, p, n int) string {
	for i := 0; i < 100000; i++ {
		c := prefix + time.Duration(i).String()
		if bus.PartitionOf(c, n) == p {
			return c
		}
	}
	t.Fatalf("no customer in partition %d", p)
	return ""
}

// G7 with ownership: on the wall clock a replica fires the timers of the
// partitions it owns, and leaves the others' in the index for their owner.
func TestG7_SchedulerFiresOnlyTheTimersOfOwnedPartitions(t *testing.T) {
	e := newEnv(t, 8)
	ctx := context.Background()
	mine := customerOfPartition(t, "C-M-", 2, 8)
	theirs := customerOfPartition(t, "C-T-", 5, 8)
	due := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	for _, c := range []string{mine, theirs} {
		if err := e.store.IndexTimers(ctx, bus.SlotOf(c), []state.TimerEntry{{CustomerID: c, TimerID: "T." + c, Kind: "term_end", SubscriptionID: "s", DueAt: due}}); err != nil {
			t.Fatal(err)
		}
	}
	s := &Scheduler{Store: e.store, JS: e.js, NATS: e.nc, Partitions: 8, Owned: func() []int { return []int{2, 3} }}
	fired, err := s.fireDue(ctx, s.ownedSlots(), time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(fired) != 1 || fired[0].CustomerID != mine {
		t.Fatalf("fired %+v, want only %s's timer", fired, mine)
	}
	if got, _ := e.store.DueTimers(ctx, bus.SlotOf(mine), time.Now(), 10); len(got) != 0 {
		t.Errorf("the owned timer is still indexed: %+v", got)
	}
	if got, _ := e.store.DueTimers(ctx, bus.SlotOf(theirs), time.Now(), 10); len(got) != 1 {
		t.Errorf("the other partition's timer: %+v, want it left in the index", got)
	}
	// The command is in the stream under the customer's slot.
	st, err := e.js.Stream(ctx, e.bus.Streams.CommandStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(ctx, bus.SlotFilter(bus.SlotOf(mine)))
	if err != nil {
		t.Fatalf("timer command of %s: %v", mine, err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, bus.SlotFilter(bus.SlotOf(theirs))); err == nil {
		t.Errorf("a timer command of %s was published: %s", theirs, m.Subject)
	} else if err != nil && !isNotFound(err) {
		t.Fatal(err)
	}
	// Owning nothing fires nothing; owning all (nil) fires the rest.
	s.Owned = func() []int { return nil }
	if fired, err := s.fireDue(ctx, s.ownedSlots(), time.Now(), false); err != nil || len(fired) != 0 {
		t.Errorf("owning nothing fired %+v, %v", fired, err)
	}
	s.Owned = nil
	if fired, err := s.fireDue(ctx, s.ownedSlots(), time.Now(), false); err != nil || len(fired) != 1 || fired[0].CustomerID != theirs {
		t.Errorf("owning all fired %+v, %v", fired, err)
	}
}

func isNotFound(err error) bool { return err == jetstream.ErrMsgNotFound }

// BenchmarkSchedulerWallClockPoll is one wall-clock poll of every slot's
// index with nothing due: the scheduler's idle cost per Poll.
func BenchmarkSchedulerWallClockPoll(b *testing.B) {
	e := newEnv(b, 8)
	s := &Scheduler{Store: e.store, JS: e.js, NATS: e.nc, Partitions: 8}
	ctx := context.Background()
	for b.Loop() {
		if _, err := s.fireDue(ctx, s.ownedSlots(), time.Now(), false); err != nil {
			b.Fatal(err)
		}
	}
}

// With several replicas in simulation mode, one answers each clock move
// (a queue group): the simulator gets one reply, and the timers fire from
// that replica only.
func TestSimulatedClockMoveIsAnsweredByOneReplica(t *testing.T) {
	e := newEnv(t, 8)
	var scheds []*Scheduler
	for range 2 {
		nc, js := natstest.Connect(t, e.srv)
		s := &Scheduler{Store: e.store, JS: js, NATS: nc, Partitions: 8, Clock: SimulatedClock, Logger: watermill.NopLogger{}}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
		if err := nc.Flush(); err != nil { // the server has the subscription
			t.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	inbox := nats.NewInbox()
	replies, err := e.nc.SubscribeSync(inbox)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(messages.SimClockRequest{To: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)})
	if err := e.nc.PublishRequest(messages.SimClockSubject, inbox, body); err != nil {
		t.Fatal(err)
	}
	if _, err := replies.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("no reply to the clock move: %v", err)
	}
	if m, err := replies.NextMsg(500 * time.Millisecond); err == nil {
		t.Fatalf("a second reply: %s", m.Data)
	}
}
