package simulator

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// Watcher follows the event stream (from its start, with an ordered
// consumer that keeps no server state) and keeps every event by ID.
// Duplicate deliveries of one event ID are counted, and a second delivery
// whose body differs from the first is recorded as a conflict: that would
// be two different events for one effect (guarantee G1, README).
type Watcher struct {
	mu        sync.Mutex
	byID      map[string][]byte
	order     []messages.Event
	dups      int
	conflicts []string
	changed   chan struct{}
	cc        jetstream.ConsumeContext
}

// WatchEvents starts a watcher on the subjects given (default all events).
func WatchEvents(ctx context.Context, js jetstream.JetStream, stream string, subjects ...string) (*Watcher, error) {
	if len(subjects) == 0 {
		subjects = []string{messages.EventSubjectPrefix + ".>"}
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: subjects})
	if err != nil {
		return nil, fmt.Errorf("event consumer: %w", err)
	}
	w := &Watcher{byID: map[string][]byte{}, changed: make(chan struct{})}
	cc, err := cons.Consume(w.receive)
	if err != nil {
		return nil, err
	}
	w.cc = cc
	return w, nil
}

func (w *Watcher) receive(m jetstream.Msg) {
	ev, err := messages.DecodeEventStrict(m.Data())
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.conflicts = append(w.conflicts, fmt.Sprintf("undecodable event on %s: %v", m.Subject(), err))
	} else if prev, seen := w.byID[ev.ID]; seen {
		w.dups++
		if string(prev) != string(m.Data()) {
			w.conflicts = append(w.conflicts, fmt.Sprintf("event %s delivered twice with different bodies:\n%s\n%s", ev.ID, prev, m.Data()))
		}
	} else {
		w.byID[ev.ID] = append([]byte(nil), m.Data()...)
		w.order = append(w.order, ev)
	}
	close(w.changed)
	w.changed = make(chan struct{})
}

// Stop ends the subscription.
func (w *Watcher) Stop() { w.cc.Stop() }

// Events returns the distinct events in arrival order.
func (w *Watcher) Events() []messages.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]messages.Event(nil), w.order...)
}

// Body returns the stored body of an event ID.
func (w *Watcher) Body(id string) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, ok := w.byID[id]
	return b, ok
}

// Duplicates is how many deliveries repeated an event ID already seen.
func (w *Watcher) Duplicates() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dups
}

// Conflicts lists event IDs delivered with different bodies, and
// undecodable events.
func (w *Watcher) Conflicts() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.conflicts...)
}

// WaitFor blocks until cond holds over the distinct events or ctx ends.
// cond runs with the watcher locked: it must use the slice it is given and
// not call the watcher's methods.
func (w *Watcher) WaitFor(ctx context.Context, cond func([]messages.Event) bool) error {
	for {
		w.mu.Lock()
		ok := cond(w.order)
		ch := w.changed
		w.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for events: %w", ctx.Err())
		}
	}
}
