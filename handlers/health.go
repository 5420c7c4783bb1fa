package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// readinessTimeout bounds each readiness check: an orchestrator's probe
// must get an answer, and a dependency that does not answer within it is
// not ready.
const readinessTimeout = 2 * time.Second

// readiness answers /readyz: whether this processor can do its work now.
// Each check asks the dependency itself over the processor's own
// connections: NATS connected, JetStream answering for the command stream,
// Redis answering a PING, the router running. A replica holding no
// partition is ready (it is waiting for a share, not broken).
type readiness struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream string
	rdb    redis.UniversalClient
	router *message.Router
}

// check is one line of the /readyz answer.
type check struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// checks runs every check at once, each within readinessTimeout, so a
// probe is answered within that time whatever is down.
func (r readiness) checks(ctx context.Context) []check {
	probes := []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"nats", func(context.Context) error {
			if st := r.nc.Status(); st != nats.CONNECTED {
				return fmt.Errorf("connection is %v", st)
			}
			return nil
		}},
		{"jetstream", func(ctx context.Context) error {
			_, err := r.js.Stream(ctx, r.stream)
			return err
		}},
		{"redis", func(ctx context.Context) error {
			return r.rdb.Ping(ctx).Err()
		}},
		{"router", func(context.Context) error {
			if !r.router.IsRunning() || r.router.IsClosed() {
				return errors.New("not running")
			}
			return nil
		}},
	}
	out := make([]check, len(probes))
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, readinessTimeout)
			defer cancel()
			out[i] = check{Name: p.name, OK: true}
			if err := p.f(ctx); err != nil {
				out[i] = check{Name: p.name, Error: err.Error()}
			}
		})
	}
	wg.Wait()
	return out
}

// readyzHandler answers 200 with every check when all pass, else 503: an
// orchestrator routes nothing to, or holds a rollout for, a replica that
// is not ready.
func readyzHandler(r readiness) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		checks := r.checks(req.Context())
		status := http.StatusOK
		for _, c := range checks {
			if !c.OK {
				status = http.StatusServiceUnavailable
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(struct {
			Ready  bool    `json:"ready"`
			Checks []check `json:"checks"`
		}{status == http.StatusOK, checks})
	})
}

// livezHandler answers 200 while the process serves HTTP: a liveness
// probe must not fail because a dependency is down (restarting the
// processor would not bring NATS or Redis back).
func livezHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
}
