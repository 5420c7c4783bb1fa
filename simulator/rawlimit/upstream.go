package rawlimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// upstreamAckTimeout is how long one command publish may wait for its
// PubAck before it counts as failed.
const upstreamAckTimeout = 30 * time.Second

// stallWait bounds how long a publish waits for room under MaxInFlight
// when ctx has no deadline.
const stallWait = time.Minute

// publishCommands is the upstream order system: it publishes N commands
// round-robin over the customers, asynchronously with at most MaxInFlight
// unacknowledged, and returns when every PubAck is in. start is taken just
// before the first publish.
func publishCommands(ctx context.Context, nc *nats.Conn, p Params) (start time.Time, elapsed time.Duration, err error) {
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
	)
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(p.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(upstreamAckTimeout),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			mu.Lock()
			defer mu.Unlock()
			failed++
			if firstErr == nil {
				firstErr = fmt.Errorf("command %s: %w", m.Header.Get(jetstream.MsgIDHeader), err)
			}
		}))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("rawlimit: upstream jetstream: %w", err)
	}
	// Subjects built once per customer, so the upstream spends its time
	// publishing.
	subjects := make([]string, p.Customers)
	for c := range subjects {
		subjects[c] = messages.CommandSubject(Partner, messages.RoleAdminAgent, CustomerID(c), commandType)
	}
	body := filler(p.CommandBytes)
	wait := stallWait
	if d, ok := ctx.Deadline(); ok {
		wait = max(time.Until(d), time.Millisecond)
	}

	start = time.Now()
	for i := range p.Commands {
		if err := ctx.Err(); err != nil {
			return start, 0, fmt.Errorf("rawlimit: publishing commands: %w", err)
		}
		c := i % p.Customers
		m := &nats.Msg{Subject: subjects[c], Data: body, Header: nats.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, commandMsgID(CustomerID(c), i))
		if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(wait)); err != nil {
			return start, 0, fmt.Errorf("rawlimit: publish command %d: %w", i, err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return start, 0, fmt.Errorf("rawlimit: waiting for %d command PubAcks: %w", js.PublishAsyncPending(), ctx.Err())
	}
	elapsed = time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if failed > 0 {
		return start, elapsed, errors.Join(fmt.Errorf("rawlimit: %d of %d command publishes failed", failed, p.Commands), firstErr)
	}
	return start, elapsed, nil
}
