package redisserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cspreseller/csp-processor/deployments"
)

// clusterSlots is the number of hash slots of a Redis Cluster.
const clusterSlots = 16384

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	Masters  int    // masters, the slots split evenly between them; default 3 (the fewest that fail over)
	Replicas int    // replicas of each master; default 0
	Dir      string // parent of the nodes' data directories; a temporary one (removed by Close) if ""
	// NodeTimeout is cluster-node-timeout: how long a node may not answer
	// before the others count it failed and a replica takes over. A
	// promotion takes about this plus one to two seconds. 0 keeps the
	// shipped file's (5 s); tests shorten it.
	NodeTimeout time.Duration
	// User and Password as in Options: every node requires them, and a
	// replica logs in to its master with them (masteruser, masterauth).
	User, Password string
	// BasePort, when set, puts node i on port BasePort+i and its cluster
	// bus on BasePort+10000+i (a stable URL for a local cluster); 0 picks
	// free ports.
	BasePort int
}

// Cluster is a running Redis Cluster of private redis-server processes on
// 127.0.0.1, each node configured as deployments/redis/cluster-node.conf
// says (cluster mode, AOF synced before every reply, no eviction) without
// its machine paths: no TLS, and the ACL user of Options instead of the ACL
// file. It is formed without redis-cli: slots by CLUSTER ADDSLOTSRANGE,
// nodes by CLUSTER MEET, replicas by CLUSTER REPLICATE.
type Cluster struct {
	opt     ClusterOptions
	nodes   []*ClusterNode
	tempDir string

	closeOnce sync.Once
	closeErr  error
}

// ClusterNode is one node of a Cluster. Its ID and address stay the same
// across Kill and Restart.
type ClusterNode struct {
	ID   string // the cluster's node ID (CLUSTER MYID)
	Port int

	mu         sync.Mutex
	srv        *Server // nil while killed
	opt        Options
	slotAtKill int // a slot the node served when Kill ended it; -1 if none
}

// Addr returns "127.0.0.1:PORT".
func (n *ClusterNode) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// Running reports whether the node's process is up (not killed).
func (n *ClusterNode) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.srv != nil
}

// PID is the node's process ID, 0 while it is killed.
func (n *ClusterNode) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv == nil {
		return 0
	}
	return n.srv.cmd.Process.Pid
}

func (n *ClusterNode) control() control {
	return control{addr: n.Addr(), user: n.opt.User, password: n.opt.Password}
}

// StartCluster starts Masters*(1+Replicas) redis-servers, assigns the
// slots, introduces the nodes to each other, attaches the replicas and
// returns once every node reports cluster_state:ok, every node sees the
// same masters and replicas, and every replica is in sync with its master.
// ctx bounds the start only. With BasePort and a Dir where every node kept
// its nodes.conf from an earlier start, the nodes start on their data and
// re-form the cluster they were (data kept: the AOF is replayed).
func StartCluster(ctx context.Context, opt ClusterOptions) (_ *Cluster, err error) {
	if opt.Masters <= 0 {
		opt.Masters = 3
	}
	if opt.Replicas < 0 {
		return nil, fmt.Errorf("redisserver: %d replicas per master", opt.Replicas)
	}
	c := &Cluster{opt: opt}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	dir := opt.Dir
	if dir == "" {
		if c.tempDir, err = os.MkdirTemp("", "rediscluster-"); err != nil {
			return nil, fmt.Errorf("redisserver: cluster dir: %w", err)
		}
		dir = c.tempDir
	}
	base, err := clusterConfig(opt)
	if err != nil {
		return nil, err
	}
	total := opt.Masters * (1 + opt.Replicas)
	resume := opt.BasePort > 0
	for i := 0; i < total; i++ {
		nodeDir := filepath.Join(dir, "node-"+strconv.Itoa(i))
		if _, err := os.Stat(filepath.Join(nodeDir, "nodes.conf")); err != nil {
			resume = false
		}
		n, err := startNode(ctx, nodeDir, base, opt, i)
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	if resume {
		// Every node kept its nodes.conf (ID, peers, slots) on the same
		// ports: the cluster re-forms by itself.
		if err := c.WaitHealthy(ctx); err != nil {
			return nil, err
		}
		return c, nil
	}
	masters := c.nodes[:opt.Masters]
	for i, m := range masters {
		first, last := i*clusterSlots/opt.Masters, (i+1)*clusterSlots/opt.Masters-1
		if err := expectOK(ctx, m, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last)); err != nil {
			return nil, err
		}
	}
	for _, n := range c.nodes[1:] {
		if err := expectOK(ctx, c.nodes[0], "CLUSTER", "MEET", "127.0.0.1", strconv.Itoa(n.Port), strconv.Itoa(busPort(n))); err != nil {
			return nil, err
		}
	}
	if err := c.waitFor(ctx, "every node to know every other", func(ctx context.Context) error {
		return c.everyNode(ctx, func(ctx context.Context, n *ClusterNode) error {
			view, err := nodeView(ctx, n)
			if err != nil {
				return err
			}
			if len(view) != len(c.nodes) {
				return fmt.Errorf("%s knows %d nodes of %d", n.Addr(), len(view), len(c.nodes))
			}
			for _, e := range view {
				if e.has("handshake") || e.has("noaddr") {
					return fmt.Errorf("%s sees %s as %s", n.Addr(), e.addr, strings.Join(e.flags, ","))
				}
			}
			return nil
		})
	}); err != nil {
		return nil, err
	}
	for i, r := range c.nodes[opt.Masters:] {
		if err := expectOK(ctx, r, "CLUSTER", "REPLICATE", masters[i%opt.Masters].ID); err != nil {
			return nil, err
		}
	}
	if err := c.WaitHealthy(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// clusterConfig is the shipped cluster-node.conf less what names machine
// paths (TLS files, ACL file, included files, data directory, port), plus
// what a private cluster needs instead.
func clusterConfig(opt ClusterOptions) (string, error) {
	var b strings.Builder
	b.WriteString("# deployments/redis/cluster-node.conf, less machine paths\n")
	sc := bufio.NewScanner(bytes.NewReader(deployments.RedisClusterNode))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, _, _ := strings.Cut(line, " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case name == "port" || name == "dir" || name == "aclfile" || name == "include" || strings.HasPrefix(name, "tls-"):
		default:
			b.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	if opt.NodeTimeout > 0 {
		b.WriteString("cluster-node-timeout " + strconv.FormatInt(opt.NodeTimeout.Milliseconds(), 10) + "\n")
	}
	// A replica's full sync starts at once instead of waiting 5 s for
	// more replicas to share it.
	b.WriteString("repl-diskless-sync-delay 0\n")
	if opt.Password != "" {
		user := opt.User
		if user == "" {
			user = "default"
		}
		b.WriteString("masteruser " + user + "\nmasterauth " + opt.Password + "\n")
	}
	return b.String(), nil
}

// startNode starts one node in dir on a port and a cluster bus port picked
// here: the bus port is the client port + 10000 unless set, which for a
// port the kernel picks is often past 65535.
func startNode(ctx context.Context, dir, base string, opt ClusterOptions, i int) (*ClusterNode, error) {
	var lastErr error
	attempts := 3
	if opt.BasePort > 0 {
		attempts = 1
		if opt.BasePort+10000+i > 65535 {
			return nil, fmt.Errorf("redisserver: BasePort %d leaves no cluster bus port for node %d", opt.BasePort, i)
		}
	}
	for attempt := 0; attempt < attempts && ctx.Err() == nil; attempt++ {
		port, bus := opt.BasePort+i, opt.BasePort+10000+i
		if opt.BasePort == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return nil, fmt.Errorf("redisserver: pick a port: %w", err)
			}
			if bus, err = freePort(); err != nil {
				return nil, fmt.Errorf("redisserver: pick a port: %w", err)
			}
		}
		n := &ClusterNode{Port: port, slotAtKill: -1, opt: Options{Dir: dir, Port: port, Appendonly: true, User: opt.User, Password: opt.Password,
			extraConfig: base + "cluster-port " + strconv.Itoa(bus) + "\n"}}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("redisserver: node dir: %w", err)
		}
		if n.srv, lastErr = Start(ctx, n.opt); lastErr != nil {
			continue
		}
		if n.ID, lastErr = n.control().roundTrip(ctx, "CLUSTER", "MYID"); lastErr != nil {
			_ = n.srv.Close()
			return nil, fmt.Errorf("redisserver: CLUSTER MYID on %s: %w", n.Addr(), lastErr)
		}
		return n, nil
	}
	return nil, lastErr
}

// busPort is the cluster bus port a node was configured with.
func busPort(n *ClusterNode) int {
	_, v, _ := strings.Cut(n.opt.extraConfig, "cluster-port ")
	p, _ := strconv.Atoi(strings.TrimSpace(v))
	return p
}

func expectOK(ctx context.Context, n *ClusterNode, args ...string) error {
	reply, err := n.control().roundTrip(ctx, args...)
	if err == nil && reply != "+OK" {
		err = errors.New(reply)
	}
	if err != nil {
		return fmt.Errorf("redisserver: %s on %s: %w", strings.Join(args, " "), n.Addr(), err)
	}
	return nil
}

// Nodes returns every node, masters first as started (Masters says which
// are masters now).
func (c *Cluster) Nodes() []*ClusterNode { return slices.Clone(c.nodes) }

// Addrs returns every node's address.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// URL returns the cluster's URL in the form REDIS_URL takes for a
// cluster: redis://[USER:PASSWORD@]FIRST?addr=SECOND&addr=THIRD..., every
// node a seed. It is a secret when the cluster has a password.
func (c *Cluster) URL() string {
	u := url.URL{Scheme: "redis", Host: c.nodes[0].Addr()}
	if c.opt.Password != "" {
		u.User = url.UserPassword(c.opt.User, c.opt.Password)
	}
	q := url.Values{}
	for _, n := range c.nodes[1:] {
		q.Add("addr", n.Addr())
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Kill ends a node at once (SIGKILL), as a crash would; its data directory
// stays for Restart.
func (c *Cluster) Kill(n *ClusterNode) error {
	slot := -1
	if view, err := nodeView(context.Background(), n); err == nil {
		if self := view.self(); self != nil && len(self.slots) > 0 {
			slot = self.slots[0].first
		}
	}
	n.mu.Lock()
	n.slotAtKill = slot
	srv := n.srv
	n.srv = nil
	n.mu.Unlock()
	if srv == nil {
		return fmt.Errorf("redisserver: node %s is not running", n.Addr())
	}
	return srv.Kill()
}

// Restart starts a killed node again on its port and data directory: it
// keeps its node ID (nodes.conf) and rejoins the cluster, a former master
// whose slots moved as a replica of the node that took them. It returns
// once the node answers; WaitHealthy waits for the cluster to agree.
func (c *Cluster) Restart(ctx context.Context, n *ClusterNode) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.srv != nil {
		return fmt.Errorf("redisserver: node %s is running", n.Addr())
	}
	srv, err := Start(ctx, n.opt)
	if err != nil {
		return err
	}
	n.srv = srv
	return nil
}

// Close stops every node and removes the data directories if StartCluster
// created them. It is safe to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		var errs []error
		for _, n := range c.nodes {
			n.mu.Lock()
			if n.srv != nil {
				errs = append(errs, n.srv.Close())
				n.srv = nil
			}
			n.mu.Unlock()
		}
		if c.tempDir != "" {
			errs = append(errs, os.RemoveAll(c.tempDir))
		}
		c.closeErr = errors.Join(errs...)
	})
	return c.closeErr
}
