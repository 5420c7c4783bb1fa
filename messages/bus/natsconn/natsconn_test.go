package natsconn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/cspreseller/csp-processor/deployments/testcerts"
	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// runServer starts an embedded server with opts on 127.0.0.1 and a random
// port, shut down when the test ends.
func runServer(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	return natstest.RunServerWithOptions(t, opts)
}

// connect connects with c and no reconnect attempts, so a refusal comes
// back as the error.
func connect(c Config) (*nats.Conn, error) {
	return c.Connect(nats.Timeout(5*time.Second), nats.NoReconnect())
}

func requireConnects(t *testing.T, c Config) {
	t.Helper()
	nc, err := connect(c)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

func requireRefused(t *testing.T, c Config, want string) {
	t.Helper()
	nc, err := connect(c)
	if err == nil {
		nc.Close()
		t.Fatalf("connected with %+v", c)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
}

// A server that requires TLS and verifies client certificates accepts the
// CA, certificate and key files, and refuses a client without the
// certificate or trusting another CA.
func TestTLSWithClientCertificate(t *testing.T) {
	certs := testcerts.Write(t, t.TempDir())
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CaFile: certs.CA, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	s := runServer(t, &server.Options{TLS: true, TLSVerify: true, TLSConfig: tc, TLSTimeout: 5})
	good := Config{URL: s.ClientURL(), TLS: tlsfiles.Files{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}}
	requireConnects(t, good)

	noCert := good
	noCert.TLS.Cert, noCert.TLS.Key = "", ""
	if _, err := connect(noCert); err == nil {
		t.Error("connected without a client certificate")
	}
	wrongCA := good
	wrongCA.TLS.CA = testcerts.Write(t, t.TempDir()).CA
	requireRefused(t, wrongCA, "certificate signed by unknown authority")
	requireRefused(t, Config{URL: s.ClientURL()}, "certificate signed by unknown authority") // system roots
}

// An nkey user connects with its seed file and is refused without it.
func TestNkeyUser(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "processor.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	s := runServer(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}})
	requireConnects(t, Config{URL: s.ClientURL(), Nkey: seedFile})
	requireRefused(t, Config{URL: s.ClientURL()}, "Authorization Violation")
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := filepath.Join(t.TempDir(), "other.nk")
	if err := os.WriteFile(otherFile, otherSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	requireRefused(t, Config{URL: s.ClientURL(), Nkey: otherFile}, "Authorization Violation")
	if _, err := (Config{URL: s.ClientURL(), Nkey: seedFile + ".missing"}).Options(); err == nil || !strings.Contains(err.Error(), EnvNkey) {
		t.Errorf("a missing seed file: %v, want an error naming %s", err, EnvNkey)
	}
}

// A user of a JWT operator-mode server connects with its .creds file and
// is refused without it.
func TestCredsFile(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ajwt, err := jwt.NewAccountClaims(apub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	useed, _ := ukp.Seed()
	ujwt, err := jwt.NewUserClaims(upub).Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(ujwt, useed)
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(t.TempDir(), "processor.creds")
	if err := os.WriteFile(credsFile, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	s := runServer(t, &server.Options{TrustedKeys: []string{opub}, AccountResolver: resolver})
	requireConnects(t, Config{URL: s.ClientURL(), Creds: credsFile})
	requireRefused(t, Config{URL: s.ClientURL()}, "Authorization Violation")
}

// With the prefix its permissions allow, a user confined to its own
// inboxes gets replies; with the default _INBOX it cannot subscribe to
// them, so requests fail.
func TestInboxPrefixMatchesPermissions(t *testing.T) {
	s := runServer(t, &server.Options{Users: []*server.User{
		{Username: "processor", Password: "p", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Allow: []string{"svc"}},
			Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.processor.>"}},
		}},
		{Username: "svc", Password: "s"},
	}})
	url := strings.Replace(s.ClientURL(), "nats://", "nats://%s@", 1)
	svc, err := connect(Config{URL: strings.Replace(url, "%s", "svc:s", 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, err := svc.Subscribe("svc", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) }); err != nil {
		t.Fatal(err)
	}
	_ = svc.Flush()

	own, err := connect(Config{URL: strings.Replace(url, "%s", "processor:p", 1), InboxPrefix: "_INBOX.processor"})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if m, err := own.Request("svc", nil, 5*time.Second); err != nil || string(m.Data) != "ok" {
		t.Fatalf("request with the permitted inbox prefix: %v", err)
	}
	dflt, err := connect(Config{URL: strings.Replace(url, "%s", "processor:p", 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer dflt.Close()
	if _, err := dflt.Request("svc", nil, 2*time.Second); err == nil {
		t.Fatal("a request with the default _INBOX got a reply its permissions forbid")
	}
}

// Settings that cannot work are refused before connecting, naming the
// setting; a password in the URL never shows in a message.
func TestOptionsRefuseBadSettings(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "x.creds")
	if err := os.WriteFile(creds, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"creds and nkey", Config{Creds: creds, Nkey: creds}, "set one"},
		{"creds missing", Config{Creds: creds + ".missing"}, EnvCreds},
		{"inbox wildcard", Config{InboxPrefix: "_INBOX.*"}, EnvInboxPrefix},
		{"inbox trailing dot", Config{InboxPrefix: "_INBOX."}, EnvInboxPrefix},
		{"cert without key", Config{TLS: tlsfiles.Files{Cert: creds}}, "without its key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.c.Options(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	_, err := connect(Config{URL: "nats://u:topsecret@127.0.0.1:1,nats://v:alsosecret@127.0.0.1:2"})
	if err == nil || strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "u:xxxxx@127.0.0.1:1") {
		t.Fatalf("err = %v, want the URLs with their passwords hidden", err)
	}
}

// Env hands a child process exactly the settings of c.
func TestEnvRoundTrips(t *testing.T) {
	c := Config{URL: "tls://h:4222", Creds: "/c", TLS: tlsfiles.Files{CA: "/ca", Cert: "/crt", Key: "/key"}, InboxPrefix: "_INBOX.sim"}
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	if got := FromEnv(); got != c {
		t.Fatalf("FromEnv() = %+v, want %+v", got, c)
	}
}
