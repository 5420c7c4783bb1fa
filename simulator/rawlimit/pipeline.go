package rawlimit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state"
)

// MeasurePipeline is the raw pipeline: MeasureJetStream's traffic with the
// processor's Redis work in the handler, one real commit script
// (state.Store.Commit) per command before its events are published, no
// rules. It is what the processor's plumbing costs on this machine when
// JetStream and Redis share its cores, as they do under the processor.
//
// Each commit writes one state field of StateBytes, the command's share of
// K outbox events and an inbox entry, at the customer's next version, and
// must come back Committed. Customers map to partitions, so one customer's
// commands are committed one at a time, in order, as in the processor.
// The Redis keys are deleted afterwards unless KeepRedisKeys is set; the
// result's Redis fields name the prefix and count the commits.
func MeasurePipeline(ctx context.Context, nc *nats.Conn, rdb redis.UniversalClient, p Params) (Result, error) {
	p, prefix, err := redisRun(rdb, p)
	if err != nil {
		return Result{}, err
	}
	load := &commitLoad{store: state.NewStore(rdb, state.Options{Prefix: prefix}), p: p,
		stateBody: filler(p.StateBytes), eventBody: filler(p.EventBytes)}
	versions := &customerVersions{v: map[string]int64{}}
	res, err := measureJetStream(ctx, nc, p, func(ctx context.Context, customer string, i int) error {
		out, err := load.store.Commit(ctx, load.commit(customer, i, versions.get(customer)))
		if err != nil {
			return fmt.Errorf("rawlimit: commit of command %d: %w", i, err)
		}
		if out.Status != state.Committed {
			return fmt.Errorf("rawlimit: commit of command %d for %s: %v, want Committed", i, customer, out.Status)
		}
		versions.set(customer, out.Version)
		return nil
	})
	res.RedisPrefix = prefix
	if err == nil {
		res.RedisScripts, res.RedisElapsed = res.Commands, res.Elapsed
		res.RedisScriptsPerSec = res.CommandsPerSec
	}
	return res, errors.Join(err, deleteRun(ctx, rdb, prefix, p.KeepRedisKeys))
}

// customerVersions is each customer's committed version. The partitions'
// handlers run concurrently, each on customers of its own.
type customerVersions struct {
	mu sync.Mutex
	v  map[string]int64
}

func (c *customerVersions) get(customer string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.v[customer]
}

func (c *customerVersions) set(customer string, v int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.v[customer] = v
}
