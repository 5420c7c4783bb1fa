package redisconn

// A Redis Cluster is named by a REDIS_URL that lists more than one node,
// in either of two forms (every node listed is a seed: the client asks the
// first that answers for the slot map and learns the rest from it):
//
//	redis://user:password@host1:7000?addr=host2:7001&addr=host3:7002   (go-redis's cluster URL)
//	redis://user:password@host1:7000,host2:7001,host3:7002             (a comma-separated list, as NATS_URL)
//
// rediss:// makes every connection TLS, with the same REDIS_TLS_* files for
// every node. A cluster has only database 0, so a path other than /0 is
// refused. A URL with one address builds a single-node client, and a
// cluster node reached that way answers MOVED for most keys: list at least
// two nodes (CheckNotCluster says so at start-up).
//
// Query options are go-redis's (ParseClusterURL): dial_timeout,
// read_timeout, max_redirects, pool_size, ... Those ClusterDefaults sets
// apply when the URL does not set them.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster failover defaults (FailoverTuned). When a master dies, go-redis
// keeps sending its slots' commands to it until it reloads the slot map,
// which it does on MOVED and otherwise only every
// ClusterStateReloadInterval (go-redis default 60 s): a dead master answers
// no MOVED, so without a reload on errors the processor would keep failing
// for up to a minute after a replica took over.
const (
	// ClusterReloadInterval bounds how stale the slot map gets when no
	// command fails (a slot migrated while nothing touched it).
	ClusterReloadInterval = 5 * time.Second
	// ClusterDialTimeout bounds one connection attempt to a node: a
	// master whose machine is gone does not refuse connections, it lets
	// them time out, and every command to it waits this long (go-redis
	// default 5 s, with 5 attempts).
	ClusterDialTimeout = 2 * time.Second
	// ClusterDialerRetries is how often one dial is tried.
	ClusterDialerRetries = 2
)

// IsCluster reports whether the URL lists more than one node (either form
// above).
func (c Config) IsCluster() bool {
	u, err := url.Parse(c.URL)
	if err != nil {
		return strings.Contains(c.URL, ",") // url.Parse refuses some comma lists; ClusterOptions says why
	}
	return strings.Contains(u.Host, ",") || u.Query().Has("addr")
}

// ClusterOptions parses a cluster URL (either form) and adds the TLS files,
// as Options does for one node, and the failover defaults (FailoverTuned).
func (c Config) ClusterOptions() (*redis.ClusterOptions, error) {
	fail := func(err error) (*redis.ClusterOptions, error) {
		return nil, fmt.Errorf("%s %s: %w", EnvURL, Redacted(c.URL), err)
	}
	norm, err := addrForm(c.URL)
	if err != nil {
		return fail(err)
	}
	opt, err := redis.ParseClusterURL(norm)
	if err != nil {
		return fail(err)
	}
	if opt.TLSConfig == nil {
		if c.TLS.Set() {
			return nil, fmt.Errorf("%s, %s or %s is set but %s %s is not rediss://: the connection would not be encrypted",
				EnvTLSCA, EnvTLSCert, EnvTLSKey, EnvURL, Redacted(c.URL))
		}
		return FailoverTuned(opt), nil
	}
	files, err := c.TLS.Client()
	if err != nil {
		return nil, fmt.Errorf("Redis TLS (%s, %s, %s): %w", EnvTLSCA, EnvTLSCert, EnvTLSKey, err)
	}
	// Every node presents a certificate for its own name: verify each
	// against the name it is dialled by rather than the first seed's.
	opt.TLSConfig.ServerName = ""
	opt.TLSConfig.RootCAs = files.RootCAs
	opt.TLSConfig.Certificates = files.Certificates
	return FailoverTuned(opt), nil
}

// addrForm rewrites the comma form into go-redis's addr= form and refuses a
// database other than 0.
func addrForm(raw string) (string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", errors.New("want redis://host:port?addr=host:port... or redis://host:port,host:port,...")
	}
	authority, tail, _ := strings.Cut(rest, "/")
	query := ""
	if i := strings.IndexByte(authority, '?'); i >= 0 {
		authority, query, tail = authority[:i], authority[i+1:], ""
	} else if p, q, ok := strings.Cut(tail, "?"); ok {
		tail, query = p, q
	}
	if tail != "" && tail != "0" {
		return "", fmt.Errorf("database /%s: a Redis Cluster has only database 0", tail)
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	list := strings.Split(hosts, ",")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", err
	}
	extra := q["addr"]
	q.Del("addr")
	for _, h := range append(list[1:], extra...) {
		if host, port, err := net.SplitHostPort(h); err != nil || host == "" || port == "" {
			return "", fmt.Errorf("node address %q: want host:port", h)
		}
		q.Add("addr", h)
	}
	return scheme + "://" + userinfo + list[0] + "?" + q.Encode(), nil
}

// FailoverTuned sets the failover defaults (see ClusterReloadInterval) where
// opt leaves them unset.
func FailoverTuned(opt *redis.ClusterOptions) *redis.ClusterOptions {
	if opt.ClusterStateReloadInterval == 0 {
		opt.ClusterStateReloadInterval = ClusterReloadInterval
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = ClusterDialTimeout
	}
	if opt.DialerRetries == 0 {
		opt.DialerRetries = ClusterDialerRetries
	}
	return opt
}

// NewClusterClient builds a cluster client that also reloads its slot map
// whenever a command or pipeline fails for any reason other than a Redis
// error reply: a master that died answers nothing, so the first failure
// after its replica took over is what makes the client look again, rather
// than the periodic reload.
func NewClusterClient(opt *redis.ClusterOptions) *redis.ClusterClient {
	c := redis.NewClusterClient(opt)
	c.AddHook(reloadOnFailure{c})
	return c
}

// reloadOnFailure is NewClusterClient's hook.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		return err
	}
}

// check asks for a reload (asynchronous, and at most one at a time with a
// 200 ms pause between, go-redis's LazyReload) after a failure that is not
// an answer from Redis. MOVED, ASK and READONLY answers reload by
// themselves; a CLUSTERDOWN answer also reloads, since it is what a
// surviving node says while the cluster has slots without a master.
func (h reloadOnFailure) check(ctx context.Context, err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	var re redis.Error
	if errors.As(err, &re) && !redis.IsClusterDownError(err) {
		return
	}
	h.c.ReloadState(ctx)
}

// NewClient builds the client the URL names: a cluster client
// (NewClusterClient) for a URL that lists several nodes, else a
// single-node client. tune, when set, adjusts the options of one node
// (pool size, protocol) before the client is built; for a cluster it sees
// the options every node's client gets, and what it changes applies to
// every node.
func (c Config) NewClient(tune func(*redis.Options)) (redis.UniversalClient, error) {
	if c.IsCluster() {
		opt, err := c.ClusterOptions()
		if err != nil {
			return nil, err
		}
		if tune != nil {
			one := &redis.Options{PoolSize: opt.PoolSize, Protocol: opt.Protocol, ReadTimeout: opt.ReadTimeout}
			tune(one)
			opt.PoolSize, opt.Protocol, opt.ReadTimeout = one.PoolSize, one.Protocol, one.ReadTimeout
		}
		return NewClusterClient(opt), nil
	}
	opt, err := c.Options()
	if err != nil {
		return nil, err
	}
	if tune != nil {
		tune(opt)
	}
	return redis.NewClient(opt), nil
}

// CheckNotCluster returns an error when a single-node client reaches a
// node of a Redis Cluster: the store would get MOVED for most customers.
// Cluster clients pass, and so does a server that refuses INFO.
func CheckNotCluster(ctx context.Context, rdb redis.UniversalClient) error {
	c, ok := rdb.(*redis.Client)
	if !ok {
		return nil
	}
	info, err := c.Info(ctx, "cluster").Result()
	if err != nil || !strings.Contains(info, "cluster_enabled:1") {
		return nil
	}
	return fmt.Errorf("redis %s is a node of a Redis Cluster, and %s names only it: list at least two of its nodes "+
		"(redis://user:password@host1:port?addr=host2:port, or host1:port,host2:port)", c.Options().Addr, EnvURL)
}
