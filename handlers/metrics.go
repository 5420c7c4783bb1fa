package handlers

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The processor's metrics. This file is the only one that knows
// Prometheus: the counters live in plain types (Stats), read once per
// scrape, so the domain code has no metrics dependency. The README's
// "Metrics" section lists every series.
var (
	descCommands = prometheus.NewDesc("csp_commands_total",
		"Commands handled: calls to apply a decision to a customer.", nil, nil)
	descStateLoads = prometheus.NewDesc("csp_state_loads_total",
		"Customer states loaded from Redis because the state cache did not hold them (conflict reloads included).", nil, nil)
	descCacheHits = prometheus.NewDesc("csp_state_cache_hits_total",
		"Decisions made on the state cache without a load from Redis.", nil, nil)
	descCommits = prometheus.NewDesc("csp_commits_total",
		"Commands' commits by outcome; duplicate includes commands the load found applied before; version_conflict counts the commits retried because the customer changed under the decision.", []string{"status"}, nil)
	descTimersFired = prometheus.NewDesc("csp_timers_fired_total",
		"timer.fired commands this replica's scheduler stored in the command stream.", nil, nil)
	descTimerCommandsApplied = prometheus.NewDesc("csp_timer_commands_applied_total",
		"timer.fired commands applied for the first time (committed).", nil, nil)

	descOutcomes = prometheus.NewDesc("csp_command_outcomes_total",
		"Commands the handler finished, by command type and outcome (accepted, rejected, deferred, duplicate, dead_lettered, ignored).", []string{"type", "outcome"}, nil)
	descRejections = prometheus.NewDesc("csp_command_rejections_total",
		"Commands rejected (command.rejected committed), by rejection code and deciding rule.", []string{"code", "rule"}, nil)
	descDeadLetters = prometheus.NewDesc("csp_dead_letters_total",
		"Commands dead-lettered, by dead-letter code.", []string{"code"}, nil)
	descBillingEvents = prometheus.NewDesc("csp_billing_events_total",
		"billing.charge and billing.credit events committed, by kind and currency.", []string{"kind", "currency"}, nil)
	descBillingAmount = prometheus.NewDesc("csp_billing_amount_minor_total",
		"Sum of the committed billing events' amounts, in the currency's minor units, by kind and currency.", []string{"kind", "currency"}, nil)
	descOutboxEntries = prometheus.NewDesc("csp_outbox_backlog_entries",
		"Outbox entries the outbox relay's last complete sweep left (of the customers this replica relays).", nil, nil)
	descOutboxOldest = prometheus.NewDesc("csp_outbox_oldest_entry_age_seconds",
		"Age now of the oldest entry the relay's last complete sweep left; 0 when it left none.", nil, nil)
	descOutboxSwept = prometheus.NewDesc("csp_outbox_last_sweep_timestamp_seconds",
		"When the outbox relay's last complete sweep ended (Unix time); absent before the first.", nil, nil)
	descTimerLag = prometheus.NewDesc("csp_timer_lag_seconds",
		"The processor's clock (simulated or wall) minus the due time of the oldest due, unfired timer; 0 when none is due. Absent when Redis did not answer.", nil, nil)
	descPartitionUnacked = prometheus.NewDesc("csp_partition_oldest_unacked_age_seconds",
		"Age (since the broker stored it) of the partition's oldest command handed to the handler and not acked; 0 when none.", []string{"partition"}, nil)
	descPartitionRedeliveries = prometheus.NewDesc("csp_partition_redeliveries_total",
		"Commands of the partition handed to the handler again: retries after a failure and the server's redeliveries.", []string{"partition"}, nil)
)

// metricSources is what a scrape reads: the counters (no I/O) and the
// timer lag (one Redis round trip, bounded by readinessTimeout).
type metricSources struct {
	stats    func() Stats
	timerLag func(ctx context.Context) (time.Duration, error)
	now      func() time.Time
}

// statsCollector reports a Stats snapshot taken at each scrape, so the
// series of one scrape come from one reading.
type statsCollector struct{ src metricSources }

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommands, descStateLoads, descCacheHits, descCommits, descTimersFired, descTimerCommandsApplied,
		descOutcomes, descRejections, descDeadLetters, descBillingEvents, descBillingAmount, descOutboxEntries, descOutboxOldest,
		descOutboxSwept, descTimerLag, descPartitionUnacked, descPartitionRedeliveries} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.stats()
	now := c.src.now()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	age := func(since time.Time) float64 {
		if since.IsZero() {
			return 0
		}
		return max(now.Sub(since).Seconds(), 0)
	}
	cs := s.Customers
	counter(descCommands, cs.Applies)
	counter(descStateLoads, cs.Loads)
	counter(descCacheHits, cs.CacheHits)
	counter(descCommits, cs.Committed, "committed")
	counter(descCommits, cs.Duplicate, "duplicate")
	counter(descCommits, cs.VersionConflict, "version_conflict")
	counter(descCommits, cs.Fenced, "fenced")
	counter(descTimersFired, s.TimersFired)
	counter(descTimerCommandsApplied, s.TimerCommandsApplied)

	cmd := s.Commands
	for k, v := range cmd.Outcomes {
		counter(descOutcomes, v, k.Type, k.Outcome)
	}
	for k, v := range cmd.Rejections {
		counter(descRejections, v, k.Code, k.Rule)
	}
	for code, v := range cmd.DeadLetters {
		counter(descDeadLetters, v, code)
	}
	for k, t := range cmd.Billing {
		counter(descBillingEvents, t.Count, k.Kind, k.Currency)
		counter(descBillingAmount, t.AmountMinor, k.Kind, k.Currency)
	}
	for p, ps := range cmd.Partitions {
		label := strconv.Itoa(p)
		counter(descPartitionRedeliveries, ps.Redeliveries, label)
		gauge(descPartitionUnacked, age(ps.OldestUnacked), label)
	}

	gauge(descOutboxEntries, float64(s.Outbox.Entries))
	gauge(descOutboxOldest, age(s.Outbox.Oldest))
	if !s.Outbox.SweptAt.IsZero() {
		gauge(descOutboxSwept, float64(s.Outbox.SweptAt.UnixNano())/1e9)
	}
	if c.src.timerLag != nil {
		ctx, cancel := context.WithTimeout(context.Background(), readinessTimeout)
		defer cancel()
		if lag, err := c.src.timerLag(ctx); err == nil {
			gauge(descTimerLag, lag.Seconds())
		}
	}
}

// metricsRegistry is the processor's registry: a registry of its own, as
// the global one would mix in whatever else in the process registers
// there, and two processors in one test process would collide on it. It
// holds the processor's collector and Watermill's handler middleware
// (handler execution time by outcome), added to router before it runs.
// Not Watermill's subscriber and publisher decorators
// (AddPrometheusRouterMetrics): the subscriber's starts a goroutine per
// message to wait for its ack, on the hot path, and counts what the
// processor's own command counters already count.
func metricsRegistry(src metricSources, router *message.Router) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(statsCollector{src: src})
	router.AddMiddleware(metrics.NewPrometheusMetricsBuilder(reg, "csp", "watermill").NewRouterMiddleware().Middleware)
	return reg
}

// metricsHandler serves reg in the Prometheus text format.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
