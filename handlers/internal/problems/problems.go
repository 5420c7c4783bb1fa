// Package problems collects what is wrong with a data file (the catalog,
// the partner registry): every problem at once, each naming the entry and
// the field, so an operator fixes a file in one pass.
package problems

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Problem is one thing wrong with a file. Use errors.As to reach one.
type Problem struct {
	// Source names the file kind, e.g. "catalog".
	Source string
	// Entry names the entry the problem is in, e.g.
	// `offer "CFQ7TTC0LH18:0001" (Microsoft 365 Business Basic)`; empty for
	// top-level fields.
	Entry string
	// Field is the field's path within the entry, e.g. `plans[2].prices["JPY"]`.
	Field string
	// Message says what is wrong.
	Message string
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.Source)
	b.WriteString(": ")
	if p.Entry != "" {
		b.WriteString(p.Entry)
		b.WriteString(": ")
	}
	b.WriteString(p.Field)
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// List gathers problems in the order they are found. Set Entry before
// checking an entry's fields.
type List struct {
	Source string
	Entry  string
	list   []error
}

// Add records a problem of the current entry's field.
func (l *List) Add(field, format string, args ...any) {
	l.list = append(l.list, &Problem{Source: l.Source, Entry: l.Entry, Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err joins every problem (nil when there is none).
func (l *List) Err() error { return errors.Join(l.list...) }

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// Countries checks a list of ISO 3166-1 alpha-2 country codes at field
// (e.g. "policy.tax_inclusive_countries"): each well formed, none twice.
func (l *List) Countries(field string, codes []string) {
	seen := map[string]int{}
	for i, cc := range codes {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !countryPattern.MatchString(cc) {
			l.Add(f, "%q must be an ISO 3166-1 alpha-2 code (2 uppercase letters)", cc)
		} else if j, dup := seen[cc]; dup {
			l.Add(f, "duplicate of %s[%d] (%s)", field, j, cc)
		} else {
			seen[cc] = i
		}
	}
}
