package deployments

import (
	"os"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// The shipped NATS configurations must load in the server version the
// processor embeds, with JetStream on and fsync before every ack.
func TestNATSConfigsLoad(t *testing.T) {
	forEachNATSConfig(t, func(t *testing.T, _ string, opts *server.Options) {
		if !opts.JetStream || !opts.SyncAlways {
			t.Fatalf("JetStream %v, sync always %v", opts.JetStream, opts.SyncAlways)
		}
		if len(opts.Users) < 3 {
			t.Fatalf("%d users", len(opts.Users))
		}
	})
}

// forEachNATSConfig loads each shipped NATS configuration, with every
// variable it reads set (test certificates, passwords, the node name), and
// runs check on it in a subtest named for the file.
func forEachNATSConfig(t *testing.T, check func(t *testing.T, file string, opts *server.Options)) {
	t.Helper()
	setNATSTLSEnv(t)
	setPasswords(t)
	t.Setenv("NODE_NAME", "csp-nats-1")
	for _, f := range []string{"nats/single-node.conf", "nats/cluster-node.conf"} {
		t.Run(f, func(t *testing.T) {
			opts, err := server.ProcessConfigFile(f)
			if err != nil {
				t.Fatal(err)
			}
			check(t, f, opts)
		})
	}
}

// The shipped Redis configurations keep every acknowledged write: the AOF on
// and synced before every reply, as the processor checks at start.
func TestRedisConfigsAreDurable(t *testing.T) {
	for _, f := range []string{"redis/redis.conf", "redis/cluster-node.conf"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && !strings.HasPrefix(k, "#") {
				got[k] = strings.TrimSpace(v)
			}
		}
		if got["appendonly"] != "yes" || got["appendfsync"] != "always" {
			t.Fatalf("%s: appendonly %q, appendfsync %q; want yes, always", f, got["appendonly"], got["appendfsync"])
		}
	}
}
