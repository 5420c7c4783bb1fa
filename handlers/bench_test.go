package handlers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
)

// BenchmarkEndToEnd measures commands per second through the whole path:
// publish to JetStream, decide, commit to Redis, publish the event, ack.
// The load is auto-renew switches over 256 customers (one event each),
// published without waiting, then drained. make bench grows this
// into the full report; here it guards the spine's throughput design.
func BenchmarkEndToEnd(b *testing.B) {
	e := newEnv(b, 32)
	e.startProcessor()
	const customers = 256
	subs := make([]string, customers)
	for i := range customers {
		id := fmt.Sprintf("C-B-%d", i)
		e.createCustomer(partnerA, id)
		subs[i] = e.buy(partnerA, id, 5)
	}
	b.ResetTimer()
	start := time.Now()
	before := len(e.events.Events())
	for i := 0; i < b.N; i++ {
		c := i % customers
		on := (i/customers)%2 == 1
		cmd := messages.Command{ID: fmt.Sprintf("b-%d", i), Type: messages.CmdAutoRenewSet, CustomerID: fmt.Sprintf("C-B-%d", c),
			Data: &messages.AutoRenewSetData{SubscriptionID: subs[c], Enabled: &on}}
		msg, err := simulator.CommandMsg(partnerA, cmd)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.js.PublishMsgAsync(msg); err != nil {
			b.Fatal(err)
		}
	}
	<-e.js.PublishAsyncComplete()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(evs) >= before+b.N }); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commands/s")
}
