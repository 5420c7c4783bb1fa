package cluster

import (
	"context"
	"fmt"

	"github.com/cspreseller/csp-processor/state/redisserver"
)

// KillCommandStreamLeader kills (SIGKILL) the NATS node that leads the
// command stream and returns its index; another node is elected leader of
// the stream (and of the consumers it led) while it is down.
func (c *Cluster) KillCommandStreamLeader(ctx context.Context) (int, error) {
	leader, err := c.NATS.StreamLeader(ctx, c.Streams.CommandStream)
	if err != nil {
		return -1, err
	}
	return leader, c.NATS.Kill(leader)
}

// RestartNATS starts NATS node i again on its store and returns once it
// accepts clients; it catches up with the stream's leader as a follower.
func (c *Cluster) RestartNATS(i int) error { return c.NATS.Restart(i) }

// KillRedisMaster kills (SIGKILL) the master that serves key's slot (any
// master when key is empty) and returns it; one of its two replicas is
// promoted after the node timeout (WaitRedisFailover).
func (c *Cluster) KillRedisMaster(ctx context.Context, key string) (*redisserver.ClusterNode, error) {
	var master *redisserver.ClusterNode
	if key != "" {
		m, err := c.Redis.MasterOf(ctx, key)
		if err != nil {
			return nil, err
		}
		master = m
	} else {
		masters, err := c.Redis.Masters(ctx)
		if err != nil {
			return nil, err
		}
		if len(masters) == 0 {
			return nil, fmt.Errorf("cluster: the Redis Cluster names no master")
		}
		master = masters[0]
	}
	return master, c.Redis.Kill(master)
}

// WaitRedisFailover waits until a replica of the killed master serves its
// slots and returns it.
func (c *Cluster) WaitRedisFailover(ctx context.Context, dead *redisserver.ClusterNode) (*redisserver.ClusterNode, error) {
	return c.Redis.WaitFailover(ctx, dead)
}

// RestartRedis starts a killed Redis node again on its data: a former
// master whose slots moved comes back as a replica of the node that took
// them. It returns once the whole cluster is healthy again (every replica
// in sync, as WAIT needs them).
func (c *Cluster) RestartRedis(ctx context.Context, n *redisserver.ClusterNode) error {
	if err := c.Redis.Restart(ctx, n); err != nil {
		return err
	}
	return c.Redis.WaitHealthy(ctx)
}
