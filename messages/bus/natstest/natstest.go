// Package natstest runs a real, embedded nats-server with JetStream for
// tests: one server per test, syncing every write as in production, its
// store in memory (/dev/shm, where fsync costs nothing) or else in
// t.TempDir(), shut down in t.Cleanup. No fakes.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// RunServer starts an embedded JetStream server on 127.0.0.1 and a random
// port, stores in /dev/shm (else t.TempDir()), and shuts it down when the
// test ends.
func RunServer(t testing.TB) *server.Server {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "natstest-")
	if err != nil {
		dir = t.TempDir()
	} else {
		// Registered first, so it runs after the shutdown below.
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	s, err := bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		t.Fatalf("natstest: start embedded NATS server: %v", err)
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// RunServerWithOptions starts a nats-server from opts (users, TLS, nkeys,
// a processed configuration file...) on 127.0.0.1 and a random port, with
// no monitoring port and no logging, and shuts it down when the test ends.
// JetStream is whatever opts says; give it a StoreDir of the test's.
func RunServerWithOptions(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, true, true
	opts.HTTPHost, opts.HTTPPort = "", 0
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("natstest: server not ready after 10s")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// Connect opens a connection to s and a JetStream context on it (async
// publishes time out after 10 seconds), closed when the test ends. Close it
// earlier to simulate a dying process; closing twice is harmless.
func Connect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.Name(t.Name()), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatalf("natstest: connect to %s: %v", s.ClientURL(), err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}
