package deployments_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// settingName is a name in cmd/processor/settings.txt (what `processor -h`
// prints): two spaces, then one name or several separated by ", ".
var settingName = regexp.MustCompile(`(?m)^  ([A-Z][A-Z0-9_]*(?:, [A-Z][A-Z0-9_]*)*)(?:\s|$)`)

// processorSettings is every environment variable the processor documents.
func processorSettings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../cmd/processor/settings.txt")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, m := range settingName.FindAllStringSubmatch(string(b), -1) {
		for _, n := range strings.Split(m[1], ", ") {
			names[n] = true
		}
	}
	if len(names) < 30 || !names["NATS_URL"] || !names["REDIS_TLS_KEY"] || !names["DEADLETTER_STREAM_MAX_BYTES"] {
		t.Fatalf("read %d settings from settings.txt; the format changed?", len(names))
	}
	return names
}

var (
	sourcesOnce sync.Once
	sources     string
	sourcesErr  error
)

// processorSources is the text of the processor binary's own Go files (the
// module's packages in go list -deps ./cmd/processor, tests left out).
func processorSources(t *testing.T) string {
	t.Helper()
	sourcesOnce.Do(func() {
		out, err := exec.Command("go", "list", "-deps", "-f",
			`{{if .Module}}{{if .Module.Main}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}{{end}}`, "../cmd/processor").Output()
		if err != nil {
			sourcesErr = err
			return
		}
		var b strings.Builder
		for _, f := range strings.Fields(string(out)) {
			src, err := os.ReadFile(filepath.Clean(f))
			if err != nil {
				sourcesErr = err
				return
			}
			b.Write(src)
		}
		sources = b.String()
	})
	if sourcesErr != nil || !strings.Contains(sources, "package main") {
		t.Fatalf("reading the processor's sources: %v", sourcesErr)
	}
	return sources
}

// checkSettings fails for each name that is not a setting of the processor:
// not in settings.txt, or in no Go file of the processor as a string
// literal (a setting renamed in the code but not in the docs).
func checkSettings(t *testing.T, where string, names []string) {
	t.Helper()
	settings, src := processorSettings(t), processorSources(t)
	if len(names) == 0 {
		t.Fatalf("%s: no settings found", where)
	}
	for _, n := range names {
		if !settings[n] {
			t.Errorf("%s sets %s, which is not a setting of the processor (cmd/processor/settings.txt)", where, n)
		} else if !strings.Contains(src, `"`+n+`"`) {
			t.Errorf("%s sets %s, which no Go file of the processor reads", where, n)
		}
	}
}
