package redisconn

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/deployments/testcerts"
	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// Both cluster URL forms name the same seeds, user and password; one
// address stays a single node.
func TestClusterURLFormsNameEverySeed(t *testing.T) {
	want := []string{"h1:7000", "h2:7001", "h3:7002"}
	for _, u := range []string{
		"redis://processor:pw@h1:7000?addr=h2:7001&addr=h3:7002",
		"redis://processor:pw@h1:7000,h2:7001,h3:7002",
		"redis://processor:pw@h1:7000,h2:7001/0?addr=h3:7002",
		"redis://processor:pw@h1:7000,h2:7001,h3:7002/?read_timeout=2s",
	} {
		c := Config{URL: u}
		if !c.IsCluster() {
			t.Errorf("%s: IsCluster false", u)
			continue
		}
		opt, err := c.ClusterOptions()
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if !slices.Equal(opt.Addrs, want) || opt.Username != "processor" || opt.Password != "pw" || opt.TLSConfig != nil {
			t.Errorf("%s: addrs %v user %q password %q TLS %v", u, opt.Addrs, opt.Username, opt.Password, opt.TLSConfig != nil)
		}
		if opt.ClusterStateReloadInterval != ClusterReloadInterval || opt.DialTimeout != ClusterDialTimeout {
			t.Errorf("%s: failover defaults not applied: reload %v dial %v", u, opt.ClusterStateReloadInterval, opt.DialTimeout)
		}
	}
	if (Config{URL: "redis://processor:pw@h1:7000/0"}).IsCluster() {
		t.Error("a one-address URL counts as a cluster")
	}
	opt, _ := Config{URL: "redis://h1:7000,h2:7001?read_timeout=2s&dial_timeout=1s"}.ClusterOptions()
	if opt == nil || opt.ReadTimeout != 2*time.Second || opt.DialTimeout != time.Second {
		t.Errorf("URL timeouts not kept: %+v", opt)
	}
}

// rediss:// with the TLS files gives every node's connection the CA and
// client certificate, verified against the name each node is dialled by.
func TestClusterURLWithTLSUsesTheFilesForEveryNode(t *testing.T) {
	certs := testcerts.Write(t, t.TempDir())
	c := Config{URL: "rediss://processor:pw@h1:7000,h2:7001",
		TLS: tlsfiles.Files{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}}
	opt, err := c.ClusterOptions()
	if err != nil {
		t.Fatal(err)
	}
	if opt.TLSConfig == nil || opt.TLSConfig.RootCAs == nil || len(opt.TLSConfig.Certificates) != 1 || opt.TLSConfig.ServerName != "" {
		t.Fatalf("TLS config %+v", opt.TLSConfig)
	}
}

// Cluster URLs that cannot do what the operator meant are refused, naming
// REDIS_URL, without the password.
func TestClusterURLRefusals(t *testing.T) {
	certs := testcerts.Write(t, t.TempDir())
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"database other than 0", Config{URL: "redis://u:topsecret@h1:7000,h2:7001/3"}, "only database 0"},
		{"address without port", Config{URL: "redis://u:topsecret@h1:7000,h2"}, `"h2"`},
		{"addr without port", Config{URL: "redis://u:topsecret@h1:7000?addr=h2"}, `"h2"`},
		{"unknown option", Config{URL: "redis://u:topsecret@h1:7000,h2:7001?colour=red"}, "colour"},
		{"TLS files with redis://", Config{URL: "redis://u:topsecret@h1:7000,h2:7001", TLS: tlsfiles.Files{CA: certs.CA}}, "is not rediss://"},
		{"bad scheme", Config{URL: "http://u:topsecret@h1:7000,h2:7001"}, "scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.ClusterOptions()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("the password is in the message: %v", err)
			}
		})
	}
}

// NewClient builds a cluster client for a cluster URL and a single-node
// client otherwise; a single-node URL naming a cluster node is refused at
// start-up instead of failing with MOVED later.
func TestNewClientPicksClusterOrSingleNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := redisserver.StartCluster(ctx, redisserver.ClusterOptions{Masters: 3, User: "processor", Password: strings.Repeat("pw", 20)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })

	tuned := 0
	rdb, err := Config{URL: cl.URL()}.NewClient(func(o *redis.Options) { tuned++; o.PoolSize = 77 })
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok || tuned != 1 || cc.Options().PoolSize != 77 {
		t.Fatalf("client %T, tuned %d times, pool %d", rdb, tuned, cc.Options().PoolSize)
	}
	for i := range 50 { // keys over every master: no MOVED escapes the client
		if err := rdb.Set(ctx, "k"+string(rune('a'+i%26))+strings.Repeat("x", i), "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := CheckNotCluster(ctx, rdb); err != nil {
		t.Errorf("CheckNotCluster(cluster client): %v", err)
	}

	one := strings.Split(cl.URL(), "?")[0]
	single, err := Config{URL: one}.NewClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	if _, ok := single.(*redis.Client); !ok {
		t.Fatalf("one address built %T", single)
	}
	err = CheckNotCluster(ctx, single)
	if err == nil || !strings.Contains(err.Error(), "list at least two") || strings.Contains(err.Error(), "pwpw") {
		t.Fatalf("CheckNotCluster(one node of a cluster) = %v", err)
	}
}
