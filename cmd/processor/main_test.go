package main

import (
	"context"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/state/redisserver"
)

// build compiles this command once per test.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "processor")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runBin runs the processor with a clean environment plus env, and returns
// its combined output and exit error.
func runBin(t *testing.T, bin string, env ...string) (string, error) {
	t.Helper()
	c := exec.Command(bin)
	c.Env = append([]string{"HOME=" + t.TempDir(), "DATA_DIR=" + t.TempDir(), "NATS_PORT=-1"}, env...)
	out, err := c.CombinedOutput()
	return string(out), err
}

// A bad catalog stops the processor at start with a message naming the
// entry and the field (the catalog is data).
func TestBadCatalogStopsTheProcessorNamingEntryAndField(t *testing.T) {
	bin := build(t)
	cat := filepath.Join(t.TempDir(), "catalog.json")
	b, err := os.ReadFile("../../deployments/catalog/catalog.json")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"cancel_window_hours": 168`, `"cancel_window_hours": -1`, 1)
	if err := os.WriteFile(cat, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runBin(t, bin, "PATH="+os.Getenv("PATH"), "CATALOG_FILE="+cat)
	if err == nil {
		t.Fatalf("processor started with a bad catalog:\n%s", out)
	}
	if !strings.Contains(out, `offer "CFQ7TTC0LH18:0001"`) || !strings.Contains(out, "cancel_window_hours") {
		t.Fatalf("message does not name the entry and field:\n%s", out)
	}
}

// A bad partner registry (PARTNERS_FILE) stops the processor at start
// with a message naming the entry and the field (PTN-2..PTN-4).
func TestBadPartnersFileStopsTheProcessorNamingEntryAndField(t *testing.T) {
	bin := build(t)
	path := filepath.Join(t.TempDir(), "partners.json")
	b, err := os.ReadFile("../../deployments/partners/partners.json")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"provider_ids": ["P-1001"]`, `"provider_ids": ["P-9999"]`, 1)
	if bad == string(b) {
		t.Fatal("the mutation did not apply")
	}
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runBin(t, bin, "PATH="+os.Getenv("PATH"), "PARTNERS_FILE="+path)
	if err == nil {
		t.Fatalf("processor started with a bad partner registry:\n%s", out)
	}
	if !strings.Contains(out, "partner registry file "+path+" is invalid") ||
		!strings.Contains(out, `partner "R-2001" (Fabrikam IT Solutions GmbH): provider_ids[0]: "P-9999" is not a registered partner`) {
		t.Fatalf("message does not name the file, entry and field:\n%s", out)
	}
}

// Without REDIS_URL and without redis-server installed, the processor says
// exactly how to install it.
func TestMissingRedisServerSaysHowToInstallIt(t *testing.T) {
	bin := build(t)
	out, err := runBin(t, bin, "PATH="+t.TempDir())
	if err == nil {
		t.Fatalf("processor started without Redis:\n%s", out)
	}
	if !strings.Contains(out, "apt-get install -y redis-server") || !strings.Contains(out, "REDIS_URL") {
		t.Fatalf("no install instructions:\n%s", out)
	}
}

// PPROF_ADDR serves Go's profiles for an operator to profile under load,
// and nothing else on that port.
func TestPprofServesProfilesOnItsOwnAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if err := servePprof(addr); err != nil {
		t.Fatal(err)
	}
	get := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/debug/pprof/heap"); code != http.StatusOK {
		t.Fatalf("heap profile: HTTP %d", code)
	}
	if code := get("/"); code != http.StatusNotFound {
		t.Fatalf("/ answered HTTP %d; the pprof port serves nothing else", code)
	}
	// A taken address is an error at start, not a log line later.
	if err := servePprof(addr); err == nil || !strings.Contains(err.Error(), "PPROF_ADDR") {
		t.Fatalf("second servePprof on %s: %v, want a PPROF_ADDR error", addr, err)
	}
}

// Without GOMEMLIMIT the processor sets its own soft limit.
func TestMemoryLimitDefaultsUnlessGOMEMLIMITIsSet(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit()
	if got, want := debug.SetMemoryLimit(-1), int64(2*64+96)<<20; got != want {
		t.Fatalf("limit %d, want %d (twice the default state cache, plus 96 MiB)", got, want)
	}
	t.Setenv("STATE_CACHE_MB", "200")
	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit()
	if got, want := debug.SetMemoryLimit(-1), int64(2*200+96)<<20; got != want {
		t.Fatalf("with STATE_CACHE_MB=200: limit %d, want %d", got, want)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(math.MaxInt64)
	setMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("GOMEMLIMIT set, yet the processor changed the limit to %d", got)
	}
}

// On a Redis that can lose an acknowledged write (here: no AOF) the
// processor refuses to start, naming the setting, how to fix it and the
// setting that allows it for throwaway runs.
func TestVolatileRedisStopsTheProcessorNamingTheSetting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := redisserver.Start(ctx, redisserver.Options{}) // appendonly no
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	bin := build(t)
	out, err := runBin(t, bin, "REDIS_URL="+srv.URL())
	if err == nil {
		t.Fatalf("processor ran on a Redis without AOF:\n%s", out)
	}
	for _, want := range []string{"appendonly no", "appendfsync always", "REDIS_ALLOW_VOLATILE=1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output does not name %q:\n%s", want, out)
		}
	}
}

// Commits that wait for replicas on a master without them could never be
// made: the processor refuses to start and names the setting, and it
// refuses a wait longer than the client's read timeout.
func TestMissingRedisReplicasStopTheProcessor(t *testing.T) {
	srv := durableRedis(t)
	bin := build(t)
	for _, c := range []struct {
		env  []string
		want []string
	}{
		{[]string{"REDIS_WAIT_REPLICAS=1"}, []string{"has 0 connected replicas", "REDIS_WAIT_REPLICAS", "REDIS_ALLOW_VOLATILE=1"}},
		{[]string{"REDIS_WAIT_REPLICAS=1", "REDIS_WAIT_TIMEOUT=5s"}, []string{"REDIS_WAIT_TIMEOUT=5s", "read timeout"}},
		{[]string{"REDIS_WAIT_REPLICAS=-1"}, []string{"REDIS_WAIT_REPLICAS=-1 is negative"}},
	} {
		out, err := runBin(t, bin, append([]string{"REDIS_URL=" + srv.URL()}, c.env...)...)
		if err == nil {
			t.Fatalf("processor ran with %v:\n%s", c.env, out)
		}
		for _, want := range c.want {
			if !strings.Contains(out, want) {
				t.Fatalf("%v: output does not name %q:\n%s", c.env, want, out)
			}
		}
	}
}

// durableRedis starts a private redis-server with the durability the
// processor asks for by default (AOF), closed when the test ends.
func durableRedis(t *testing.T) *redisserver.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := redisserver.Start(ctx, redisserver.Options{Appendonly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}
