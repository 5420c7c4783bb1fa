package redistest

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { Main(m) }

func TestClientStartsFromEmptyServer(t *testing.T) {
	ctx := context.Background()
	first := Client(t)
	if err := first.Set(ctx, "left-over", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	second := Client(t)
	n, err := second.DBSize(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("DBSIZE after Client = %d, want 0", n)
	}
}

func TestURLNamesTheServerClientUses(t *testing.T) {
	rdb := Client(t)
	opt, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("URL() = %q: %v", URL(), err)
	}
	if opt.Addr != rdb.Options().Addr {
		t.Errorf("URL() names %q, Client connects to %q", opt.Addr, rdb.Options().Addr)
	}
}
