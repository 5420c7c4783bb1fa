package redisserver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartCloseLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	s, err := Start(ctx, Options{})
	// The server must outlive the context it was started with.
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", s.Addr())
	}
	if want := "redis://" + s.Addr() + "/0"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	if err := ping(context.Background(), s.Addr()); err != nil {
		t.Fatalf("PING after Start with cancelled ctx: %v", err)
	}
	dir := s.tempDir
	if dir == "" {
		t.Fatal("Start with Dir \"\" did not record a temp dir")
	}

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-s.exited:
	default:
		t.Fatal("Close returned before the process exited")
	}
	if err := ping(context.Background(), s.Addr()); err == nil {
		t.Error("PING still answered after Close")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir %s still there after Close (stat err %v)", dir, err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAppendonlyDataSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Dir: dir, Appendonly: true, LogFile: filepath.Join(dir, "redis.log")}

	s1, err := Start(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s1.Close() })
	if reply, err := roundTrip(context.Background(), s1.Addr(), "SET", "k", "v1"); err != nil || reply != "+OK" {
		t.Fatalf("SET: %q %v", reply, err)
	}
	// SHUTDOWN NOSAVE skips the RDB snapshot but still flushes the AOF.
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("caller-owned Dir was removed: %v", err)
	}
	if confs, _ := filepath.Glob(filepath.Join(dir, "*.conf")); len(confs) > 0 {
		t.Errorf("config files left in the caller's Dir: %q", confs)
	}

	s2, err := Start(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	if reply, err := roundTrip(context.Background(), s2.Addr(), "EXISTS", "k"); err != nil || reply != ":1" {
		t.Fatalf("EXISTS k after restart = %q %v, want :1", reply, err)
	}
	if log, err := os.ReadFile(opt.LogFile); err != nil || len(log) == 0 {
		t.Errorf("LogFile not written: %v", err)
	}
}

func TestFixedPortInUseFailsWithServerOutput(t *testing.T) {
	s1, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s1.Close() })

	_, err = Start(context.Background(), Options{Port: s1.port})
	if err == nil {
		t.Fatal("second server on the same port started")
	}
	if !strings.Contains(err.Error(), "redis-server output") {
		t.Errorf("error does not carry the server's output: %v", err)
	}
}

func TestStartWithoutBinaryExplainsInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Start(context.Background(), Options{})
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("err = %v, want wrapping ErrNotInstalled", err)
	}
	for _, want := range []string{"apt-get install -y redis-server", "brew install redis", "REDIS_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// The private server (the processor's without REDIS_URL, the simulator's and
// the tests') syncs its AOF before every reply: an acknowledged write
// survives the machine stopping.
func TestAppendonlyServerSyncsEveryWrite(t *testing.T) {
	if c := config("/d", 1, Options{Appendonly: true}); !strings.Contains(c, "appendonly yes\nappendfsync always\n") {
		t.Fatalf("config:\n%s", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Appendonly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer rdb.Close()
	for name, want := range map[string]string{"appendonly": "yes", "appendfsync": "always"} {
		got, err := rdb.ConfigGet(ctx, name).Result()
		if err != nil || got[name] != want {
			t.Fatalf("CONFIG GET %s = %q (%v), want %q", name, got, err, want)
		}
	}
}
