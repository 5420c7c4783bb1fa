package redisserver

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// What the cluster looks like now, as its running nodes see it, and
// waiting for it to be whole or to have failed over.

// Masters returns the nodes that serve slots now, as a running node sees
// the cluster, in slot order.
func (c *Cluster) Masters(ctx context.Context) ([]*ClusterNode, error) {
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		view, err := nodeView(ctx, n)
		if err != nil {
			continue
		}
		var out []*ClusterNode
		for _, e := range view.owners() {
			if m := c.byID(e); m != nil {
				out = append(out, m)
			}
		}
		return out, nil
	}
	return nil, errors.New("redisserver: no running node answers CLUSTER NODES")
}

// MasterOf returns the node that serves key's slot now.
func (c *Cluster) MasterOf(ctx context.Context, key string) (*ClusterNode, error) {
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		reply, err := n.control().roundTrip(ctx, "CLUSTER", "KEYSLOT", key)
		if err != nil {
			continue
		}
		slot, err := strconv.Atoi(strings.TrimPrefix(reply, ":"))
		if err != nil {
			return nil, fmt.Errorf("redisserver: CLUSTER KEYSLOT answered %q", reply)
		}
		view, err := nodeView(ctx, n)
		if err != nil {
			continue
		}
		for _, e := range view {
			if e.serves(slot) {
				if m := c.byID(e.id); m != nil {
					return m, nil
				}
			}
		}
		return nil, fmt.Errorf("redisserver: %s knows no master of slot %d", n.Addr(), slot)
	}
	return nil, errors.New("redisserver: no running node answers")
}

// ReplicasOf returns the nodes that follow master now, as a running node
// sees the cluster.
func (c *Cluster) ReplicasOf(ctx context.Context, master *ClusterNode) ([]*ClusterNode, error) {
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		view, err := nodeView(ctx, n)
		if err != nil {
			continue
		}
		var out []*ClusterNode
		for _, e := range view {
			if e.master == master.ID {
				if r := c.byID(e.id); r != nil {
					out = append(out, r)
				}
			}
		}
		return out, nil
	}
	return nil, errors.New("redisserver: no running node answers CLUSTER NODES")
}

func (c *Cluster) byID(id string) *ClusterNode {
	for _, n := range c.nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// WaitHealthy waits until every running node reports cluster_state:ok,
// sees every node connected and none failing, all agree on which master
// serves which slots, every replica's link to its master is up and every
// master counts its replicas online (as WAIT needs them).
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	return c.waitFor(ctx, "a healthy cluster on which every node agrees", func(ctx context.Context) error {
		if err := c.agree(ctx, nil); err != nil {
			return err
		}
		return c.everyNode(ctx, func(ctx context.Context, n *ClusterNode) error {
			view, err := nodeView(ctx, n)
			if err != nil {
				return err
			}
			for _, e := range view {
				if e.has("fail") || e.has("fail?") || e.link != "connected" {
					return fmt.Errorf("%s sees %s as %s, link %s", n.Addr(), e.addr, strings.Join(e.flags, ","), e.link)
				}
			}
			self := view.self()
			if self != nil && self.has("master") {
				// A master counts a replica for WAIT only once it is
				// online (its full sync done).
				want := 0
				for _, e := range view {
					if e.master == self.id {
						want++
					}
				}
				info, err := n.control().roundTrip(ctx, "INFO", "replication")
				if err != nil {
					return err
				}
				if online := strings.Count(info, "state=online"); online != want {
					return fmt.Errorf("master %s has %d replicas online of %d", n.Addr(), online, want)
				}
			}
			if self != nil && self.has("slave") {
				info, err := n.control().roundTrip(ctx, "INFO", "replication")
				if err != nil {
					return err
				}
				if !strings.Contains(info, "master_link_status:up") {
					return fmt.Errorf("replica %s is not in sync with its master", n.Addr())
				}
			}
			return nil
		})
	})
}

// WaitFailover waits until every running node agrees that a node other
// than dead serves the slots dead served when Kill ended it, and reports
// cluster_state:ok; it returns that node. Kill a master, then call it: it
// returns once a replica was promoted and the cluster serves every slot.
func (c *Cluster) WaitFailover(ctx context.Context, dead *ClusterNode) (*ClusterNode, error) {
	dead.mu.Lock()
	slot := dead.slotAtKill
	dead.mu.Unlock()
	if slot < 0 {
		return nil, fmt.Errorf("redisserver: %s served no slot when it was killed", dead.Addr())
	}
	var promoted *ClusterNode
	err := c.waitFor(ctx, "a replica of "+dead.Addr()+" to take over its slots", func(ctx context.Context) error {
		return c.agree(ctx, func(v view) error {
			for _, e := range v {
				if e.serves(slot) && e.id != dead.ID {
					promoted = c.byID(e.id)
					return nil
				}
			}
			return fmt.Errorf("%s still serves slot %d", dead.Addr(), slot)
		})
	})
	if err != nil {
		return nil, err
	}
	if promoted == nil {
		return nil, fmt.Errorf("redisserver: slot %d moved to a node not of this cluster", slot)
	}
	return promoted, nil
}

// agree checks that every running node reports cluster_state:ok and names
// the same master for every slot, and that check (when set) accepts that
// view.
func (c *Cluster) agree(ctx context.Context, check func(view) error) error {
	var first string
	return c.everyNode(ctx, func(ctx context.Context, n *ClusterNode) error {
		info, err := n.control().roundTrip(ctx, "CLUSTER", "INFO")
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return fmt.Errorf("%s: cluster_state is not ok", n.Addr())
		}
		view, err := nodeView(ctx, n)
		if err != nil {
			return err
		}
		owners := view.slotMap()
		if first == "" {
			first = owners
		} else if owners != first {
			return fmt.Errorf("nodes disagree on the slot owners: %q and %q", first, owners)
		}
		if check != nil {
			return check(view)
		}
		return nil
	})
}

// everyNode runs fn on every running node in turn.
func (c *Cluster) everyNode(ctx context.Context, fn func(context.Context, *ClusterNode) error) error {
	for _, n := range c.nodes {
		if !n.Running() {
			continue
		}
		if err := fn(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// waitFor polls cond until it returns nil or ctx ends.
func (c *Cluster) waitFor(ctx context.Context, what string, cond func(context.Context) error) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		last := cond(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redisserver: waiting for %s: %w (last: %v)", what, ctx.Err(), last)
		case <-tick.C:
		}
	}
}
