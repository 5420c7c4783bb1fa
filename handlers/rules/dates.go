package rules

import (
	"fmt"
	"time"
)

const day = 24 * time.Hour

// GEN-1: every time is UTC. dateOf returns the UTC calendar date of an
// instant, as midnight UTC.
func dateOf(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// addMonthsClamped adds n months to a date, clamping the day to the target
// month's last day (GEN-4). Go's AddDate normalises Jan 31 + 1 month to
// Mar 3, which is not what a term or billing period means.
func addMonthsClamped(d time.Time, n int) time.Time {
	y, m, dd := d.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if dd > last {
		dd = last
	}
	return time.Date(first.Year(), first.Month(), dd, 0, 0, 0, 0, time.UTC)
}

// termMonths is the length of a term (GEN-4).
func termMonths(term string) (int, error) {
	switch term {
	case "P1M":
		return 1, nil
	case "P1Y":
		return 12, nil
	case "P3Y":
		return 36, nil
	}
	return 0, fmt.Errorf("unknown term %q", term)
}

// billingMonths is the length of one billing period (GEN-4). one_time
// bills the whole term at once.
func billingMonths(frequency string, termLen int) (int, error) {
	switch frequency {
	case "monthly":
		return 1, nil
	case "annual":
		return 12, nil
	case "triennial":
		return 36, nil
	case "one_time":
		return termLen, nil
	}
	return 0, fmt.Errorf("unknown billing frequency %q", frequency)
}

// termEnd is the last day included in a term that starts on date start:
// start + term - 1 day (GEN-4: the end date is covered the whole day and the
// renewal starts the next day at 00:00 UTC).
func termEnd(start time.Time, months int) time.Time {
	return addMonthsClamped(start, months).AddDate(0, 0, -1)
}

// formatDate renders a date as YYYY-MM-DD.
func formatDate(d time.Time) string { return d.Format(time.DateOnly) }

// daysBetween counts whole days from date a to date b.
func daysBetween(a, b time.Time) int { return int(b.Sub(a) / day) }
