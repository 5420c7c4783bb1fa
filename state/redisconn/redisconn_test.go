package redisconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/deployments/testcerts"
	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// startTLS starts a redis-server that listens on TLS only, requires a
// client certificate signed by the test CA and knows one ACL user.
func startTLS(t *testing.T) (*redisserver.Server, testcerts.Files) {
	t.Helper()
	certs := testcerts.Write(t, t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := redisserver.Start(ctx, redisserver.Options{
		User: "processor", Password: strings.Repeat("s3cret", 6),
		TLS: &redisserver.TLS{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA},
	})
	if err != nil {
		t.Fatal(err) // a redis-server built without TLS says so here
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, certs
}

func ping(t *testing.T, c Config) error {
	t.Helper()
	opt, err := c.Options()
	if err != nil {
		t.Fatalf("Options: %v", err)
	}
	opt.MaxRetries = -1
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return rdb.Ping(ctx).Err()
}

// rediss:// with an ACL user, the private CA and a client certificate
// connects; leaving out the client certificate, trusting another CA, or a
// wrong password does not.
func TestTLSWithACLUserAndClientCertificate(t *testing.T) {
	srv, certs := startTLS(t)
	if !strings.HasPrefix(srv.URL(), "rediss://processor:") {
		t.Fatalf("URL %q", srv.URL())
	}
	good := Config{URL: srv.URL(), TLS: tlsfiles.Files{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}}
	if err := ping(t, good); err != nil {
		t.Fatalf("PING over TLS as processor: %v", err)
	}

	noCert := good
	noCert.TLS.Cert, noCert.TLS.Key = "", ""
	if err := ping(t, noCert); err == nil {
		t.Error("connected without a client certificate")
	}

	other := testcerts.Write(t, t.TempDir())
	wrongCA := good
	wrongCA.TLS.CA = other.CA
	if err := ping(t, wrongCA); err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("trusting another CA: %v, want unknown authority", err)
	}

	foreignCert := good
	foreignCert.TLS.Cert, foreignCert.TLS.Key = other.ClientCert, other.ClientKey
	if err := ping(t, foreignCert); err == nil {
		t.Error("connected with a client certificate from another CA")
	}

	wrongPass := good
	wrongPass.URL = strings.Replace(srv.URL(), "s3cret@", "s3creX@", 1)
	if wrongPass.URL == srv.URL() {
		t.Fatal("the mutation did not apply")
	}
	if err := ping(t, wrongPass); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Errorf("wrong password over TLS: %v, want WRONGPASS", err)
	}
}

// Settings that cannot do what the operator meant are refused before any
// connection, naming the setting; the password never shows in the message.
func TestOptionsRefuseInconsistentSettings(t *testing.T) {
	certs := testcerts.Write(t, t.TempDir())
	for _, tc := range []struct {
		name string
		c    Config
		want string
	}{
		{"TLS files with redis://", Config{URL: "redis://u:topsecret@h:6379/0", TLS: tlsfiles.Files{CA: certs.CA}}, "is not rediss://"},
		{"certificate without key", Config{URL: "rediss://u:topsecret@h:6379/0", TLS: tlsfiles.Files{Cert: certs.ClientCert}}, "without its key"},
		{"key without certificate", Config{URL: "rediss://h:6379/0", TLS: tlsfiles.Files{Key: certs.ClientKey}}, "without its certificate"},
		{"CA file missing", Config{URL: "rediss://h:6379/0", TLS: tlsfiles.Files{CA: certs.CA + ".missing"}}, "no such file"},
		{"CA file not PEM", Config{URL: "rediss://h:6379/0", TLS: tlsfiles.Files{CA: certs.ClientKey}}, "no PEM certificate"},
		{"bad URL", Config{URL: "http://u:topsecret@h:6379"}, EnvURL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.Options()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("the password is in the message: %v", err)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(EnvURL, "rediss://processor:p@h:6380/2")
	t.Setenv(EnvTLSCA, "/ca")
	t.Setenv(EnvTLSCert, "/c")
	t.Setenv(EnvTLSKey, "/k")
	want := Config{URL: "rediss://processor:p@h:6380/2", TLS: tlsfiles.Files{CA: "/ca", Cert: "/c", Key: "/k"}}
	if got := FromEnv(); got != want {
		t.Fatalf("FromEnv() = %+v, want %+v", got, want)
	}
}
