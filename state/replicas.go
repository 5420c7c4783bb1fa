package state

// Waiting for Redis replicas.
//
// With Options.WaitReplicas = N > 0 a commit counts as made only once N
// replicas acknowledged it (WAIT N timeout): until then Commit returns an
// error wrapping ErrReplicasBehind and the processor publishes none of its
// events and does not ack the command, so a failover to a replica cannot
// lose a command whose events the world has already seen.
//
// WAIT covers the writes of the connection it is sent on: Redis remembers,
// per client, the replication offset after that client's last write
// (c->woff) and WAIT blocks until N replicas acknowledged that offset. A
// WAIT on another connection covers another client's writes, or, on a
// connection that never wrote, nothing at all (it returns at once). go-redis
// hands every command a connection from its pool, and the processor's
// autopipeliner multiplexes callers on shared ones, so the commit script
// and its WAIT are sent as one pipeline: go-redis writes a pipeline's
// commands on a single connection and reads their replies there (the
// autopipeliner, seeing WAIT, runs the whole pipeline on a pooled
// connection of its own rather than on the shared one; go-redis v9.23
// autopipeline.go, fdPipelineExec). A pipeline retried after a network
// error runs again on one connection, and the commit script then answers
// Duplicate, which waits as below.
//
// A command found already applied (Commit's Duplicate, Load's Seen, the
// outbox relay's entries) may have been committed by an attempt whose WAIT
// fell short, on a connection long returned to the pool. Before its events
// may be published again the store writes a marker key of the customer
// (<prefix>:{<customerID>}:replsync, expiring after a millisecond) and
// sends WAIT behind it in one pipeline: the marker's offset is past every
// earlier write, so WAIT then covers the first commit. The marker is a
// write because only a write moves a client's offset; it carries the
// customer's hash tag so that on a cluster it lands on the master holding
// the customer, where the WAIT must go. Behind the WAIT the same pipeline
// checks that the command's inbox record (the relay: its newest entry) is
// still there: read from a master that has failed over since, it may have
// reached no replica, and then the command is not applied after all
// (ErrCommitLost, decided again) and its events must not go out.
//
// On Redis Cluster the cluster client would send WAIT, which names no key,
// to any node. The commit script and its WAIT therefore go as one pipeline
// through go-redis's client of the customer's master (commitAndWaitOnMaster),
// and a slot that moved in between answers MOVED without running the
// script (ErrSlotMoved, retried). A failover can still lose a commit that
// WAIT had not confirmed: its attempt failed, and the retry finds the
// command not applied on the new master and applies it there.
//
// Not WAITAOF: WAIT proves the write is in N replicas' memory, WAITAOF
// (Redis 7.2 and later) that it is in their append-only files. The store
// supports Redis 6.2 and later, the local fsync is already required
// (CheckDurable: appendfsync always), and losing a write WAIT confirmed
// needs the master and those N replicas to fail together.
//
// The WAIT timeout must stay below the client's read timeout (go-redis's
// default is 3 s): a pipeline's replies are read with the client's read
// timeout, not the command's.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultWaitTimeout is used when Options.WaitReplicas > 0 and
// Options.WaitTimeout is not positive.
const DefaultWaitTimeout = time.Second

// ErrReplicasBehind is wrapped by the error of a Commit (or a Load of an
// applied command, or an outbox relay sweep) that fewer replicas than
// Options.WaitReplicas acknowledged within Options.WaitTimeout. It is
// transient: the write, if any, is applied on the master, and a retry
// finds the command applied and waits again.
var ErrReplicasBehind = errors.New("fewer Redis replicas acknowledged the write than required")

// replSyncKey is the marker written before a WAIT that must cover earlier
// writes of other connections (see above).
func (s *Store) replSyncKey(customerID string) string { return s.customerKey(customerID, "replsync") }

// masterOf is what runs a pipeline on one connection to the master that
// holds customerID's keys.
func (s *Store) masterOf(ctx context.Context, customerID string) (redis.Cmdable, error) {
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		return c.MasterForKey(ctx, s.stateKey(customerID))
	}
	return s.rdb, nil
}

// nodeAddr names a node client for messages.
func nodeAddr(n redis.Cmdable) string {
	if c, ok := n.(*redis.Client); ok {
		return c.Options().Addr
	}
	return "the master"
}

// checkAcked turns WAIT's reply into ErrReplicasBehind when it is short.
func (s *Store) checkAcked(acked int64) error {
	if acked < int64(s.waitReplicas) {
		return fmt.Errorf("%w: %d of %d within %v", ErrReplicasBehind, acked, s.waitReplicas, s.waitTimeout)
	}
	return nil
}

// ErrCommitLost is wrapped by the error of a Load or Commit that found a
// command applied, waited for the replicas, and then no longer found it on
// the customer's master: on a cluster, that master failed over to a
// replica the commit had not reached (its WAIT had fallen short, so none
// of its events was published). The command is not applied; a retry
// decides it again on the new master.
var ErrCommitLost = errors.New("a command found applied is not on the customer's master any more (lost in a failover)")

// awaitReplicas makes sure every write made so far to customerID's master
// reached Options.WaitReplicas replicas (marker write, then WAIT, on one
// connection). With a field it also checks, in the same pipeline and
// after the WAIT, that the master that confirmed still holds that field of
// the hash key (a command's inbox record, an outbox entry): it was read
// before, perhaps from a master that has since failed over to a replica
// it had not reached (ErrCommitLost). It does nothing when WaitReplicas
// is 0.
func (s *Store) awaitReplicas(ctx context.Context, customerID, key, field string) error {
	if s.waitReplicas <= 0 {
		return nil
	}
	// Any failure here is one to retry: the write it must confirm is
	// already made (on a cluster a slot moving between masterOf and the
	// pipeline answers MOVED), and a command dead-lettered for it would be
	// answered as rejected although it is applied.
	node, err := s.masterOf(ctx, customerID)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReplicasBehind, err)
	}
	var (
		wait  *redis.Cmd
		still *redis.BoolCmd
	)
	_, err = node.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.replSyncKey(customerID), "1", time.Millisecond)
		wait = s.wait(ctx, p)
		if field != "" {
			still = p.HExists(ctx, key, field)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReplicasBehind, s.slotMoved(ctx, err))
	}
	acked, err := wait.Int64()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrReplicasBehind, err)
	}
	if still != nil && !still.Val() {
		return fmt.Errorf("%w: %s of %s on %s", ErrCommitLost, field, key, nodeAddr(node))
	}
	return s.checkAcked(acked)
}

// commitAndWaitOnMaster is commitAndWait on Redis Cluster. The cluster
// client would send WAIT, which names no key, to any node, and a WAIT on a
// connection that did not write returns at once: the script and its WAIT
// go as one pipeline on a connection to the master of the customer's slot
// (go-redis's node client for it). Timers are indexed first, through the
// cluster client, since their key is in another slot. If the slot moved
// meanwhile the master answers MOVED (or ASK) without running the script;
// the client's slot map is then reloaded and the commit fails with
// ErrSlotMoved, which the caller retries.
func (s *Store) commitAndWaitOnMaster(ctx context.Context, c Commit, keys []string, args []interface{}) (interface{}, int64, error) {
	if err := s.IndexTimers(ctx, c.Slot, c.Timers); err != nil {
		return nil, 0, err
	}
	node, err := s.masterOf(ctx, c.CustomerID)
	if err != nil {
		return nil, 0, err
	}
	v, acked, err := s.commitAndWait(ctx, node, keys, args)
	return v, acked, s.slotMoved(ctx, err)
}

// ErrSlotMoved is wrapped by the error of a commit sent to the master a
// Redis Cluster client believed held the customer's slot when the slot
// had moved (a failover, a resharding): nothing was written, and a retry
// goes to the new master.
var ErrSlotMoved = errors.New("the customer's Redis Cluster slot moved to another master")

// slotMoved turns a MOVED or ASK answer from a node client into
// ErrSlotMoved and has the cluster client reload its slot map (a node
// client's redirect does not reach the cluster client by itself).
func (s *Store) slotMoved(ctx context.Context, err error) error {
	if err == nil || !(redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")) {
		return err
	}
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
	return fmt.Errorf("%w: %w", ErrSlotMoved, err)
}

// commitAndWait runs the commit script and WAIT in one pipeline (one
// connection) on rdb, a single server or a cluster's node client, and once
// more with the script's source when the server lost its script cache.
func (s *Store) commitAndWait(ctx context.Context, rdb redis.Cmdable, keys []string, args []interface{}) (interface{}, int64, error) {
	// The pipeline's own error is its first failed command's; each
	// command's is read below instead.
	run := func(eval func(p redis.Pipeliner) *redis.Cmd) (commit, wait *redis.Cmd) {
		_, _ = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			commit = eval(p)
			wait = s.wait(ctx, p)
			return nil
		})
		return commit, wait
	}
	commit, wait := run(func(p redis.Pipeliner) *redis.Cmd { return commitCmd.EvalSha(ctx, p, keys, args...) })
	if redis.HasErrorPrefix(commit.Err(), "NOSCRIPT") {
		commit, wait = run(func(p redis.Pipeliner) *redis.Cmd { return commitCmd.Eval(ctx, p, keys, args...) })
	}
	if err := commit.Err(); err != nil {
		return nil, 0, err
	}
	// Past the script, a failed WAIT is retried like a short count.
	acked, err := wait.Int64()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrReplicasBehind, err)
	}
	return commit.Val(), acked, nil
}

// wait queues WAIT on p. The Pipeliner interface has no typed Wait; the
// command's name alone makes go-redis's autopipeliner keep the pipeline off
// its shared connection.
func (s *Store) wait(ctx context.Context, p redis.Pipeliner) *redis.Cmd {
	return p.Do(ctx, "wait", s.waitReplicas, s.waitTimeout.Milliseconds())
}

// CheckReplicas returns an error when a store asking for want replica
// acknowledgements runs on a Redis master (every master, on a cluster) with
// fewer connected replicas: every commit would fail until they connect.
// want <= 0 checks nothing.
func CheckReplicas(ctx context.Context, rdb redis.UniversalClient, want int) error {
	if want <= 0 {
		return nil
	}
	check := func(ctx context.Context, n redis.Cmdable, addr string) error {
		info, err := n.Info(ctx, "replication").Result()
		if err != nil {
			return fmt.Errorf("redis %s: INFO replication: %w", addr, err)
		}
		have := -1
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
				have, _ = strconv.Atoi(v)
			}
		}
		if have < want {
			return fmt.Errorf("redis %s has %d connected replicas, and every commit waits for %d (REDIS_WAIT_REPLICAS): "+
				"no command could be applied until enough replicas connect; connect them, lower REDIS_WAIT_REPLICAS, "+
				"or set %s=1 to start anyway", addr, max(have, 0), want, EnvAllowVolatile)
		}
		return nil
	}
	return forEachMaster(ctx, rdb, check)
}
