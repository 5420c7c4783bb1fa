package state

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redisserver"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// The processor acks a command once Redis answered its commit, so it runs
// only on a Redis that cannot lose that answer: AOF on, synced before every
// reply. The tests' own server is configured so and passes.
func TestCheckDurable_AcceptsAOFWithAppendfsyncAlways(t *testing.T) {
	if err := CheckDurable(context.Background(), redistest.Client(t)); err != nil {
		t.Fatalf("the durable test server was refused: %v", err)
	}
}

// A server without AOF, then one with appendfsync everysec, is refused with
// the setting named and the fix; one that forbids CONFIG is refused saying so.
func TestCheckDurable_RefusesAVolatileRedisNamingTheSetting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	srv, err := redisserver.Start(ctx, redisserver.Options{}) // appendonly no
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	opt, _ := redis.ParseURL(srv.URL())
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })

	refused := func(want ...string) {
		t.Helper()
		err := CheckDurable(ctx, rdb)
		if err == nil {
			t.Fatalf("accepted, want an error naming %q", want)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not name %q", err, w)
			}
		}
	}
	refused("appendonly no", "appendfsync always", EnvAllowVolatile+"=1")

	// AOF on, synced once a second. (A second server rather than CONFIG SET
	// appendonly yes: turning the AOF on at run time starts a rewrite that
	// holds up the server's shutdown.)
	aof, err := redisserver.Start(ctx, redisserver.Options{Appendonly: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = aof.Close() })
	opt, _ = redis.ParseURL(aof.URL())
	rdb = redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.ConfigSet(ctx, "appendfsync", "everysec").Err(); err != nil {
		t.Fatal(err)
	}
	refused("appendfsync everysec", "appendfsync always", EnvAllowVolatile+"=1")

	if err := rdb.ConfigSet(ctx, "appendfsync", "always").Err(); err != nil {
		t.Fatal(err)
	}
	if err := CheckDurable(ctx, rdb); err != nil {
		t.Fatalf("refused after appendfsync always: %v", err)
	}

	// A user that may not run CONFIG: the check says it cannot read the
	// settings rather than guessing.
	if err := rdb.Do(ctx, "ACL", "SETUSER", "noconfig", "on", ">pw", "~*", "+@all", "-config").Err(); err != nil {
		t.Fatal(err)
	}
	limited := redis.NewClient(&redis.Options{Addr: aof.Addr(), Username: "noconfig", Password: "pw"})
	t.Cleanup(func() { _ = limited.Close() })
	err = CheckDurable(ctx, limited)
	if err == nil || !strings.Contains(err.Error(), "cannot read its persistence settings") || !strings.Contains(err.Error(), "CONFIG GET") {
		t.Fatalf("without CONFIG permission: %v", err)
	}
}
