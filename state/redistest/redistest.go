// Package redistest gives a test package its own real Redis.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
// and call Client(t) in each test. Main starts one private redis-server per
// test binary, and `go test ./...` runs one binary per package, so packages
// never share a server and may run in parallel. Within a package, Client
// flushes the whole server, so tests that use it must not call t.Parallel.
//
// StartCluster, ClusterClient and SharedClusterClient do the same for a
// Redis Cluster (cluster.go); they always start their own redis-servers,
// REDIS_TEST_URL or not.
//
// Setting REDIS_TEST_URL points every package at that server instead, and
// nothing is started. Client runs FLUSHALL, which empties every database of
// that server whatever DB the URL names: never point it at data you need.
// Packages then share the server and flush each other's data, so run them
// one at a time (`go test -p 1 ./...`).
package redistest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redisserver"
)

// serverURL is set by Main before any test runs and read-only afterwards.
var serverURL string

// Main runs the package's tests against a private redis-server (or the one
// named by REDIS_TEST_URL) and exits with their code. Without redis-server in
// PATH and without REDIS_TEST_URL it prints how to install Redis and exits 1:
// a test run that silently skipped the store would prove nothing.
func Main(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	defer closeShared()
	if u := os.Getenv("REDIS_TEST_URL"); u != "" {
		serverURL = u
		return m.Run()
	}
	// The server is as durable as the processor demands (AOF, appendfsync
	// always), so the processor's check passes in tests as in production.
	// Its data lives in memory (/dev/shm) where there is one: fsync there
	// costs nothing, which keeps the tests as fast as without the AOF.
	dir, err := os.MkdirTemp(shmDir(), "redistest-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "redistest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	srv, err := redisserver.Start(ctx, redisserver.Options{Dir: dir, Appendonly: true})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "redistest: %v\n(or set REDIS_TEST_URL=redis://HOST:PORT/DB to test against a running server)\n", err)
		return 1
	}
	// Deferred so the server is stopped even when a test panics the binary
	// out of m.Run; a killed binary is covered by redisserver's parent-death
	// signal.
	defer func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "redistest: %v\n", err)
		}
	}()
	serverURL = srv.URL()
	return m.Run()
}

// URL returns the URL of the package's test server, for example to hand to a
// child process.
func URL() string {
	if serverURL == "" {
		panic("redistest: URL called without redistest.Main in TestMain")
	}
	return serverURL
}

// Client flushes the test server (FLUSHALL) and returns a client to it that
// is closed when the test ends. Every test therefore starts from an empty
// Redis; see the package comment for why such tests must not run in parallel.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	if serverURL == "" {
		t.Fatal("redistest: Client called without redistest.Main in TestMain")
	}
	opt, err := redis.ParseURL(serverURL)
	if err != nil {
		t.Fatalf("redistest: parse %q: %v", serverURL, err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatalf("redistest: FLUSHALL on %s: %v", serverURL, err)
	}
	return rdb
}

// shmDir is /dev/shm when it is a writable directory, else "" (the default
// temporary directory).
func shmDir() string {
	f, err := os.CreateTemp("/dev/shm", "redistest-probe-")
	if err != nil {
		return ""
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return "/dev/shm"
}
