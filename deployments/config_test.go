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
	setNATSTLSEnv(t)
	setPasswords(t)
	t.Setenv("NODE_NAME", "csp-nats-1")
	for _, f := range []string{"nats/single-node.conf", "nats/cluster-node.conf"} {
		t.Run(f, func(t *testing.T) {
			opts, err := server.ProcessConfigFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !opts.JetStream || !opts.SyncAlways {
				t.Fatalf("JetStream %v, sync always %v", opts.JetStream, opts.SyncAlways)
			}
			if len(opts.Users) < 3 {
				t.Fatalf("%d users", len(opts.Users))
			}
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
