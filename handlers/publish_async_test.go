package handlers

import (
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

type publishResult struct {
	ack *jetstream.PubAck
	err error
}

// publishAll publishes the plan asynchronously from several connections
// at once (each planned message on its publisher, in plan order) and
// returns every message's PubAck or error.
func (e *env) publishAll(plan []planned, publishers int) []publishResult {
	e.t.Helper()
	results := make([]publishResult, len(plan))
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		_, js := natstest.Connect(e.t, e.srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			futures := map[int]jetstream.PubAckFuture{}
			for i, pl := range plan {
				if pl.publisher != p {
					continue
				}
				f, err := js.PublishMsgAsync(pl.msg)
				if err != nil {
					results[i].err = err
					continue
				}
				futures[i] = f
			}
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				errs <- fmt.Errorf("publisher %d: acks missing after a minute", p)
				return
			}
			for i, f := range futures {
				select {
				case ack := <-f.Ok():
					results[i].ack = ack
				case err := <-f.Err():
					results[i].err = err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		e.t.Fatal(err)
	}
	return results
}
