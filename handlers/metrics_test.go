package handlers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/simulator/cluster"
)

// scrape reads a processor's /metrics, parsed as Prometheus text, as
// "name" or "name{label=value}" -> value (a counter's or gauge's value, a
// histogram's sample count).
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			default:
				out[key] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

// With OpsAddr set the processor serves its counters on /metrics: the
// commands it handled, their loads from Redis and cache hits, their
// commits, and the timers its scheduler fired and its handler applied.
func TestOpsServerServesTheProcessorsCounters(t *testing.T) {
	e := newEnv(t)
	p, _ := e.runProcessor(func(c *Config) { c.Clock = SimulatedClock; c.OpsAddr = "127.0.0.1:0" })
	clock := &simulator.Clock{NC: e.nc}
	now := time.Date(2026, 1, 31, 10, 0, 0, 0, time.UTC)
	e.up.SimulatedTime = func() time.Time { return now }
	e.advance(clock, now)

	const cust = "C-METRICS"
	e.createCustomer(partnerA, cust)
	qty := 2
	e.await(e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-M", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}}))

	// The running processor is live and ready on the same address.
	for _, path := range []string{"/livez", "/readyz"} {
		resp, err := http.Get("http://" + p.OpsAddr() + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: HTTP %d, want 200", path, resp.StatusCode)
		}
	}

	m := scrape(t, p.OpsAddr())
	// Two commands of one customer: the first loaded from Redis, the
	// second decided on what the first committed.
	if m["csp_commands_total"] < 2 || m["csp_state_loads_total"] < 1 || m["csp_state_cache_hits_total"] < 1 {
		t.Fatalf("after two commands of one customer: %v", m)
	}
	if m["csp_commits_total{status=committed}"] < 2 {
		t.Fatalf("committed = %v, want >= 2: %v", m["csp_commits_total{status=committed}"], m)
	}
	for _, status := range []string{"duplicate", "version_conflict", "fenced"} {
		if v, ok := m["csp_commits_total{status="+status+"}"]; !ok || v != 0 {
			t.Fatalf("commits %s = %v (present %v), want a 0 series: %v", status, v, ok, m)
		}
	}

	// A month on, the monthly charge's timer fires; the clock answers once
	// every timer it fired is applied.
	now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fired := e.advance(clock, now)
	if fired == 0 {
		t.Fatal("no timer fired a month after a monthly purchase")
	}
	m = scrape(t, p.OpsAddr())
	if got := m["csp_timers_fired_total"]; got != float64(fired) {
		t.Fatalf("csp_timers_fired_total = %v, the clock reported %d fired", got, fired)
	}
	// One replica fires each timer once, and each is applied once.
	if got := m["csp_timer_commands_applied_total"]; got != float64(fired) {
		t.Fatalf("csp_timer_commands_applied_total = %v, want %d", got, fired)
	}
	// The cluster rig's reader reads the same counters the processor holds.
	read, err := cluster.ReadCounters(context.Background(), p.OpsAddr())
	if err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	want := cluster.Counters{Commands: st.Customers.Applies, StateLoads: st.Customers.Loads, CacheHits: st.Customers.CacheHits,
		Committed: st.Customers.Committed, Duplicate: st.Customers.Duplicate, VersionConflict: st.Customers.VersionConflict,
		Fenced: st.Customers.Fenced, TimersFired: st.TimersFired, TimerCommandsApplied: st.TimerCommandsApplied}
	if read != want {
		t.Fatalf("cluster.ReadCounters = %+v\nStats()              = %+v", read, want)
	}
	if resp, err := http.Get("http://" + p.OpsAddr() + "/"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET / on the ops server: %v %v; it serves /metrics only", resp, err)
	}
}

// A taken OpsAddr fails the processor's start with the address in the
// error, instead of a processor running without its metrics.
func TestOpsServerOnATakenAddressFailsTheStart(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	p, err := NewProcessor(context.Background(), Config{NATS: e.nc, Redis: e.rdb, Catalog: e.cat, Bus: e.bus, OpsAddr: addr})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-p.Running():
		t.Fatalf("the processor runs although its ops address %s is taken", addr)
	case err = <-done:
	case <-ctx.Done():
		t.Fatal("Run neither failed nor started within 30s")
	}
	if err == nil || !strings.Contains(err.Error(), addr) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v, want a bind error naming %s", err, addr)
	}
}
