package rawlimit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redistest"
)

func TestMeasureRedisCommitsEveryOperationOnce(t *testing.T) {
	rdb := redistest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const ops, customers = 2000, 320
	p := Params{Commands: ops, EventsPerCommand: 2.5, EventBytes: 700, StateBytes: 1500, Customers: customers, KeepRedisKeys: true}
	res, err := MeasureRedis(ctx, rdb, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	if res.RedisScripts != ops || res.RedisRoundTrips != ops {
		t.Errorf("%d scripts, %d round trips; want %d each", res.RedisScripts, res.RedisRoundTrips, ops)
	}
	if !(res.RedisScriptsPerSec > 0 && res.RedisRoundTripsPerSec > 0) {
		t.Errorf("rates not positive: %+v", res)
	}

	// What Redis holds: every operation committed once, for one customer,
	// with its events in the outbox (key layout from state/README.md).
	store := state.NewStore(rdb, state.Options{Prefix: res.RedisPrefix})
	var versions int64
	applied := map[string]string{}
	outboxed := 0
	for c := range customers {
		id := CustomerID(c)
		snap, err := store.Load(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		versions += snap.Version
		if got := len(snap.Fields[stateField]); snap.Version > 0 && got != 1500 {
			t.Errorf("%s: state field of %d bytes, want 1500", id, got)
		}
		cmds, err := rdb.HKeys(ctx, res.RedisPrefix+":{"+id+"}:inbox").Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range cmds {
			if prev, dup := applied[cmd]; dup {
				t.Errorf("command %s applied for %s and %s", cmd, prev, id)
			}
			applied[cmd] = id
		}
		n, err := rdb.HLen(ctx, res.RedisPrefix+":{"+id+"}:outbox").Result()
		if err != nil {
			t.Fatal(err)
		}
		outboxed += int(n)
	}
	if versions != ops || len(applied) != ops {
		t.Errorf("versions add up to %d, %d commands in inboxes; want %d each", versions, len(applied), ops)
	}
	if want := EventsTotal(ops, 2.5); outboxed != want {
		t.Errorf("%d events in outboxes, want %d", outboxed, want)
	}
	// Each command's inbox entry names its share of events.
	for _, op := range []int{0, 1, ops - 1} {
		cmd := commandIDPrefix + strconv.Itoa(op)
		snap, err := store.Load(ctx, applied[cmd], cmd)
		if err != nil || snap.Seen == nil {
			t.Fatalf("command %s: %v, seen %v", cmd, err, snap.Seen)
		}
		if want := eventsBefore(op+1, 2.5) - eventsBefore(op, 2.5); len(snap.Seen.EventIDs) != want {
			t.Errorf("command %s: %d events, want %d", cmd, len(snap.Seen.EventIDs), want)
		}
	}
}

func TestMeasureRedisLeavesNoKeysBehind(t *testing.T) {
	rdb := redistest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rdb.Set(ctx, "csp:{C-000001}:state", "the processor's", 0).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := MeasureRedis(ctx, rdb, Params{Commands: 500, EventsPerCommand: 2, RedisLanes: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.RedisPrefix, RedisPrefixBase+"-") {
		t.Errorf("prefix %q", res.RedisPrefix)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(keys) != "[csp:{C-000001}:state]" {
		t.Errorf("keys after the run: %v, want only the processor's", keys)
	}
}

func TestMeasureRedisFailsOnCancelledContext(t *testing.T) {
	rdb := redistest.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MeasureRedis(ctx, rdb, Params{Commands: 100}); err == nil {
		t.Fatal("no error from a cancelled context")
	}
}
