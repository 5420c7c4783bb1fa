package model

import "time"

const day = 24 * time.Hour

// midnight is the UTC date of t (GEN-1).
func midnight(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// plusMonths adds n calendar months to a date, keeping the day of month
// when the target month has it and taking the month's last day otherwise
// (GEN-4: Jan 31 + 1 month is Feb 28 or 29).
func plusMonths(d time.Time, n int) time.Time {
	y, m, dd := d.Date()
	total := int(m) - 1 + n
	ty, tm := y+total/12, total%12
	if tm < 0 {
		tm += 12
		ty--
	}
	last := daysIn(ty, time.Month(tm+1))
	if dd > last {
		dd = last
	}
	return time.Date(ty, time.Month(tm+1), dd, 0, 0, 0, 0, time.UTC)
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.April, time.June, time.September, time.November:
		return 30
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

func months(term string) int {
	switch term {
	case "P1M":
		return 1
	case "P1Y":
		return 12
	case "P3Y":
		return 36
	}
	return 0
}

func periodMonths(freq, term string) int {
	switch freq {
	case "monthly":
		return 1
	case "annual":
		return 12
	case "triennial":
		return 36
	}
	return months(term) // one_time
}
