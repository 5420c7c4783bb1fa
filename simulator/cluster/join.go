package cluster

import (
	"context"
	"fmt"
	"time"
)

// joinAttempts bounds how often JoinProcessor starts a replica that exits
// on its own while starting.
const joinAttempts = 3

// joinTimeout bounds JoinProcessor: generous, for a loaded machine.
const joinTimeout = 3 * time.Minute

// JoinProcessor starts processor i (again, or a new one when i is
// Processors()) and returns once it holds a partition and every partition
// is held (within 3 minutes); see awaitJoined.
func (c *Cluster) JoinProcessor(ctx context.Context, i int) error {
	if err := c.StartProcessor(i); err != nil {
		return err
	}
	return c.awaitJoined(ctx, i)
}

// awaitJoined waits until the started processor i holds a partition and
// every partition is held. A replica that exits while starting is started
// again, as a supervisor would, up to 3 times, each time written to Log:
// on a loaded machine its start-up may give up, and the processor then
// exits.
func (c *Cluster) awaitJoined(ctx context.Context, i int) error {
	id := ReplicaID(i)
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		r, err := c.replica(i)
		if err != nil {
			return err
		}
		tick := time.NewTicker(200 * time.Millisecond)
		joined := false
		for !joined && r.running() {
			holders, err := c.PartitionHolders(ctx)
			if err == nil && len(holders) == c.opt.Partitions && holds(holders, id) {
				joined = true
				break
			}
			select {
			case <-ctx.Done():
				tick.Stop()
				return fmt.Errorf("cluster: %s holds no partition: %w; its output:\n%s", id, ctx.Err(), r.out)
			case <-r.exited:
			case <-tick.C:
			}
		}
		tick.Stop()
		if joined {
			return nil
		}
		if attempt == joinAttempts {
			return fmt.Errorf("cluster: %s exited while starting, %d times; its output:\n%s", id, attempt, r.out)
		}
		if c.opt.Log != nil {
			fmt.Fprintf(c.opt.Log, "cluster: %s exited while starting; starting it again (attempt %d of %d)\n", id, attempt+1, joinAttempts)
		}
		if err := c.StartProcessor(i); err != nil {
			return err
		}
	}
}

func holds(holders map[int]string, id string) bool {
	for _, r := range holders {
		if r == id {
			return true
		}
	}
	return false
}
