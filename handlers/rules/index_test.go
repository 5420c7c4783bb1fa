package rules

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var updateIndex = flag.Bool("update-index", false, "rewrite the rule index in README.md")

// repoRoot is the repository's top folder, seen from this package.
const repoRoot = "../.."

// TestRuleIndexIsCurrent holds the rule catalogue (CATALOGUE.md), the code
// and the tests together, so that a newcomer finds any rule's code and tests
// from its ID and no rule goes untested:
//   - every rule ID written anywhere in the repository (code, tests, docs)
//     is one the catalogue defines;
//   - every rule the catalogue defines has a test somewhere in the
//     repository (`func TestRule_<ID>_...` or a table row `"<ID> ..."`);
//   - README.md's index lists, for each ID, the files that name it and the
//     test files that test it.
//
// Refresh the index with
// `go test ./handlers/rules -run TestRuleIndexIsCurrent -update-index`.
func TestRuleIndexIsCurrent(t *testing.T) {
	catalogue, err := os.ReadFile("CATALOGUE.md")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	defined := map[string]bool{}
	prefixes := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^- \*\*([A-Z]{2,3})-(\d+)\*\* `).FindAllStringSubmatch(string(catalogue), -1) {
		id := m[1] + "-" + m[2]
		if defined[id] {
			t.Errorf("CATALOGUE.md defines %s twice", id)
		}
		defined[id] = true
		prefixes[m[1]] = true
		ids = append(ids, id)
	}
	if len(ids) < 70 {
		t.Fatalf("CATALOGUE.md defines only %d rules: its format changed?", len(ids))
	}
	var alt []string
	for p := range prefixes {
		alt = append(alt, p)
	}
	sort.Strings(alt)
	mention := regexp.MustCompile(`\b(` + strings.Join(alt, "|") + `)-(\d+)\b`)

	files := repoFiles(t)
	code := map[string][]string{}  // ID -> non-test Go files naming it
	tests := map[string][]string{} // ID -> test files testing it
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(repoRoot, f))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, m := range mention.FindAllSubmatch(b, -1) {
			id := string(m[1]) + "-" + string(m[2])
			if seen[id] {
				continue
			}
			seen[id] = true
			if !defined[id] {
				t.Errorf("%s names %s, which CATALOGUE.md does not define", f, id)
				continue
			}
			if strings.HasSuffix(f, ".go") && !strings.HasSuffix(f, "_test.go") {
				code[id] = append(code[id], "`"+f+"`")
			}
		}
		if !strings.HasSuffix(f, "_test.go") {
			continue
		}
		for _, id := range testedRules(b) {
			if defined[id] && !containsStr(tests[id], "`"+f+"`") {
				tests[id] = append(tests[id], "`"+f+"`")
			}
		}
	}
	var rows []string
	for _, id := range ids {
		if len(tests[id]) == 0 {
			t.Errorf("%s has no test: name one TestRule_%s_... or a table row %q", id, strings.ReplaceAll(id, "-", "_"), id+" ...")
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s |", id, strings.Join(code[id], ", "), strings.Join(tests[id], ", ")))
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

var (
	ruleTestFunc = regexp.MustCompile(`func TestRule_([A-Za-z0-9_]+)\(`)
	ruleIDPrefix = regexp.MustCompile(`^([A-Z]{2,3})_(\d+)(_|$)`)
	ruleTableRow = regexp.MustCompile(`"([A-Z]{2,3}-\d+) `)
)

// testedRules are the rule IDs a test file tests: those a test function is
// named for (`TestRule_CAN_1_...`, also `TestRule_EXP_1_EXP_2_...`) and
// those a table row's name starts with (the ID, a space, the case).
func testedRules(src []byte) []string {
	var ids []string
	for _, m := range ruleTestFunc.FindAllSubmatch(src, -1) {
		name := string(m[1])
		for {
			p := ruleIDPrefix.FindStringSubmatch(name)
			if p == nil {
				break
			}
			ids = append(ids, p[1]+"-"+p[2])
			name = name[len(p[0]):]
		}
	}
	for _, m := range ruleTableRow.FindAllSubmatch(src, -1) {
		ids = append(ids, string(m[1]))
	}
	return ids
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// repoFiles lists the repository's Go and Markdown files (slash paths from
// the top), leaving out what is not the project's: git's folder, run data.
func repoFiles(t *testing.T) []string {
	var out []string
	err := filepath.WalkDir(repoRoot, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if p != repoRoot && (strings.HasPrefix(name, ".") || name == "data" || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") || strings.HasSuffix(name, ".md") {
			rel, _ := filepath.Rel(repoRoot, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}
