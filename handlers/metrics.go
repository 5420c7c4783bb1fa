package handlers

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The processor's metrics. This file is the only one that knows
// Prometheus: the counters live in plain types (Stats), read once per
// scrape, so the domain code has no metrics dependency.
var (
	descCommands = prometheus.NewDesc("csp_commands_total",
		"Commands handled: calls to apply a decision to a customer.", nil, nil)
	descStateLoads = prometheus.NewDesc("csp_state_loads_total",
		"Customer states loaded from Redis because the state cache did not hold them (conflict reloads included).", nil, nil)
	descCacheHits = prometheus.NewDesc("csp_state_cache_hits_total",
		"Decisions made on the state cache without a load from Redis.", nil, nil)
	descCommits = prometheus.NewDesc("csp_commits_total",
		"Commands' commits by outcome; duplicate includes commands the load found applied before.", []string{"status"}, nil)
	descTimersFired = prometheus.NewDesc("csp_timers_fired_total",
		"timer.fired commands this replica's scheduler stored in the command stream.", nil, nil)
	descTimerCommandsApplied = prometheus.NewDesc("csp_timer_commands_applied_total",
		"timer.fired commands applied for the first time (committed).", nil, nil)
)

// statsCollector reports a Stats snapshot taken at each scrape, so the
// series of one scrape come from one reading.
type statsCollector struct{ stats func() Stats }

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommands, descStateLoads, descCacheHits, descCommits, descTimersFired, descTimerCommandsApplied} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
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
}

// metricsHandler serves stats in the Prometheus text format from a
// registry of its own: the global one would mix in whatever else in the
// process registers there, and two processors in one test process would
// collide on it.
func metricsHandler(stats func() Stats) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(statsCollector{stats: stats})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}
