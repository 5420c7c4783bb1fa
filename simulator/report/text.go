package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the final terminal report: a title, the numbers as
// aligned key/value lines, then the kept mismatch texts and the notes.
func (s Summary) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	title := "Load test report"
	if s.Label != "" {
		title += ": " + oneLine(s.Label)
	}
	fmt.Fprintln(bw, title)
	tw := tabwriter.NewWriter(bw, 0, 0, 3, ' ', 0)
	for _, r := range s.rows() {
		indent := "  "
		if r.Sub {
			indent = "      "
		}
		fmt.Fprintf(tw, "%s%s\t%s\n", indent, oneLine(r.Key), oneLine(r.Value))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range s.tables() {
		if err := writeTable(bw, t); err != nil {
			return err
		}
	}
	if len(s.MismatchTexts) > 0 {
		fmt.Fprintf(bw, "ledger mismatches (first %s of %s):\n", groupInt(int64(len(s.MismatchTexts))), groupInt(s.Mismatches))
		for _, t := range s.MismatchTexts {
			fmt.Fprintf(bw, "  %s\n", oneLine(t))
		}
	}
	if len(s.RulesUnreached) > 0 {
		fmt.Fprintf(bw, "money rules no checked billing event reached: %s\n", strings.Join(s.RulesUnreached, ", "))
	}
	if len(s.Notes) > 0 {
		fmt.Fprintln(bw, "notes:")
		for _, n := range s.Notes {
			fmt.Fprintf(bw, "  %s\n", oneLine(n))
		}
	}
	return bw.Flush()
}

// oneLine keeps a free text on its line (and out of tabwriter's columns).
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// writeTable writes a table's title, then its header and rows in aligned
// columns, indented, then its notes.
func writeTable(w io.Writer, t table) error {
	fmt.Fprintf(w, "%s:\n", oneLine(t.Title))
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, cells := range append([][]string{t.Header}, t.Rows...) {
		clean := make([]string, len(cells))
		for i, c := range cells {
			clean[i] = oneLine(c)
		}
		fmt.Fprintf(tw, "  %s\n", strings.Join(clean, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range t.Notes {
		fmt.Fprintf(w, "  (%s)\n", oneLine(n))
	}
	return nil
}
