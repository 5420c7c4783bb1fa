// Package report measures a load-simulator run and writes its report.
//
// A Recorder is fed by the simulator while it runs (commands sent,
// first events received with their latency, rejections, billing events,
// ledger mismatches, deliberate pauses). Every method takes the time of
// the observation explicitly instead of reading the clock, so a run can
// be replayed in a test without sleeping, and the numbers are those of
// the moment the simulator saw, not of the moment the lock was taken.
//
// Summary freezes the numbers; a Summary writes itself as a terminal
// report (WriteText), as one self-contained HTML page with three SVG
// plots (WriteHTML) and as JSON for scripts that compare runs
// (WriteJSON, ReadJSON).
//
// Latencies go into HdrHistograms (1µs..120s, 3 significant figures,
// recorded in microseconds): fixed memory however long the run, and a
// bounded relative error of 0.1% on every percentile.
package report
