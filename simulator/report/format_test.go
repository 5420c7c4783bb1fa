package report

import (
	"math"
	"testing"
	"time"
)

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		cur   string
		minor int64
		want  string
	}{
		{"USD", 123456, "USD 1,234.56"},
		{"USD", 5, "USD 0.05"},
		{"USD", 0, "USD 0.00"},
		{"EUR", -71803, "EUR -718.03"},
		{"JPY", 1234567, "JPY 1,234,567"},
		{"JPY", -5, "JPY -5"},
		{"USD", math.MinInt64, "USD -92,233,720,368,547,758.08"},
		{"GBP", math.MaxInt64, "GBP 92,233,720,368,547,758.07"},
	} {
		if got := FormatMoney(c.cur, c.minor); got != c.want {
			t.Errorf("FormatMoney(%s, %d) = %q, want %q", c.cur, c.minor, got, c.want)
		}
	}
}

func TestNumberFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{groupInt(0), "0"},
		{groupInt(999), "999"},
		{groupInt(1000), "1,000"},
		{groupInt(-1234567), "-1,234,567"},
		{groupFloat(4998.34), "4,998.3"},
		{groupFloat(-0.25), "-0.2"},
		{formatLatency(420 * time.Microsecond), "0.42ms"},
		{formatLatency(3100 * time.Microsecond), "3.1ms"},
		{formatLatency(1250 * time.Millisecond), "1.25s"},
		{formatBytes(512), "512 B"},
		{formatBytes(85 << 20), "85.0 MiB"},
		{formatBytes(1536), "1.5 KiB"},
		{formatSpan(0), "0s"},
		{formatSpan(90 * time.Second), "1m30s"},
		{formatSpan(time.Hour + 2*time.Minute), "1h2m"},
		{formatSpan(500 * time.Millisecond), "0.5s"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
