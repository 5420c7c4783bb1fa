package natscluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/deployments"
	"github.com/cspreseller/csp-processor/deployments/certgen"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
)

// Config configures Start.
type Config struct {
	// Dir holds everything of the cluster: certificates, passwords, each
	// node's configuration and store. Required; the caller removes it.
	Dir string
	// Nodes is the cluster size; default 3.
	Nodes int
	// Binary is the nats-server to run; default ServerBinary.
	Binary string
	// ReadyTimeout bounds the wait for a node to accept clients and for
	// the cluster to elect a JetStream meta leader; default 60s (a loaded
	// machine).
	ReadyTimeout time.Duration
}

// Cluster is a running local JetStream cluster.
type Cluster struct {
	cfg   Config
	certs certgen.Files
	creds *natsauth.Credentials
	env   []string
	nodes []*node

	mu sync.Mutex // guards each node's proc
}

type node struct {
	name  string
	conf  string
	ports ports
	proc  *process
}

// NodeName is the server name of node i (0-based): csp-nats-<i+1>, as in
// the shipped configuration's comments.
func NodeName(i int) string { return "csp-nats-" + strconv.Itoa(i+1) }

// Start starts the nodes and returns once every one accepts clients and
// JetStream has a meta leader. On an error the nodes started are stopped.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Dir == "" {
		return nil, errors.New("natscluster: no directory")
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 60 * time.Second
	}
	if cfg.Binary == "" {
		bin, err := ServerBinary(ctx)
		if err != nil {
			return nil, err
		}
		cfg.Binary = bin
	}
	c := &Cluster{cfg: cfg}
	if err := c.prepare(); err != nil {
		return nil, err
	}
	var errs []error
	for i := range c.nodes {
		if err := c.startNode(i); err != nil {
			errs = append(errs, err)
		}
	}
	// Nodes wait for each other's routes, so all are started before any
	// is waited for.
	for i := range c.nodes {
		if len(errs) == 0 {
			if err := c.waitNode(i); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		wctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
		defer cancel()
		if _, err := c.WaitMetaLeader(wctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// prepare writes the certificates, passwords and node configurations and
// picks the ports.
func (c *Cluster) prepare() error {
	dir := c.cfg.Dir
	tlsDir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tlsDir, 0o700); err != nil {
		return fmt.Errorf("natscluster: %w", err)
	}
	certs, err := certgen.Write(tlsDir)
	if err != nil {
		return err
	}
	c.certs = certs
	if c.creds, err = natsauth.LoadOrCreate(filepath.Join(dir, "auth"), deployments.NATSAccounts); err != nil {
		return err
	}
	routePW, err := randomHex()
	if err != nil {
		return err
	}
	all := make([]ports, c.cfg.Nodes)
	for i := range all {
		if all[i], err = freePorts(); err != nil {
			return err
		}
	}
	c.env = append(os.Environ(),
		"CSP_NATS_TLS_CERT="+certs.ServerCert, "CSP_NATS_TLS_KEY="+certs.ServerKey, "CSP_NATS_TLS_CA="+certs.CA,
		"CSP_ROUTE_PASSWORD="+routePW, "CSP_NATS_ROUTES="+routesVariable(routePW, all))
	c.env = append(c.env, c.creds.Environment()...)
	for i, p := range all {
		nodeDir := filepath.Join(dir, NodeName(i))
		if err := os.MkdirAll(nodeDir, 0o700); err != nil {
			return fmt.Errorf("natscluster: %w", err)
		}
		conf, err := nodeConfig(deployments.NATSClusterNode, p, filepath.Join(nodeDir, "store"))
		if err != nil {
			return err
		}
		n := &node{name: NodeName(i), conf: filepath.Join(nodeDir, "nats.conf"), ports: p}
		for file, text := range map[string][]byte{n.conf: []byte(conf), filepath.Join(nodeDir, "accounts.conf"): deployments.NATSAccounts} {
			if err := os.WriteFile(file, text, 0o600); err != nil {
				return fmt.Errorf("natscluster: %w", err)
			}
		}
		c.nodes = append(c.nodes, n)
	}
	return nil
}

func (c *Cluster) startNode(i int) error {
	n := c.nodes[i]
	p, err := startProcess(c.cfg.Binary, []string{"-c", n.conf}, append(c.env, "NODE_NAME="+n.name))
	if err != nil {
		return fmt.Errorf("natscluster: start %s: %w", n.name, err)
	}
	c.mu.Lock()
	n.proc = p
	c.mu.Unlock()
	return nil
}

func (c *Cluster) waitNode(i int) error {
	p := c.proc(i)
	if err := p.waitReady(c.cfg.ReadyTimeout); err != nil {
		return fmt.Errorf("natscluster: %s %v; its last output:\n%s", c.nodes[i].name, err, p.out)
	}
	return nil
}

func (c *Cluster) proc(i int) *process {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].proc
}

// Size is the number of nodes.
func (c *Cluster) Size() int { return len(c.nodes) }

// Kill ends node i with SIGKILL and returns once it exited.
func (c *Cluster) Kill(i int) error {
	if err := c.proc(i).kill(); err != nil {
		return fmt.Errorf("natscluster: kill %s: %w", c.nodes[i].name, err)
	}
	return nil
}

// Restart starts node i again (killing it first if it runs) on its store,
// ports and configuration, and returns once it accepts clients.
func (c *Cluster) Restart(i int) error {
	if c.proc(i).running() {
		if err := c.Kill(i); err != nil {
			return err
		}
	}
	if err := c.startNode(i); err != nil {
		return err
	}
	return c.waitNode(i)
}

// Running reports whether node i's process runs.
func (c *Cluster) Running(i int) bool { return c.proc(i).running() }

// PID is node i's process ID, 0 while it is not running (the cluster
// rig reads its CPU time).
func (c *Cluster) PID(i int) int {
	p := c.proc(i)
	if p == nil || !p.running() {
		return 0
	}
	return p.cmd.Process.Pid
}

// Output is the last lines node i printed (for a failed test's log).
func (c *Cluster) Output(i int) string { return c.proc(i).out.String() }

// Stop ends every node (SIGTERM, SIGKILL after 10 s).
func (c *Cluster) Stop() {
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		if p := c.proc(i); p != nil && n != nil {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(10 * time.Second) }()
		}
	}
	wg.Wait()
}

// ClientURL is node i's client URL (TLS).
func (c *Cluster) ClientURL(i int) string {
	return "tls://127.0.0.1:" + strconv.Itoa(c.nodes[i].ports.client)
}

// ClientURLs is every node's client URL, comma-separated as nats.Connect
// takes them.
func (c *Cluster) ClientURLs() string {
	urls := make([]string, len(c.nodes))
	for i := range c.nodes {
		urls[i] = c.ClientURL(i)
	}
	return strings.Join(urls, ",")
}

// CA is the file of the authority the nodes' certificates are signed by.
func (c *Cluster) CA() string { return c.certs.CA }

// Password is user's password (a user of the shipped accounts.conf), ""
// for another.
func (c *Cluster) Password(user string) string { return c.creds.Password(user) }

// CredentialsFile is the file of every user's password, VARIABLE=password
// a line.
func (c *Cluster) CredentialsFile() string { return c.creds.Path }

// Connect logs in as user over TLS with its own inbox prefix. With no
// node given it knows every node and reconnects to any; with nodes, to
// those only. opts add to (and may override) reconnecting forever every
// 50 ms.
func (c *Cluster) Connect(user string, nodes []int, opts ...nats.Option) (*nats.Conn, error) {
	pw := c.Password(user)
	if pw == "" {
		return nil, fmt.Errorf("natscluster: the accounts config has no user %q", user)
	}
	urls := c.ClientURLs()
	if len(nodes) > 0 {
		list := make([]string, len(nodes))
		for k, i := range nodes {
			list[k] = c.ClientURL(i)
		}
		urls = strings.Join(list, ",")
		// The servers announce the other nodes; a client confined to some
		// must not learn the others.
		opts = append([]nats.Option{nats.IgnoreDiscoveredServers()}, opts...)
	}
	base := []nats.Option{nats.UserInfo(user, pw), nats.RootCAs(c.certs.CA), nats.CustomInboxPrefix(natsauth.InboxPrefix(user)),
		nats.MaxReconnects(-1), nats.ReconnectWait(50 * time.Millisecond)}
	nc, err := nats.Connect(urls, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("natscluster: connect as %s to %s: %w", user, urls, err)
	}
	return nc, nil
}

func freePorts() (ports, error) {
	var p ports
	for _, dst := range []*int{&p.client, &p.monitor, &p.route} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return p, fmt.Errorf("natscluster: free port: %w", err)
		}
		*dst = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
	}
	return p, nil
}

func randomHex() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	return hex.EncodeToString(b), nil
}
