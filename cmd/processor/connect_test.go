package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/deployments/testcerts"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

// clearConnectEnv unsets every connection setting for the test.
func clearConnectEnv(t *testing.T) {
	for _, k := range []string{"NATS_URL", "NATS_CREDS", "NATS_NKEY", "NATS_TLS_CA", "NATS_TLS_CERT", "NATS_TLS_KEY",
		"NATS_INBOX_PREFIX", "REDIS_URL", "REDIS_TLS_CA", "REDIS_TLS_CERT", "REDIS_TLS_KEY"} {
		t.Setenv(k, "")
	}
}

// Without REDIS_URL the processor's private redis-server admits only the
// processor: no AUTH gets NOAUTH, a wrong password WRONGPASS; the password
// file is 0600 and a second start uses the same password.
func TestPrivateRedisAdmitsOnlyTheProcessor(t *testing.T) {
	clearConnectEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dataDir := t.TempDir()
	rdb, closeRedis, err := connectRedis(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		closeRedis()
		t.Fatalf("the processor's client: %v", err)
	}
	addr := rdb.(*redis.Client).Options().Addr
	pingAs := func(user, password string) error {
		c := redis.NewClient(&redis.Options{Addr: addr, Username: user, Password: password, MaxRetries: -1})
		defer c.Close()
		return c.Ping(ctx).Err()
	}
	if err := pingAs("", ""); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("without a password: %v, want NOAUTH", err)
	}
	if err := pingAs(redisserver.PrivateUser, "wrong-password"); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Errorf("with a wrong password: %v, want WRONGPASS", err)
	}
	closeRedis()

	file := filepath.Join(dataDir, "redis", redisserver.PasswordFile)
	st, err := os.Stat(file)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file %s: %v %v, want mode 0600", file, st.Mode().Perm(), err)
	}
	first, _ := os.ReadFile(file)

	rdb, closeRedis, err = connectRedis(ctx, dataDir)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	defer closeRedis()
	if got, err := rdb.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("after the second start GET k = %q, %v", got, err)
	}
	if again, _ := os.ReadFile(file); string(again) != string(first) {
		t.Error("the second start made a new password")
	}
}

// REDIS_URL=rediss://user:pass@... with REDIS_TLS_CA/CERT/KEY reaches a
// Redis that requires client certificates; without the certificate the
// processor stops with the URL's password hidden.
func TestExternalRedisOverTLS(t *testing.T) {
	clearConnectEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	certs := testcerts.Write(t, t.TempDir())
	srv, err := redisserver.Start(ctx, redisserver.Options{User: "processor", Password: strings.Repeat("pw", 20),
		TLS: &redisserver.TLS{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, CAFile: certs.CA}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("REDIS_URL", srv.URL())
	t.Setenv("REDIS_TLS_CA", certs.CA)
	t.Setenv("REDIS_TLS_CERT", certs.ClientCert)
	t.Setenv("REDIS_TLS_KEY", certs.ClientKey)
	rdb, closeRedis, err := connectRedis(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	closeRedis()
	_ = rdb

	t.Setenv("REDIS_TLS_CERT", "")
	t.Setenv("REDIS_TLS_KEY", "")
	_, _, err = connectRedis(ctx, t.TempDir())
	if err == nil {
		t.Fatal("connected without the client certificate")
	}
	if strings.Contains(err.Error(), strings.Repeat("pw", 20)) {
		t.Errorf("the password is in the message: %v", err)
	}

	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_TLS_CA", certs.CA)
	if _, _, err := connectRedis(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "without REDIS_URL") {
		t.Errorf("REDIS_TLS_CA without REDIS_URL: %v, want a refusal", err)
	}
}

// NATS_URL with NATS_NKEY connects as the nkey user, with the processor's
// own inbox prefix unless NATS_INBOX_PREFIX says otherwise.
func TestExternalNATSWithNkey(t *testing.T) {
	clearConnectEnv(t)
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "processor.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	s := natstest.RunServerWithOptions(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: pub}}})

	t.Setenv("NATS_URL", s.ClientURL())
	if _, _, err := connectNATS(t.TempDir()); err == nil {
		t.Fatal("connected without the seed")
	}
	t.Setenv("NATS_NKEY", seedFile)
	nc, closeNATS, err := connectNATS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer closeNATS()
	if nc.Opts.InboxPrefix != processorInboxPrefix {
		t.Errorf("inbox prefix %q, want %q", nc.Opts.InboxPrefix, processorInboxPrefix)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	t.Setenv("NATS_URL", "")
	if _, _, err := connectNATS(t.TempDir()); err == nil || !strings.Contains(err.Error(), "without NATS_URL") {
		t.Errorf("NATS_NKEY without NATS_URL: %v, want a refusal", err)
	}
}
