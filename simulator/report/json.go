package report

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the Summary as indented JSON (durations in
// nanoseconds, money in minor units), for scripts and for comparing runs.
func (s Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// ReadJSON reads a Summary written by WriteJSON.
func ReadJSON(r io.Reader) (Summary, error) {
	var s Summary
	err := json.NewDecoder(r).Decode(&s)
	return s, err
}
