// Package report measures a load-simulator run and writes its report.
//
// A Recorder is fed by the simulator while it runs (commands sent, first
// events received with their command type and latency, each command's
// timeline stage by stage, rejections, billing events with their
// simulated day, ledger mismatches, deliberate pauses, the sampled
// processes' CPU and memory). Every method takes the time of the
// observation explicitly instead of reading the clock, so a run can be
// replayed in a test without sleeping, and the numbers are those of the
// moment the simulator saw, not of the moment the lock was taken.
//
// Summary freezes the numbers; a Summary writes itself as a terminal
// report (WriteText), as one self-contained HTML page with inline SVG
// plots (WriteHTML) and as JSON for scripts and for comparing runs
// (WriteJSON, ReadJSON). Compare sets a Summary against an earlier run's
// (baseline.go); the comparison is a report, and Regressions says what
// got worse beyond a threshold for whoever wants a gate.
//
// The numbers table and the other tables (by command type, by stage,
// resources, the baseline) are built once as rows and cells, and both the
// text and the HTML are written from them, so they cannot disagree.
//
// Latencies go into HdrHistograms (1µs..120s, 3 significant figures,
// recorded in microseconds): fixed memory however long the run, and a
// bounded relative error of 0.1% on every percentile. One histogram per
// command type and per stage keeps that bound per type and stage. Money
// is integer minor units throughout.
package report
