package handlers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
	"github.com/cspreseller/csp-processor/state/redisserver"
)

type readyzAnswer struct {
	Ready  bool    `json:"ready"`
	Checks []check `json:"checks"`
}

func getReadyz(t *testing.T, h http.Handler) (int, map[string]check) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	var a readyzAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("/readyz answered %q: %v", rec.Body.String(), err)
	}
	byName := map[string]check{}
	for _, c := range a.Checks {
		byName[c.Name] = c
	}
	if a.Ready != (rec.Code == http.StatusOK) {
		t.Fatalf("/readyz: HTTP %d but ready=%v", rec.Code, a.Ready)
	}
	return rec.Code, byName
}

// wantDown requires /readyz to answer 503 with exactly the checks of down
// failing, each with its error, and every other check passing.
func wantDown(t *testing.T, h http.Handler, down ...string) {
	t.Helper()
	code, checks := getReadyz(t, h)
	failing := map[string]bool{}
	for _, d := range down {
		failing[d] = true
	}
	want := http.StatusOK
	if len(down) > 0 {
		want = http.StatusServiceUnavailable
	}
	if code != want {
		t.Errorf("/readyz: HTTP %d, want %d (%v)", code, want, checks)
	}
	for _, name := range []string{"nats", "jetstream", "redis", "router"} {
		c, ok := checks[name]
		switch {
		case !ok:
			t.Errorf("/readyz has no %q check: %v", name, checks)
		case failing[name] && (c.OK || c.Error == ""):
			t.Errorf("/readyz check %q passes while it is down: %+v", name, c)
		case !failing[name] && !c.OK:
			t.Errorf("/readyz check %q fails: %+v", name, c)
		}
	}
}

// /readyz asks each dependency over real connections and names the one
// that is down: Redis killed, then the router closed, then the NATS
// server shut down. /livez answers 200 throughout: restarting the
// processor would bring none of them back.
func TestReadyzNamesTheDependencyThatIsDownAndLivezStaysUp(t *testing.T) {
	srv := natstest.RunServer(t)
	nc, js := natstest.Connect(t, srv)
	streams := testBus().Streams
	if err := bus.EnsureStreams(context.Background(), js, nc, streams); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rs, err := redisserver.Start(ctx, redisserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rs.Close() })
	opt, err := redis.ParseURL(rs.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { _ = rdb.Close() })
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	routed := make(chan error, 1)
	go func() { routed <- router.Run(context.Background()) }()
	<-router.Running()

	ready := readyzHandler(readiness{nc: nc, js: js, stream: streams.CommandStream, rdb: rdb, router: router})
	live := livezHandler()
	wantLive := func() {
		t.Helper()
		rec := httptest.NewRecorder()
		live.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/livez", nil))
		if rec.Code != http.StatusOK {
			t.Errorf("/livez: HTTP %d", rec.Code)
		}
	}

	wantDown(t, ready)
	wantLive()

	if err := rs.Kill(); err != nil {
		t.Fatal(err)
	}
	wantDown(t, ready, "redis")
	wantLive()

	if err := router.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-routed; err != nil {
		t.Fatal(err)
	}
	wantDown(t, ready, "redis", "router")

	disconnected := nc.StatusChanged(nats.RECONNECTING, nats.DISCONNECTED, nats.CLOSED)
	srv.Shutdown()
	select {
	case <-disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not notice the server's shutdown within 10 s")
	}
	wantDown(t, ready, "nats", "jetstream", "redis", "router")
	wantLive()
}
