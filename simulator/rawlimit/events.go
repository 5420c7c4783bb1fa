package rawlimit

import (
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// eventCounter receives the load's events (from an ordered consumer, as an
// event consumer of the processor would) and checks that each arrives: it
// marks every event index, counts repeats, and notes when the last
// missing one came.
type eventCounter struct {
	mu       sync.Mutex
	seen     []bool
	distinct int
	dups     int
	doneAt   time.Time
	done     chan struct{}
	fail     func(error)
}

func newEventCounter(total int, fail func(error)) *eventCounter {
	c := &eventCounter{seen: make([]bool, total), done: make(chan struct{}), fail: fail}
	if total == 0 {
		c.finish()
	}
	return c
}

func (c *eventCounter) receive(m jetstream.Msg) {
	n, err := eventIndex(m.Headers().Get(jetstream.MsgIDHeader))
	if err == nil && (n < 0 || n >= len(c.seen)) {
		err = fmt.Errorf("event index %d outside the load's 0..%d", n, len(c.seen)-1)
	}
	if err != nil {
		c.fail(err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen[n] {
		c.dups++
		return
	}
	c.seen[n] = true
	c.distinct++
	if c.distinct == len(c.seen) {
		c.finish()
	}
}

// finish records the completion time; c.mu is held or c is not shared yet.
func (c *eventCounter) finish() {
	c.doneAt = time.Now()
	close(c.done)
}

// counts returns the distinct events received, the repeats, and when the
// last missing event arrived (zero while some are missing).
func (c *eventCounter) counts() (distinct, dups int, doneAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.distinct, c.dups, c.doneAt
}
