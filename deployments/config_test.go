package deployments

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// The shipped NATS configurations must load in the server version the
// processor embeds, with JetStream on and fsync before every ack.
func TestNATSConfigsLoad(t *testing.T) {
	setNATSTLSEnv(t)
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

// The shipped permissions make the acting partner and role unforgeable
// (PTN-1, ROL-1, G6): a partner's user can publish commands only under its
// own partner ID and role, and read only its own partner's events.
func TestNATSPermissionsConfinePartnersToTheirOwnSubjects(t *testing.T) {
	certs := setNATSTLSEnv(t)
	t.Setenv("CSP_PROCESSOR_PASSWORD", "p")
	t.Setenv("CSP_BILLING_PASSWORD", "b")
	t.Setenv("CSP_PARTNER_P_1001_PASSWORD", "x")
	opts, err := server.ProcessConfigFile("nats/single-node.conf")
	if err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port, opts.HTTPPort, opts.StoreDir, opts.NoSigs = "127.0.0.1", -1, 0, t.TempDir(), true
	opts.HTTPHost = ""
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(s.Shutdown)

	errs := make(chan error, 16)
	nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("partner-P-1001", "x"), nats.RootCAs(certs.CA),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	denied := func(subject string) {
		t.Helper()
		if err := nc.Publish(subject, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		_ = nc.Flush()
		select {
		case err := <-errs:
			if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				t.Fatalf("%s: %v", subject, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("publishing to %s was not refused", subject)
		}
	}
	denied("csp.cmd.P-2002.admin_agent.C-1.subscription.cancel")  // another partner
	denied("csp.cmd.P-1001.global_admin.C-1.subscription.cancel") // another role
	denied("csp.cmd._system.system.C-1.timer.fired")              // the processor's timers
	if _, err := nc.Subscribe("csp.evt.P-2002.>", func(*nats.Msg) {}); err == nil {
		_ = nc.Flush()
		select {
		case err := <-errs:
			if !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
				t.Fatalf("subscribe: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("subscribing to another partner's events was not refused")
		}
	}
	// Its own subject is allowed: publish to it, then to a refused one;
	// errors arrive in order, so the first must name the refused one.
	if err := nc.Publish("csp.cmd.P-1001.admin_agent.C-1.subscription.cancel", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("csp.cmd.P-2002.admin_agent.C-9.subscription.cancel", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "P-2002") {
			t.Fatalf("own subject refused: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no refusal arrived")
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
