package state

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
)

// EnvAllowVolatile names the environment variable that lets the processor run
// on a Redis that can lose an acknowledged write. Only for throwaway runs.
const EnvAllowVolatile = "REDIS_ALLOW_VOLATILE"

// CheckDurable returns an error unless every Redis server behind rdb keeps an
// acknowledged write across a crash of the server or the machine: the
// processor acks a command to JetStream once its commit script returned, so a
// write that Redis loses afterwards is a command lost for good. That needs
// the append-only file (`appendonly yes`) synced before every reply
// (`appendfsync always`); RDB snapshots and `appendfsync everysec` lose up to
// the last snapshot or second.
//
// Decision: a server that refuses CONFIG GET (managed services often rename
// or forbid it) is refused too, with a message that says so; whoever
// verified its persistence by other means sets REDIS_ALLOW_VOLATILE=1.
// On a cluster every master is checked.
func CheckDurable(ctx context.Context, rdb redis.UniversalClient) error {
	return forEachMaster(ctx, rdb, checkDurable)
}

// forEachMaster runs check on every master of a cluster client, or on the
// one server of any other client, with the address to name in errors.
func forEachMaster(ctx context.Context, rdb redis.UniversalClient, check func(context.Context, redis.Cmdable, string) error) error {
	if c, ok := rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			return check(ctx, n, n.Options().Addr)
		})
	}
	addr := ""
	if c, ok := rdb.(*redis.Client); ok {
		addr = c.Options().Addr
	}
	return check(ctx, rdb, addr)
}

func checkDurable(ctx context.Context, rdb redis.Cmdable, addr string) error {
	const fix = " (set it in redis.conf, or at run time with CONFIG SET and CONFIG REWRITE; " +
		EnvAllowVolatile + "=1 runs anyway, only for throwaway data)"
	get := func(name string) (string, error) {
		m, err := rdb.ConfigGet(ctx, name).Result()
		if err != nil {
			return "", fmt.Errorf("redis %s: cannot read its persistence settings (CONFIG GET %s: %w): "+
				"the processor needs appendonly yes and appendfsync always; permit CONFIG GET to this user, or verify "+
				"the settings by other means and set %s=1", addr, name, err, EnvAllowVolatile)
		}
		v, ok := m[name]
		if !ok {
			return "", fmt.Errorf("redis %s: CONFIG GET %s returned no value: the processor needs appendonly yes and "+
				"appendfsync always; verify them by other means and set %s=1", addr, name, EnvAllowVolatile)
		}
		return strings.ToLower(v), nil
	}
	aof, err := get("appendonly")
	if err != nil {
		return err
	}
	if aof != "yes" {
		return fmt.Errorf("redis %s has appendonly %s: an acknowledged write is lost if the server stops; "+
			"set appendonly yes and appendfsync always%s", addr, aof, fix)
	}
	fsync, err := get("appendfsync")
	if err != nil {
		return err
	}
	if fsync != "always" {
		return fmt.Errorf("redis %s has appendfsync %s: up to the last second of acknowledged writes is lost "+
			"if the machine stops; set appendfsync always%s", addr, fsync, fix)
	}
	return nil
}

// AllowVolatile reports whether REDIS_ALLOW_VOLATILE=1 is set.
func AllowVolatile() bool { return os.Getenv(EnvAllowVolatile) == "1" }
