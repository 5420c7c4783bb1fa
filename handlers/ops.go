package handlers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// opsServer is the processor's operations endpoint (Config.OpsAddr):
// /metrics, /livez and /readyz, on a mux of its own so that nothing else
// is served there. It is a component: it starts and stops with the
// processor.
type opsServer struct {
	addr    string
	handler http.Handler

	srv    *http.Server
	served chan error
	bound  net.Addr
}

func newOpsServer(addr string, reg *prometheus.Registry, ready readiness) *opsServer {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metricsHandler(reg))
	mux.Handle("GET /livez", livezHandler())
	mux.Handle("GET /readyz", readyzHandler(ready))
	return &opsServer{addr: addr, handler: mux}
}

// Start listens before it returns, so a taken address fails the
// processor's start rather than turning up in a log line later.
func (o *opsServer) Start() error {
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("ops server: %w", err) // names the address
	}
	o.bound = ln.Addr()
	o.srv = &http.Server{Handler: o.handler, ReadHeaderTimeout: 10 * time.Second}
	o.served = make(chan error, 1)
	go func() { o.served <- o.srv.Serve(ln) }()
	return nil
}

// Shutdown stops accepting scrapes and waits for those in progress.
func (o *opsServer) Shutdown(ctx context.Context) error {
	if o.srv == nil {
		return nil
	}
	err := o.srv.Shutdown(ctx)
	if served := <-o.served; !errors.Is(served, http.ErrServerClosed) {
		err = errors.Join(err, served)
	}
	return err
}

// listenAddr is the address the server listens on: OpsAddr, with the
// port the system chose when OpsAddr asked for port 0.
func (o *opsServer) listenAddr() string {
	if o == nil || o.bound == nil {
		return ""
	}
	return o.bound.String()
}
