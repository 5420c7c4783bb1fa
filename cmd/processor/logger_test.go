package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill"
)

// LOG_FORMAT=json writes one JSON object per line with the level, the
// message and the fields; text (the default) writes key=value lines; any
// other value is refused naming the setting.
func TestLogFormatJSONWritesOneObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	l, err := newLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	l.Info("partition started", watermill.LogFields{"partition": 3})
	l.Debug("below the level", nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want 1 (debug is below info):\n%s", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("not JSON: %q: %v", lines[0], err)
	}
	if rec["level"] != "INFO" || rec["msg"] != "partition started" || rec["partition"] != float64(3) || rec["time"] == nil {
		t.Fatalf("record %v lacks level, msg, partition or time", rec)
	}

	buf.Reset()
	if l, err = newLogger(&buf, "", ""); err != nil {
		t.Fatal(err)
	}
	l.Info("partition started", watermill.LogFields{"partition": 3})
	if out := buf.String(); !strings.Contains(out, `msg="partition started"`) || !strings.Contains(out, "partition=3") {
		t.Fatalf("text line %q", out)
	}

	if _, err := newLogger(&buf, "", "xml"); err == nil || !strings.Contains(err.Error(), "LOG_FORMAT") {
		t.Fatalf("LOG_FORMAT=xml: %v", err)
	}
}
