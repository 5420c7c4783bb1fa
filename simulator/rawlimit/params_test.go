package rawlimit

import (
	"strings"
	"testing"
)

func TestFractionalEventsPerCommandAlternateAroundTheMean(t *testing.T) {
	for _, tc := range []struct {
		k     float64
		n     int
		total int
	}{
		{2, 1000, 2000},
		{2.5, 1000, 2500},
		{2.6, 1000, 2600},
		{0.5, 7, 3},
		{0, 10, 0},
	} {
		lo, hi := int(tc.k), int(tc.k)+1
		sum := 0
		for i := range tc.n {
			got := eventsBefore(i+1, tc.k) - eventsBefore(i, tc.k)
			if got != lo && got != hi {
				t.Fatalf("K=%v: command %d carries %d events, want %d or %d", tc.k, i, got, lo, hi)
			}
			sum += got
		}
		if sum != tc.total || EventsTotal(tc.n, tc.k) != tc.total {
			t.Errorf("K=%v, N=%d: %d events (EventsTotal %d), want %d", tc.k, tc.n, sum, EventsTotal(tc.n, tc.k), tc.total)
		}
	}
	// 2.5 alternates strictly.
	for i, want := range []int{2, 3, 2, 3} {
		if got := eventsBefore(i+1, 2.5) - eventsBefore(i, 2.5); got != want {
			t.Errorf("K=2.5: command %d carries %d events, want %d", i, got, want)
		}
	}
}

func TestIDsRoundTrip(t *testing.T) {
	id := eventID(123456)
	if len(id) != eventIDWidth {
		t.Errorf("eventID length %d, want %d", len(id), eventIDWidth)
	}
	if n, err := eventIndex(id); err != nil || n != 123456 {
		t.Errorf("eventIndex(%q) = %d, %v", id, n, err)
	}
	if n, err := commandIndex(commandMsgID(CustomerID(42), 9876)); err != nil || n != 9876 {
		t.Errorf("commandIndex = %d, %v", n, err)
	}
	if _, err := commandIndex("C-000001:x1"); err == nil {
		t.Error("commandIndex accepted a foreign ID")
	}
}

func TestFillerHasTheAskedSize(t *testing.T) {
	for _, n := range []int{10, 11, 400, 700, 2000} {
		if got := len(filler(n)); got != n {
			t.Errorf("len(filler(%d)) = %d", n, got)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	if err := (Params{}).WithDefaults().Validate(); err != nil {
		t.Errorf("defaults invalid: %v", err)
	}
	p := Params{Commands: -1, EventsPerCommand: -2, Customers: 8, RedisLanes: 16}.WithDefaults()
	err := p.Validate()
	if err == nil {
		t.Fatal("invalid params accepted")
	}
	for _, want := range []string{"commands", "events per command", "fewer than redis lanes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
