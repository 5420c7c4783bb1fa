package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natscluster"
	"github.com/cspreseller/csp-processor/messages/bus/natsconn"
	"github.com/cspreseller/csp-processor/state/redisconn"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// processorPackage is built when Options.ProcessorBin is empty; a package
// path builds from any directory inside the module.
const processorPackage = "github.com/cspreseller/csp-processor/cmd/processor"

// Options configure Start.
type Options struct {
	// Dir holds everything: certificates, passwords, every node's store,
	// the replicas' data. Required; the caller removes it.
	Dir string
	// Replicas is the number of processor replicas started (default 3;
	// StartProcessor adds more).
	Replicas int
	// Partitions of the command stream (default 8: few enough that a
	// 2-core machine works them all with three replicas).
	Partitions int
	// ProcessorBin is the processor binary; empty: go build it.
	ProcessorBin string
	// RedisNodeTimeout is the Redis Cluster's cluster-node-timeout: a
	// killed master's replica is promoted about this plus a second or two
	// later (default 3s).
	RedisNodeTimeout time.Duration
	// ProcessorEnv is added to every replica's environment (e.g.
	// LOG_LEVEL=info).
	ProcessorEnv []string
	// Log receives the processors' output, each line prefixed with its
	// replica ID (nil: kept only for Output).
	Log io.Writer
}

// Cluster is the running system.
type Cluster struct {
	opt   Options
	NATS  *natscluster.Cluster
	Redis *redisserver.Cluster
	// Streams are the streams' names and the partitions, as the
	// processors create them.
	Streams bus.StreamsConfig

	mu       sync.Mutex
	replicas []*replica
}

// Start starts the NATS and Redis clusters and opts.Replicas processors,
// and returns once every server answers and every processor holds a
// share of the partitions. The processors are started together, as an
// orchestrator starts them.
func Start(ctx context.Context, opt Options) (_ *Cluster, err error) {
	if opt.Dir == "" {
		return nil, errors.New("cluster: no directory")
	}
	if opt.Replicas == 0 {
		opt.Replicas = 3
	}
	if opt.Partitions == 0 {
		opt.Partitions = 8
	}
	if opt.RedisNodeTimeout == 0 {
		opt.RedisNodeTimeout = 3 * time.Second
	}
	c := &Cluster{opt: opt, Streams: bus.StreamsConfig{Partitions: opt.Partitions, Replicas: 3}.WithDefaults()}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.opt.ProcessorBin == "" {
		c.opt.ProcessorBin = filepath.Join(opt.Dir, "processor")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", c.opt.ProcessorBin, processorPackage).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("cluster: go build %s (run inside the module): %v\n%s", processorPackage, err, out)
		}
	}
	if c.NATS, err = natscluster.Start(ctx, natscluster.Config{Dir: filepath.Join(opt.Dir, "nats"), Nodes: 3}); err != nil {
		return nil, err
	}
	pw, err := randomHex()
	if err != nil {
		return nil, err
	}
	// Two replicas per master: a commit waits for one (REDIS_WAIT_REPLICAS=1),
	// so the replica promoted after a master's death holds every commit.
	if c.Redis, err = redisserver.StartCluster(ctx, redisserver.ClusterOptions{Masters: 3, Replicas: 2,
		Dir: filepath.Join(opt.Dir, "redis"), NodeTimeout: opt.RedisNodeTimeout, User: "processor", Password: pw}); err != nil {
		return nil, err
	}
	if err := c.Redis.WaitHealthy(ctx); err != nil {
		return nil, err
	}
	// All together, as an orchestrator starts them: every replica creates
	// the streams, the consumers and the lease bucket at once.
	for i := range opt.Replicas {
		if err := c.StartProcessor(i); err != nil {
			return nil, err
		}
	}
	errs := make([]error, opt.Replicas)
	var wg sync.WaitGroup
	for i := range opt.Replicas {
		wg.Go(func() { errs[i] = c.awaitJoined(ctx, i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, nil
}

// natsConfig is how user reaches the NATS cluster: every node's TLS URL
// with the user's password, the cluster's CA and the user's inbox prefix.
func (c *Cluster) natsConfig(user string) natsconn.Config {
	urls := strings.Split(c.NATS.ClientURLs(), ",")
	for i, u := range urls {
		p, _ := url.Parse(u)
		p.User = url.UserPassword(user, c.NATS.Password(user))
		urls[i] = p.String()
	}
	return natsconn.Config{URL: strings.Join(urls, ","), TLS: tlsfiles.Files{CA: c.NATS.CA()}, InboxPrefix: natsauth.InboxPrefix(user)}
}

// SimulatorNATS is how the simulator connects: as the simulator user.
func (c *Cluster) SimulatorNATS() natsconn.Config { return c.natsConfig("simulator") }

// RedisConfig is the Redis Cluster's URL (every node a seed) with the
// processor user's password; the simulator reads memory use with it.
func (c *Cluster) RedisConfig() redisconn.Config { return redisconn.Config{URL: c.Redis.URL()} }

// ReplicaID is the REPLICA_ID of processor i: a killed replica comes back
// under its name.
func ReplicaID(i int) string { return "replica-" + strconv.Itoa(i+1) }

// Processors is the number of processor replicas started so far (running
// or killed).
func (c *Cluster) Processors() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.replicas)
}

// StartProcessor starts processor i: again after KillProcessor(i), or a
// new replica when i is Processors() (growth). It returns once the
// process runs, not once it holds partitions (PartitionHolders says).
func (c *Cluster) StartProcessor(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case i < len(c.replicas) && c.replicas[i].running():
		return fmt.Errorf("cluster: processor %s is running", ReplicaID(i))
	case i > len(c.replicas):
		return fmt.Errorf("cluster: processor %d: the next new one is %d", i, len(c.replicas))
	}
	opsAddr, err := freeAddr() // Counters reads the replica's counters there
	if err != nil {
		return err
	}
	env := append(c.natsConfig("processor").Env(), redisconn.Config{URL: c.Redis.URL()}.Env()...)
	env = append(env, "STREAM_REPLICAS=3", "REDIS_WAIT_REPLICAS=1", "SIMULATION=1", "LOG_LEVEL=warn",
		"PARTITION_OWNERSHIP=leases", "REPLICA_ID="+ReplicaID(i), "PARTITIONS="+strconv.Itoa(c.opt.Partitions),
		"DATA_DIR="+filepath.Join(c.opt.Dir, ReplicaID(i)), "OPS_ADDR="+opsAddr)
	r, err := startReplica(ReplicaID(i), c.opt.ProcessorBin, append(env, c.opt.ProcessorEnv...), c.opt.Log)
	if err != nil {
		return err
	}
	r.opsAddr = opsAddr
	if i == len(c.replicas) {
		c.replicas = append(c.replicas, r)
	} else {
		c.replicas[i] = r
	}
	return nil
}

func (c *Cluster) replica(i int) (*replica, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < 0 || i >= len(c.replicas) {
		return nil, fmt.Errorf("cluster: no processor %d", i)
	}
	return c.replicas[i], nil
}

// KillProcessor ends processor i with SIGKILL and returns once it exited;
// its leases expire after LEASE_TTL and the others take its partitions.
func (c *Cluster) KillProcessor(i int) error {
	r, err := c.replica(i)
	if err != nil {
		return err
	}
	return r.kill()
}

// StopProcessor asks processor i to hand its partitions back and end.
func (c *Cluster) StopProcessor(i int) error {
	r, err := c.replica(i)
	if err != nil {
		return err
	}
	r.stop(30 * time.Second)
	return nil
}

// ProcessorRunning reports whether processor i's process runs.
func (c *Cluster) ProcessorRunning(i int) bool {
	r, err := c.replica(i)
	return err == nil && r.running()
}

// ProcessorOutput is the last lines processor i printed.
func (c *Cluster) ProcessorOutput(i int) string {
	r, err := c.replica(i)
	if err != nil {
		return ""
	}
	return r.out.String()
}

// Stop stops the processors (SIGTERM: they hand their partitions back),
// then the NATS and Redis clusters. Dir stays for the caller to remove.
func (c *Cluster) Stop() {
	c.mu.Lock()
	replicas := append([]*replica(nil), c.replicas...)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range replicas {
		if r.running() {
			wg.Add(1)
			go func() { defer wg.Done(); r.stop(30 * time.Second) }()
		}
	}
	wg.Wait()
	if c.NATS != nil {
		c.NATS.Stop()
	}
	if c.Redis != nil {
		_ = c.Redis.Close()
	}
}

func randomHex() (string, error) {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	return hex.EncodeToString(b), nil
}
