package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// groupInt writes n with thousands separators: 1234567 -> "1,234,567".
func groupInt(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// groupFloat writes f with one decimal and thousands separators.
func groupFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return s
	}
	g := groupInt(n)
	if n == 0 && strings.HasPrefix(whole, "-") {
		g = "-0"
	}
	return g + "." + frac
}

// CurrencyExponent is the number of decimals of a currency's minor unit:
// 0 for JPY, 2 for everything else the catalog sells in.
func CurrencyExponent(currency string) int {
	if currency == "JPY" {
		return 0
	}
	return 2
}

// FormatMoney writes an amount in minor units as e.g. "USD 1,234.56"
// (integer arithmetic only: no float ever touches money), with the
// exponent CurrencyExponent guesses.
func FormatMoney(currency string, minor int64) string {
	return FormatMoneyExp(currency, minor, CurrencyExponent(currency))
}

// FormatMoneyExp is FormatMoney with the currency's exponent given (the
// catalog's, where there is one).
func FormatMoneyExp(currency string, minor int64, exp int) string {
	sign := ""
	// Work on the magnitude as uint64 so that math.MinInt64 negates safely.
	mag := uint64(minor)
	if minor < 0 {
		sign = "-"
		mag = uint64(-(minor + 1)) + 1
	}
	scale := uint64(1)
	for range exp {
		scale *= 10
	}
	units := groupUint(mag / scale)
	if exp == 0 {
		return currency + " " + sign + units
	}
	return fmt.Sprintf("%s %s%s.%0*d", currency, sign, units, exp, mag%scale)
}

func groupUint(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatLatency writes a latency in milliseconds with the precision that
// matters at its size: "0.42ms", "3.1ms", "235.0ms", "1.25s".
func formatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d < time.Millisecond:
		return strconv.FormatFloat(ms, 'f', 2, 64) + "ms"
	case d < time.Second:
		return strconv.FormatFloat(ms, 'f', 1, 64) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
}

// formatBytes writes a byte count in binary units: "123.4 MiB".
func formatBytes(b int64) string {
	const unit = 1024
	if b < unit && b > -unit {
		return groupInt(b) + " B"
	}
	f := float64(b)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		f /= unit
		if f < unit && f > -unit || u == "TiB" {
			return strconv.FormatFloat(f, 'f', 1, 64) + " " + u
		}
	}
	return groupInt(b) + " B" // unreachable
}

// formatSpan writes a duration as "1h2m3s", "1m30s", "45s" or "0.5s".
func formatSpan(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	if d < time.Second && d > -time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	d = d.Round(time.Second)
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	var b strings.Builder
	if h != 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m != 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s != 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

func secondsToDuration(s float64) time.Duration {
	return time.Duration(math.Round(s * float64(time.Second)))
}
