package main

import "testing"

// The report's notes list counts by kind largest first, ties by name, in
// words a reader scans: never a Go map's print form.
func TestDescribeCountsLargestFirstThenByName(t *testing.T) {
	got := describeCounts(map[string]int64{"suspend": 3, "order": 412, "cancel": 3, "quantity": 230})
	if want := "order 412, quantity 230, cancel 3, suspend 3"; got != want {
		t.Fatalf("describeCounts = %q, want %q", got, want)
	}
	if got := describeCounts(map[string]int{}); got != "" {
		t.Fatalf("describeCounts of nothing = %q", got)
	}
}
