package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/simulator/report"
)

// parseOutputs parses args as the load command's output flags.
func parseOutputs(t *testing.T, args ...string) (outputFlags, error) {
	t.Helper()
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var of outputFlags
	of.register(fs, "sim-load")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return of, of.resolve(fs)
}

// The JSON is written by default, next to the HTML report and named after
// it; -json names another file, and -json "" none.
func TestJSONIsWrittenByDefaultNextToTheHTMLReport(t *testing.T) {
	for _, c := range []struct {
		args     []string
		html, js string
	}{
		{nil, "sim-load.html", "sim-load.json"},
		{[]string{"-report", "out/run-7.html"}, "out/run-7.html", "out/run-7.json"},
		{[]string{"-report", "out/run-7.json"}, "out/run-7.json", "out/run-7.json.json"},
		{[]string{"-report", "r.html", "-json", "x.json"}, "r.html", "x.json"},
		{[]string{"-report", "r.html", "-json", ""}, "r.html", ""},
		{[]string{"-report", ""}, "", "sim-load.json"},
	} {
		of, err := parseOutputs(t, c.args...)
		if err != nil || of.html != c.html || of.json != c.js {
			t.Errorf("%q: html %q json %q (%v), want %q and %q", c.args, of.html, of.json, err, c.html, c.js)
		}
	}
}

// A bad -baseline or -fail-on-regression stops the command before the run,
// saying what is wrong.
func TestBadBaselineFlagsAreRefusedBeforeTheRun(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "notes.txt")
	other := filepath.Join(dir, "other.json")
	must(t, os.WriteFile(notJSON, []byte("hello"), 0o600))
	must(t, os.WriteFile(other, []byte(`{"name":"something else"}`), 0o600))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-fail-on-regression", "10"}, "-fail-on-regression needs -baseline"},
		{[]string{"-baseline", other, "-fail-on-regression", "-5"}, "a percentage, at least 1"},
		{[]string{"-baseline", other, "-fail-on-regression", "0.5"}, "at least 1 (smaller changes are called the same"},
		{[]string{"-baseline", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"-baseline", notJSON}, "not a simulator report's JSON"},
		{[]string{"-baseline", other}, "not a simulator report's JSON (no start and end of a run)"},
	} {
		_, err := parseOutputs(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.args, err, c.want)
		}
	}
}

// With -baseline the run is compared and the reports say so; the exit
// status changes only with -fail-on-regression, and only past its
// percentage.
func TestBaselineFailsTheRunOnlyWithFailOnRegression(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	run := func(completed int64) report.Summary {
		rec := report.NewRecorder(t0)
		for i := range completed {
			at := t0.Add(time.Duration(i) * time.Millisecond)
			rec.Sent(at)
			rec.Completed(at.Add(3*time.Millisecond), "order.placed", 3*time.Millisecond)
		}
		return rec.Summary("run", t0.Add(10*time.Second))
	}
	base := filepath.Join(dir, "base.json")
	must(t, writeFile(base, run(1000).WriteJSON))
	slower := run(800) // 20% less throughput, the same latencies

	for _, c := range []struct {
		args    []string
		regress bool
	}{
		{[]string{"-baseline", base}, false},
		{[]string{"-baseline", base, "-fail-on-regression", "25"}, false},
		{[]string{"-baseline", base, "-fail-on-regression", "10"}, true},
	} {
		out := filepath.Join(dir, "now.html")
		of, err := parseOutputs(t, append(c.args, "-report", out)...)
		must(t, err)
		var text strings.Builder
		err = finish(&text, slower, of)
		if !strings.Contains(text.String(), "Compared with the baseline "+base) {
			t.Errorf("%q: the terminal report lacks the comparison:\n%s", c.args, text.String())
		}
		var worse *regressed
		if got := errors.As(err, &worse); got != c.regress || (!c.regress && err != nil) {
			t.Errorf("%q: %v, want regressed %v", c.args, err, c.regress)
		}
		if c.regress && !strings.Contains(err.Error(), "throughput 100.0/s -> 80.0/s (-20.0%, worse)") {
			t.Errorf("%q: %v does not name the throughput", c.args, err)
		}
		js, err := os.ReadFile(filepath.Join(dir, "now.json"))
		must(t, err)
		if !strings.Contains(string(js), `"file": "`+base+`"`) {
			t.Errorf("%q: the JSON lacks the comparison", c.args)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
