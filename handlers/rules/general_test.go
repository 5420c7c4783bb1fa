package rules

import (
	"testing"
	"time"
)

func TestRule_GEN_1_TimesAreUTC(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	// 2026-03-11 07:00 in Tokyo is still 2026-03-10 in UTC.
	local := time.Date(2026, 3, 11, 7, 0, 0, 0, tokyo)
	if got := formatDate(dateOf(local)); got != "2026-03-10" {
		t.Fatalf("dateOf(%v) = %s, want the UTC date 2026-03-10", local, got)
	}
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(local, offerBasic, "P1Y", "annual", 1)
	if s := w.state.Subscriptions[id]; formatDate(s.TermStart) != "2026-03-10" || s.WindowOpenedAt.Location() != time.UTC {
		t.Fatalf("term start %s (%v), want UTC date 2026-03-10", formatDate(s.TermStart), s.WindowOpenedAt.Location())
	}
}

func TestRule_GEN_2_UsedDaysCountEveryStartedDay(t *testing.T) {
	for _, tc := range []struct {
		elapsed time.Duration
		want    int
	}{
		{0, 1},
		{time.Nanosecond, 1},
		{24 * time.Hour, 1},
		{24*time.Hour + time.Nanosecond, 2},
		{167 * time.Hour, 7},
		{168 * time.Hour, 7},
		{169 * time.Hour, 8},
	} {
		if got := usedDays(tc.elapsed); got != tc.want {
			t.Errorf("usedDays(%v) = %d, want %d", tc.elapsed, got, tc.want)
		}
	}
}

func TestRule_GEN_3_ProrationIsIntegerRoundedHalfUpOnce(t *testing.T) {
	for _, tc := range []struct {
		name           string
		amount         int64
		unused, period int
		want           int64
	}{
		{"exact", 36500, 358, 365, 35800},
		{"rounds down below half", 72000, 358, 365, 70619}, // 70619.178
		{"rounds half up", 3, 1, 2, 2},                     // 1.5 -> 2
		{"just under half", 1, 1, 3, 0},                    // 0.333 -> 0
		{"nothing unused", 72000, 0, 365, 0},
		{"all unused", 72000, 365, 365, 72000},
		{"no overflow on large amounts", 9_000_000_000_000_000, 1, 3, 3_000_000_000_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prorate(tc.amount, tc.unused, tc.period); got != tc.want {
				t.Fatalf("prorate(%d, %d, %d) = %d, want %d", tc.amount, tc.unused, tc.period, got, tc.want)
			}
		})
	}
}

func TestRule_GEN_4_TermDates(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse(time.DateOnly, s); return v }
	for _, tc := range []struct {
		name, start string
		months      int
		wantEnd     string
	}{
		{"annual term ends the day before the anniversary", "2026-03-10", 12, "2027-03-09"},
		{"Partner Center example: term ending 2023-03-01", "2022-03-02", 12, "2023-03-01"},
		{"monthly", "2026-03-10", 1, "2026-04-09"},
		{"Jan 31 + 1 month clamps to Feb 28, not Mar 3", "2026-01-31", 1, "2026-02-27"},
		{"leap year clamps to Feb 29", "2028-01-31", 1, "2028-02-28"},
		{"triennial", "2026-03-10", 36, "2029-03-09"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatDate(termEnd(d(tc.start), tc.months)); got != tc.wantEnd {
				t.Fatalf("termEnd(%s, %d) = %s, want %s", tc.start, tc.months, got, tc.wantEnd)
			}
		})
	}
	if got := addMonthsClamped(d("2026-01-31"), 1); formatDate(got) != "2026-02-28" {
		t.Fatalf("addMonthsClamped(Jan 31, 1) = %s", formatDate(got))
	}
	// The end date is covered the whole day: the term is over at 00:00 UTC
	// the next day (Partner Center's example: end 2023-03-01, renewal from
	// 2023-03-02).
	s := &Subscription{TermEnd: d("2023-03-01")}
	if got := s.termEndsAt(); !got.Equal(time.Date(2023, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("termEndsAt = %v, want 2023-03-02T00:00:00Z", got)
	}
}

func TestRule_GEN_6_RejectionHasCodeDescriptionRuleDataSource(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	id := w.buy(t0, offerBasic, "P1Y", "annual", 10)
	r := wantRejected(t, w.do(partnerA, t0.Add(169*time.Hour), "subscription.cancel", cancelOf(id)), CodeCancelWindowClosed, "CAN-1")
	if r.Description == "" || r.Source != Source || r.Data["window_end"] == "" {
		t.Fatalf("rejection lacks description, source or deciding facts: %+v", r)
	}
	// Invalid fields are rejections too, naming the field.
	r = wantRejected(t, w.do(partnerA, t0, "subscription.suspend", suspendOf(id, "bored")), CodeInvalidField, "GEN-6")
	if r.Data["field"] != "data.reason" {
		t.Fatalf("invalid field rejection names %q, want data.reason", r.Data["field"])
	}
}
