package rawlimit

import (
	"context"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// The raw pipeline commits every command once, in each customer's order,
// and still delivers every event and acks every command.
func TestMeasurePipelineCommitsEveryCommandOnce(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	rdb := redistest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const commands, customers = 1500, 200
	p := Params{Commands: commands, EventsPerCommand: 2, StateBytes: 1200, Customers: customers, KeepRedisKeys: true}
	res, err := MeasurePipeline(ctx, nc, rdb, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.Commands != commands || res.Events != 2*commands || res.DuplicateEvents != 0 || res.RedisScripts != commands {
		t.Errorf("commands %d, events %d, duplicates %d, commits %d; want %d, %d, 0, %d",
			res.Commands, res.Events, res.DuplicateEvents, res.RedisScripts, commands, 2*commands, commands)
	}
	if !(res.CommandsPerSec > 0) {
		t.Errorf("rate not positive: %+v", res)
	}
	assertStreamMsgs(t, js, EventStream, 2*commands)

	// Redis holds every command committed once: the customers' versions
	// add up to the commands, each with its state field.
	store := state.NewStore(rdb, state.Options{Prefix: res.RedisPrefix})
	var versions int64
	for c := range customers {
		snap, err := store.Load(ctx, CustomerID(c), "")
		if err != nil {
			t.Fatal(err)
		}
		versions += snap.Version
		if got := len(snap.Fields[stateField]); got != 1200 {
			t.Errorf("%s: state field of %d bytes, want 1200", CustomerID(c), got)
		}
	}
	if versions != commands {
		t.Errorf("versions add up to %d, want %d", versions, commands)
	}
}
