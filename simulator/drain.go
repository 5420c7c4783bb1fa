package simulator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// A drain run (make bench) stores a backlog of commands while the
// processor is stopped, then starts it alone and times how long it takes
// to work through them. Queue writes the backlog, WaitCommandsAcked and
// CountAnswered say when and whether it was worked through.

// drainPoll is how often WaitCommandsAcked reads the consumers: listing
// every partition's consumer is work for the broker, which shares the
// machine with the processor being timed.
const drainPoll = 50 * time.Millisecond

// Queue generates n commands of the mix for the run's customers (one per
// customer in turn, at the simulated clock's time) and stores them in the
// command stream without waiting for any answer, and returns their IDs.
// The generator's model takes each command's predicted outcome as it
// generates it, so a customer's later commands of the backlog build on
// its earlier ones; commands on subscriptions bought in the backlog are
// not generated (their IDs come from answers never awaited). The run's
// outcomes are not checked afterwards: the Runner is spent.
func (r *Runner) Queue(ctx context.Context, n int) ([]string, error) {
	var live = r.customers[:0:0]
	for _, c := range r.customers {
		if c.Created && !r.diverged[c.ID] {
			live = append(live, c)
		}
	}
	if len(live) == 0 {
		return nil, errors.New("queue: no customers (run the Runner first)")
	}
	now := r.Clock.Now
	stamp := now.UTC().Format(time.RFC3339Nano)
	batch := bus.NewBatch(r.JS, storeOptions())
	ids := make([]string, 0, n)
	for i := range n {
		c := live[i%len(live)]
		a, err := r.Gen.Next(c, r.timeOf(c, now))
		if err != nil {
			return nil, err
		}
		partner, role := a.Partner, a.Role
		if partner == "" {
			partner = c.Partner
		}
		if role == "" {
			role = messages.RoleAdminAgent
		}
		msg, err := messages.NewCommandMsg(partner, role, a.Command)
		if err != nil {
			return nil, err
		}
		msg.Header.Set(messages.HeaderSimulatedTime, stamp)
		if err := batch.Add(msg); err != nil {
			return nil, err
		}
		r.Kinds[a.Kind]++
		ids = append(ids, a.Command.ID)
	}
	if _, err := batch.Wait(ctx); err != nil {
		return nil, fmt.Errorf("backlog not stored within %s: %w", storeBudget, err)
	}
	return ids, nil
}

// WaitCommandsAcked returns once no command stream consumer has a command
// pending or unacknowledged: the processor worked through every command
// stored (the processor acks a command once its events are stored).
func (r *Runner) WaitCommandsAcked(ctx context.Context) error {
	for {
		idle, err := r.consumersIdle(ctx)
		if idle && err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until the processor acknowledged every command: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(drainPoll): // polling the broker's counters
		}
	}
}

// CountAnswered reads the event stream from sequence from to its current
// end and counts the commands of ids that got at least one event (every
// command the processor applies, accepted or rejected, is answered).
func CountAnswered(ctx context.Context, js jetstream.JetStream, stream string, from uint64, ids []string) (int, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = false
	}
	info, err := streamInfo(ctx, js, stream)
	if err != nil {
		return 0, err
	}
	last := info.State.LastSeq
	if last < from {
		return 0, nil
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from})
	if err != nil {
		return 0, err
	}
	answered := 0
	for {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			return answered, fmt.Errorf("reading events %d..%d: %w", from, last, err)
		}
		if ev, err := messages.DecodeEvent(m.Data()); err == nil {
			if seen, ok := want[ev.CommandID]; ok && !seen {
				want[ev.CommandID] = true
				answered++
			}
		}
		meta, err := m.Metadata()
		if err != nil {
			return answered, err
		}
		if meta.Sequence.Stream >= last {
			return answered, nil
		}
		if err := ctx.Err(); err != nil {
			return answered, err
		}
	}
}
