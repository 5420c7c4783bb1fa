package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// processor -h lists every setting: each variable of the README's
// Configuration table is printed, and each variable printed is explained
// in the README, so neither list can drift from the other.
func TestHelpListsEverySettingTheReadmeDocuments(t *testing.T) {
	out, err := exec.Command(build(t), "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("processor -h: %v\n%s", err, out)
	}
	help := string(out)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "## Configuration (environment)")
	if start < 0 {
		t.Fatal("README has no Configuration (environment) section")
	}
	section = section[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	tableVar := regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]+)`")
	rows := tableVar.FindAllStringSubmatch(section, -1)
	if len(rows) < 10 {
		t.Fatalf("found %d variables in the README's table", len(rows))
	}
	for _, m := range rows {
		if !strings.Contains(help, m[1]) {
			t.Errorf("README documents %s, processor -h does not list it", m[1])
		}
	}
	listed := regexp.MustCompile(`(?m)^  ([A-Z][A-Z0-9_]+)`)
	for _, m := range listed.FindAllStringSubmatch(help, -1) {
		if !strings.Contains(string(readme), m[1]) {
			t.Errorf("processor -h lists %s, the README never mentions it", m[1])
		}
	}
	if !strings.Contains(help, "simulator demo") {
		t.Error("processor -h does not say where the demo went (simulator demo)")
	}
}
