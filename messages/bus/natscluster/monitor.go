package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// jsz is the part of a node's /jsz monitoring answer read here.
type jsz struct {
	Meta *struct {
		Leader string `json:"leader"`
	} `json:"meta_cluster"`
	Accounts []struct {
		Name    string `json:"name"`
		Streams []struct {
			Name      string       `json:"name"`
			Cluster   *clusterInfo `json:"cluster"`
			Consumers []struct {
				Name    string       `json:"name"`
				Cluster *clusterInfo `json:"cluster"`
			} `json:"consumer_detail"`
		} `json:"stream_detail"`
	} `json:"account_details"`
}

type clusterInfo struct {
	Leader string `json:"leader"`
}

var monitorClient = &http.Client{Timeout: 5 * time.Second}

// jsz asks running node i's monitoring port what it knows of JetStream.
func (c *Cluster) jsz(ctx context.Context, i int) (*jsz, error) {
	url := "http://127.0.0.1:" + strconv.Itoa(c.nodes[i].ports.monitor) + "/jsz?accounts=true&streams=true&consumers=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := monitorClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	var out jsz
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return &out, nil
}

// nodeIndex is the index of the node named name, -1 for none.
func (c *Cluster) nodeIndex(name string) int {
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}

// poll calls f every 50 ms until it reports done or ctx ends, and returns
// f's last error with ctx's.
func poll(ctx context.Context, what string, f func() (bool, error)) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		done, err := f()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("natscluster: %s: %w", what, errors.Join(ctx.Err(), err))
		case <-t.C:
		}
	}
}

// WaitMetaLeader returns the index of the JetStream meta leader once every
// running node names the same one (a running node: one, so that it answers
// for a cluster with a node killed).
func (c *Cluster) WaitMetaLeader(ctx context.Context) (int, error) {
	leader := -1
	err := poll(ctx, "no JetStream meta leader", func() (bool, error) {
		agreed := ""
		for i := range c.nodes {
			if !c.Running(i) {
				continue
			}
			info, err := c.jsz(ctx, i)
			if err != nil {
				return false, err
			}
			if info.Meta == nil || info.Meta.Leader == "" || (agreed != "" && agreed != info.Meta.Leader) {
				return false, nil
			}
			agreed = info.Meta.Leader
		}
		leader = c.nodeIndex(agreed)
		return leader >= 0 && c.Running(leader), nil
	})
	return leader, err
}

// StreamLeader returns the index of the node that leads stream (of any
// account), waiting until a running node says it is the leader itself: a
// follower may still name a dead leader.
func (c *Cluster) StreamLeader(ctx context.Context, stream string) (int, error) {
	leader := -1
	err := poll(ctx, "no leader of stream "+stream, func() (bool, error) {
		var errs []error
		for i := range c.nodes {
			if !c.Running(i) {
				continue
			}
			info, err := c.jsz(ctx, i)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			for _, a := range info.Accounts {
				for _, s := range a.Streams {
					if s.Name == stream && s.Cluster != nil && s.Cluster.Leader == c.nodes[i].name {
						leader = i
						return true, nil
					}
				}
			}
		}
		return false, errors.Join(errs...)
	})
	return leader, err
}

// ConsumerLeaders counts, per node, the consumers of stream that the node
// leads (as each running node reports itself), and returns the counts and
// how many consumers have a leader.
func (c *Cluster) ConsumerLeaders(ctx context.Context, stream string) ([]int, int, error) {
	counts := make([]int, len(c.nodes))
	total := 0
	for i := range c.nodes {
		if !c.Running(i) {
			continue
		}
		info, err := c.jsz(ctx, i)
		if err != nil {
			return nil, 0, err
		}
		for _, a := range info.Accounts {
			for _, s := range a.Streams {
				if s.Name != stream {
					continue
				}
				for _, co := range s.Consumers {
					if co.Cluster != nil && co.Cluster.Leader == c.nodes[i].name {
						counts[i]++
						total++
					}
				}
			}
		}
	}
	return counts, total, nil
}
