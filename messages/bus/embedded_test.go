package bus

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The embedded server fsyncs every JetStream write before acknowledging it,
// as the shipped nats-server configs do (sync_interval: always): a command
// or event it acked survives an OS crash. NoSync is the explicit opt-out.
func TestEmbeddedServerSyncsBeforeAcknowledging(t *testing.T) {
	for _, c := range []struct {
		opt  EmbeddedOptions
		want bool
	}{
		{EmbeddedOptions{StoreDir: t.TempDir()}, true},
		{EmbeddedOptions{StoreDir: t.TempDir(), NoSync: true}, false},
	} {
		s, err := StartEmbedded(c.opt)
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.JetStreamConfig()
		s.Shutdown()
		s.WaitForShutdown()
		if cfg == nil || cfg.SyncAlways != c.want {
			t.Fatalf("NoSync %v: JetStream config %+v, want SyncAlways %v", c.opt.NoSync, cfg, c.want)
		}
	}
}

// A taken port is reported at once with the bind error itself, not after
// waiting out the server's start (it logs the failed bind and never
// becomes ready).
func TestEmbeddedServerOnATakenPortSaysItIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	s, err := StartEmbedded(EmbeddedOptions{StoreDir: t.TempDir(), Port: port})
	if err == nil {
		s.Shutdown()
		t.Fatalf("started on port %d, which is taken", port)
	}
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), strconv.Itoa(port)) {
		t.Fatalf("error %q is not the bind error naming port %d", err, port)
	}
}
