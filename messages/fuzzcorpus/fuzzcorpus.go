// Package fuzzcorpus writes seed corpus files for Go fuzz targets, so that
// a package's checked-in corpus (testdata/fuzz/<FuzzName>/) is generated
// from its tests' own valid commands rather than kept by hand.
//
// A corpus file is Go's "go test fuzz v1" format: one line per argument of
// the fuzz function, each a Go literal of the argument's type. `go test`
// runs every file as a seed, with or without -fuzz.
package fuzzcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Entry is one corpus file: its name and the fuzz function's arguments
// in order (string, []byte, bool, and the sized integer types).
type Entry struct {
	Name string
	Args []any
}

// Write writes entries into the corpus of fuzz target name under
// dir/testdata/fuzz, replacing files of the same name and keeping the
// others: inputs the fuzzer found (named by their hash) stay as seeds. Names are kept readable (letters, digits, '-', '.', '_');
// anything else becomes '_'.
func Write(dir, name string, entries []Entry) error {
	path := filepath.Join(dir, "testdata", "fuzz", name)
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		file := safeName(e.Name)
		if seen[file] {
			return fmt.Errorf("fuzzcorpus: two entries named %q", file)
		}
		seen[file] = true
		body, err := Encode(e.Args...)
		if err != nil {
			return fmt.Errorf("fuzzcorpus: %s: %w", e.Name, err)
		}
		if err := os.WriteFile(filepath.Join(path, file), body, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Encode renders arguments in the "go test fuzz v1" format.
func Encode(args ...any) ([]byte, error) {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%t)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%d)\n", v)
		case uint16:
			fmt.Fprintf(&b, "uint16(%d)\n", v)
		case uint32:
			fmt.Fprintf(&b, "uint32(%d)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		case int64:
			fmt.Fprintf(&b, "int64(%d)\n", v)
		default:
			return nil, fmt.Errorf("argument of type %T", a)
		}
	}
	return []byte(b.String()), nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
			return r
		}
		return '_'
	}, s)
}
