package deployments

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// The shipped NATS configurations must load in the server version the
// processor embeds, with JetStream on and fsync before every ack.
func TestNATSConfigsLoad(t *testing.T) {
	t.Setenv("CSP_PROCESSOR_PASSWORD", "p")
	t.Setenv("CSP_BILLING_PASSWORD", "b")
	t.Setenv("CSP_PARTNER_P_1001_PASSWORD", "x")
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
