package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/lease"
)

// PartitionHolders reads the lease bucket (as the processor user, whose
// permissions cover it) and returns, per partition held, the REPLICA_ID
// holding it.
func (c *Cluster) PartitionHolders(ctx context.Context) (map[int]string, error) {
	nc, err := c.natsConfig("processor").Connect()
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	kv, err := js.KeyValue(ctx, lease.DefaultBucket)
	if err != nil {
		return nil, err
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	holders := map[int]string{}
	for key := range keys.Keys() {
		p, ok := strings.CutPrefix(key, "partition.")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			continue
		}
		e, err := kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired or released between the listing and the read
		}
		if err != nil {
			return nil, err
		}
		var rec struct {
			Replica string `json:"replica"`
		}
		if json.Unmarshal(e.Value(), &rec) == nil && rec.Replica != "" {
			holders[n] = rec.Replica
		}
	}
	return holders, nil
}

// WaitPartitionsHeld waits until every partition is held and the holders
// are at least replicas distinct replicas, and returns the holders.
func (c *Cluster) WaitPartitionsHeld(ctx context.Context, replicas int) (map[int]string, error) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		holders, err := c.PartitionHolders(ctx)
		if err == nil && len(holders) == c.opt.Partitions && distinct(holders) >= replicas {
			return holders, nil
		}
		select {
		case <-ctx.Done():
			return holders, fmt.Errorf("cluster: waiting for %d partitions held by %d replicas, have %v (%v): %w",
				c.opt.Partitions, replicas, holders, err, ctx.Err())
		case <-tick.C:
		}
	}
}

func distinct(holders map[int]string) int {
	seen := map[string]bool{}
	for _, r := range holders {
		seen[r] = true
	}
	return len(seen)
}
