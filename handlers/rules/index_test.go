package rules

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var updateIndex = flag.Bool("update-index", false, "rewrite the rule index in README.md")

// TestRuleIndexIsCurrent keeps README.md's table of rule IDs, with the
// files that implement and test each, in step with the code, so that a
// newcomer finds any rule's code from its ID. Refresh it with
// `go test ./handlers/rules -run TestRuleIndexIsCurrent -update-index`.
func TestRuleIndexIsCurrent(t *testing.T) {
	rules, err := os.ReadFile("../../../shared/RULES.md")
	if err != nil {
		t.Skipf("RULES.md is not beside the repository: %v", err)
	}
	ids := regexp.MustCompile(`(?m)^- ([A-Z]{3}-\d+) `).FindAllStringSubmatch(string(rules), -1)
	files, _ := filepath.Glob("*.go")
	sort.Strings(files)
	var rows []string
	for _, m := range ids {
		id := m[1]
		tag := strings.ReplaceAll(id, "-", "_")
		inCode := regexp.MustCompile(`\b` + id + `\b`)
		inTest := regexp.MustCompile(`func TestRule_[A-Za-z0-9_]*` + tag + `(_|\()|"` + id + ` `)
		var code, tests []string
		for _, f := range files {
			b, _ := os.ReadFile(f)
			switch {
			case strings.HasSuffix(f, "_test.go") && inTest.Match(b):
				tests = append(tests, "`"+f+"`")
			case !strings.HasSuffix(f, "_test.go") && inCode.Match(b):
				code = append(code, "`"+f+"`")
			}
		}
		if len(code)+len(tests) == 0 {
			continue
		}
		if len(tests) == 0 {
			t.Errorf("%s is implemented in %v but no TestRule_%s test or %q table row tests it", id, code, tag, id)
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s |", id, strings.Join(code, ", "), strings.Join(tests, ", ")))
	}
	table := "| rule | code | tests |\n|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- rule index -->\n", "<!-- end rule index -->"
	s := string(readme)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the %q ... %q markers", begin, end)
	}
	fresh := s[:i+len(begin)] + table + s[j:]
	if fresh == s {
		return
	}
	if *updateIndex {
		if err := os.WriteFile("README.md", []byte(fresh), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's rule index is stale: go test ./handlers/rules -run TestRuleIndexIsCurrent -update-index")
}
