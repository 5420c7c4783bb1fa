package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestTextReportHasTheKeyNumbers(t *testing.T) {
	s := sampleRun(t, "steady 500/s")
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Load test report: steady 500/s",
		"commands sent", groupInt(s.Sent),
		"commands completed", groupInt(s.Completed),
		"throughput", groupFloat(s.Throughput) + " completed/s",
		"latency p50", formatLatency(s.LatencyP50),
		"latency p99.9", formatLatency(s.LatencyP999),
		"latency max", "900.0ms",
		"QTY_BELOW_MINIMUM", "SUBSCRIPTION_NOT_FOUND",
		"1,140 (JPY 855,000, USD 410,400.00)", // 570 charges of JPY 1,500 and 570 of USD 720.00
		"570 (EUR 409,277.10)",                // 570 credits of EUR 718.03
		"ledger mismatches", "customer c-42: credit missing",
		"redeliveries", "processor peak RSS", "97.0 MiB",
		"Redis memory per subscription", "2.0 KiB",
		"paused on purpose", "3s in 1 span",
		"notes:", "redis-server 7.2 (private)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "dead letters") {
		t.Error("zero dead letters printed; only non-zero caller values are")
	}
	// Aligned: every value of the main rows starts in the same column. The
	// tables after them (each under an unindented title) align on their own.
	col := -1
	for i, l := range strings.Split(out, "\n") {
		if i > 0 && !strings.HasPrefix(l, " ") {
			break
		}
		if !strings.HasPrefix(l, "  ") || strings.HasPrefix(l, "      ") || !strings.Contains(l, "   ") {
			continue
		}
		if strings.HasPrefix(l, "  customer") || strings.HasPrefix(l, "  processor:") || strings.HasPrefix(l, "  redis-server") {
			continue // mismatch texts and notes
		}
		i := strings.Index(l[2:], "   ") + 2
		c := i + len(l[i:]) - len(strings.TrimLeft(l[i:], " "))
		if col == -1 {
			col = c
		} else if c != col {
			t.Errorf("value not aligned at column %d: %q", col, l)
		}
	}
}

func TestHTMLReportIsWellFormedWithFivePlotsAndEscapesText(t *testing.T) {
	s := sampleRun(t, `evil <script>alert("x")</script> & co`)
	s.Notes = append(s.Notes, "<b>note</b>")
	var b bytes.Buffer
	if err := s.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>") {
		t.Fatal("caller text reached the page unescaped")
	}
	if !strings.Contains(page, "&lt;script&gt;") {
		t.Error("escaped label missing")
	}
	for _, external := range []string{"http://", "https://", "src=", "<link", "@import", "url("} {
		rest := strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
		if strings.Contains(rest, external) {
			t.Errorf("page refers to something external: %q", external)
		}
	}

	// The whole page parses as strict XML; count the SVGs and what is in them.
	dec := xml.NewDecoder(&b)
	dec.Strict = true
	var svgs, paths, pauseBands, texts int
	inSVG := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page is not well-formed: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "svg":
				svgs++
				inSVG = true
			case "path":
				paths++
			case "rect":
				for _, a := range e.Attr {
					if a.Name.Local == "fill-opacity" {
						pauseBands++
					}
				}
			case "text":
				if inSVG {
					texts++
				}
			}
		case xml.EndElement:
			if e.Name.Local == "svg" {
				inSVG = false
			}
		}
	}
	if svgs != 5 {
		t.Errorf("%d <svg> elements, want 5", svgs)
	}
	if paths != 10 { // sent, completed; p50, p99, max; distribution; CPU and memory of 2 processes
		t.Errorf("%d data paths, want 10", paths)
	}
	if pauseBands != 4 { // the one pause, on the four time plots
		t.Errorf("%d pause bands, want 4", pauseBands)
	}
	if texts < 30 {
		t.Errorf("only %d text elements in the plots: titles, ticks and legends missing?", texts)
	}
	for _, want := range []string{"Throughput per second", "Latency per second", "Latency distribution", "99.99%", "paused on purpose", "completed/s", "latency (ms, log scale)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	s := sampleRun(t, "round trip")
	var b bytes.Buffer
	if err := s.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	first := b.String()
	got, err := ReadJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip changed the summary:\n got %+v\nwant %+v", got, s)
	}
	var again bytes.Buffer
	if err := got.WriteJSON(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != first {
		t.Error("re-encoding differs")
	}
	for _, key := range []string{`"latency_p99_ns"`, `"charged_minor"`, `"series"`, `"percentiles"`, `"throughput_per_s"`} {
		if !strings.Contains(first, key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

// TestWriteExample writes the sample run's report for a person to look at:
//
//	REPORT_EXAMPLE_HTML=/tmp/report-example.html go test -run TestWriteExample ./simulator/report
func TestWriteExample(t *testing.T) {
	path := os.Getenv("REPORT_EXAMPLE_HTML")
	if path == "" {
		t.Skip("set REPORT_EXAMPLE_HTML to a file path to write the example report")
	}
	s := sampleRun(t, "example: 500/s for 60 s, pause at 20 s, spike at 40 s")
	var b bytes.Buffer
	if err := s.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteText(os.Stdout); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
