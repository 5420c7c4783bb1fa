package rawlimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// RedisPrefixBase starts the key prefix of every Redis measurement; each
// run adds its start time, so it begins with no keys (every customer at
// version 0) and never touches the processor's "csp" keys.
const RedisPrefixBase = "rawlimit"

// stateField is the one entity field each commit writes, of StateBytes.
const stateField = "customer"

// inboxResult is the size and shape of the processor's stored result.
var inboxResult = []byte(`{"outcome":"accepted","events":2}`)

// MeasureRedis runs RedisOps commit scripts through state.Store.Commit from
// RedisLanes concurrent lanes and fills the Redis fields of the result;
// then as many PINGs from the same lanes. Each commit writes one state
// field of StateBytes, the command's share of K outbox events of
// EventBytes and an inbox entry, for a customer only its lane uses, and
// must come back Committed. The keys are deleted afterwards unless
// KeepRedisKeys is set (Result.RedisPrefix names them).
//
// rdb's pool should hold RedisLanes connections, as the processor's does
// (it sizes its pool to 64); with fewer, lanes queue for a connection and
// the rate measures the pool.
func MeasureRedis(ctx context.Context, rdb redis.UniversalClient, p Params) (Result, error) {
	p, prefix, err := redisRun(rdb, p)
	if err != nil {
		return Result{}, err
	}
	store := state.NewStore(rdb, state.Options{Prefix: prefix})
	res := Result{RedisPrefix: prefix}

	load := commitLoad{store: store, p: p, stateBody: filler(p.StateBytes), eventBody: filler(p.EventBytes)}
	elapsed, err := runLanes(ctx, p.RedisLanes, p.RedisOps, load.lane)
	if err != nil {
		return res, errors.Join(err, deleteRun(ctx, rdb, prefix, p.KeepRedisKeys))
	}
	res.RedisScripts, res.RedisElapsed = p.RedisOps, elapsed
	res.RedisScriptsPerSec = float64(p.RedisOps) / elapsed.Seconds()

	elapsed, err = runLanes(ctx, p.RedisLanes, p.RedisOps, func(ctx context.Context, _ int, next func() (int, bool)) error {
		for _, ok := next(); ok; _, ok = next() {
			if err := rdb.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("rawlimit: PING: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return res, errors.Join(err, deleteRun(ctx, rdb, prefix, p.KeepRedisKeys))
	}
	res.RedisRoundTrips, res.RedisRoundTripElapsed = p.RedisOps, elapsed
	res.RedisRoundTripsPerSec = float64(p.RedisOps) / elapsed.Seconds()
	return res, deleteRun(ctx, rdb, prefix, p.KeepRedisKeys)
}

// runLanes runs lane(ctx, l, next) for every lane at once; next hands out
// the operation numbers 0..ops-1 (false when none is left), so every lane
// keeps working until the whole count is done. It returns the time from
// start to the last lane's end, or the first lane's error.
func runLanes(ctx context.Context, lanes, ops int, lane func(ctx context.Context, l int, next func() (int, bool)) error) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		counter atomic.Int64
		wg      sync.WaitGroup
		fail    = newFailure()
	)
	next := func() (int, bool) {
		n := int(counter.Add(1) - 1)
		return n, n < ops
	}
	start := time.Now()
	for l := range lanes {
		wg.Go(func() {
			if err := lane(ctx, l, next); err != nil {
				fail.set(err)
				cancel() // the other lanes stop too
			}
		})
	}
	wg.Wait()
	return time.Since(start), fail.get()
}

// commitLoad is one measurement's commit traffic.
type commitLoad struct {
	store                *state.Store
	p                    Params
	stateBody, eventBody []byte
}

// lane commits for customers l, l+lanes, l+2*lanes, ... in turn, tracking
// their versions, so no two lanes ever touch one customer (as no two
// partitions do).
func (c *commitLoad) lane(ctx context.Context, l int, next func() (int, bool)) error {
	var customers []string
	for i := l; i < c.p.Customers; i += c.p.RedisLanes {
		customers = append(customers, CustomerID(i))
	}
	versions := make([]int64, len(customers))
	turn := 0
	for op, ok := next(); ok; op, ok = next() {
		slot := turn % len(customers)
		turn++
		customer := customers[slot]
		out, err := c.store.Commit(ctx, c.commit(customer, op, versions[slot]))
		if err != nil {
			return fmt.Errorf("rawlimit: %w", err)
		}
		if out.Status != state.Committed {
			return fmt.Errorf("rawlimit: commit %d of %s: %v, want Committed", op, customer, out.Status)
		}
		versions[slot] = out.Version
	}
	return nil
}

// commit is operation op's commit: what the processor writes for a command
// with its share of K events.
func (c *commitLoad) commit(customer string, op int, version int64) state.Commit {
	first, last := eventsBefore(op, c.p.EventsPerCommand), eventsBefore(op+1, c.p.EventsPerCommand)
	subject := messages.EventSubject(Partner, customer, eventType)
	events := make([]state.OutboxEntry, 0, last-first)
	for n := first; n < last; n++ {
		events = append(events, state.OutboxEntry{ID: eventID(n), Subject: subject, Data: c.eventBody})
	}
	return state.Commit{
		CustomerID:      customer,
		CommandID:       commandIDPrefix + strconv.Itoa(op),
		ExpectedVersion: version,
		Set:             map[string][]byte{stateField: c.stateBody},
		Events:          events,
		Result:          inboxResult,
	}
}

// redisRun checks a measurement's parameters and client and names the
// Redis key prefix of its run.
func redisRun(rdb redis.UniversalClient, p Params) (Params, string, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return p, "", fmt.Errorf("rawlimit: %w", err)
	}
	if rdb == nil {
		return p, "", errors.New("rawlimit: no Redis client")
	}
	return p, RedisPrefixBase + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), nil
}
