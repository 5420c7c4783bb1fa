package bus_test

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/cspreseller/csp-processor/messages/bus"
)

var benchHandlerDelay = flag.Duration("bus.handlerdelay", time.Millisecond,
	"how long the benchmark's handler works on each command (a Redis round trip or two)")

// BenchmarkSubscriberThroughput is commands per second through the
// subscriber and a watermill router over 8 partitions and 256 customers,
// with a handler that takes -bus.handlerdelay per command, for several
// MaxInFlight values. It measures what several commands in flight per
// partition buy when the handler waits on I/O.
func BenchmarkSubscriberThroughput(b *testing.B) {
	for _, inFlight := range []int{1, 4, 16, 64} {
		b.Run(fmt.Sprintf("MaxInFlight=%d", inFlight), func(b *testing.B) {
			benchSubscriber(b, bus.SubscriberConfig{MaxInFlight: inFlight})
		})
	}
}

func benchSubscriber(b *testing.B, cfg bus.SubscriberConfig) {
	const partitions, customers = 8, 256
	e := newEnv(b, partitions)
	for i := 0; i < b.N; i++ {
		c := fmt.Sprintf("c%d", i%customers)
		if _, err := e.js.PublishAsync("csp.cmd.P1.admin_agent."+c+".order.placed", []byte(cmdPayload(c, i))); err != nil {
			b.Fatal(err)
		}
	}
	<-e.js.PublishAsyncComplete()
	rec := newRecorder()
	b.ResetTimer()
	start := time.Now()
	sub := e.subscriber(b, e.js, cfg)
	runRouter(b, sub, func(m *message.Message) error {
		time.Sleep(*benchHandlerDelay)
		rec.add("", 0)
		return nil
	})
	checkFor(b, 10*time.Minute, time.Millisecond, rec.waitCount(b.N))
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "commands/s")
}
