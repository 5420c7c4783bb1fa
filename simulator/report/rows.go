package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// row is one line of the numbers table; the text and the HTML report are
// both written from the same rows so they cannot disagree.
type row struct {
	Key, Value string
	Sub        bool // a breakdown of the row above
}

const timeLayout = "2006-01-02 15:04:05.000 MST"

func (s Summary) rows() []row {
	var rs []row
	add := func(k, v string) { rs = append(rs, row{Key: k, Value: v}) }
	sub := func(k, v string) { rs = append(rs, row{Key: k, Value: v, Sub: true}) }

	add("start", s.Start.Format(timeLayout))
	add("end", s.End.Format(timeLayout))
	add("duration", formatSpan(s.End.Sub(s.Start)))
	if len(s.Pauses) > 0 {
		var paused time.Duration
		for _, p := range s.Pauses {
			paused += p.To - p.From
		}
		spans := "spans"
		if len(s.Pauses) == 1 {
			spans = "span"
		}
		add("paused on purpose", fmt.Sprintf("%s in %s %s", formatSpan(paused), groupInt(int64(len(s.Pauses))), spans))
	}
	add("commands sent", groupInt(s.Sent))
	add("commands completed", groupInt(s.Completed))
	add("in flight at end", groupInt(s.Sent-s.Completed))
	if s.Lost > 0 {
		add("lost (no event in time)", groupInt(s.Lost))
	}
	add("throughput", groupFloat(s.Throughput)+" completed/s")
	add("latency p50", formatLatency(s.LatencyP50))
	add("latency p90", formatLatency(s.LatencyP90))
	add("latency p95", formatLatency(s.LatencyP95))
	add("latency p99", formatLatency(s.LatencyP99))
	add("latency p99.9", formatLatency(s.LatencyP999))
	add("latency max", formatLatency(s.LatencyMax))
	add("latency mean", formatLatency(s.LatencyMean))

	var rejected int64
	for _, n := range s.Rejections {
		rejected += n
	}
	add("rejections", groupInt(rejected))
	for _, code := range byCountDesc(s.Rejections) {
		sub(code, groupInt(s.Rejections[code]))
	}
	add("charges", groupInt(s.Charges)+moneyList(s.ChargedMinor, s.CurrencyExponents))
	add("credits", groupInt(s.Credits)+moneyList(s.CreditedMinor, s.CurrencyExponents))
	if len(s.BillingByDay) > 0 {
		busiest := s.BillingByDay[0]
		for _, d := range s.BillingByDay {
			if d.Charges+d.Credits > busiest.Charges+busiest.Credits {
				busiest = d
			}
		}
		add("simulated days with billing", fmt.Sprintf("%s (most on %s: %s charges, %s credits)", groupInt(int64(len(s.BillingByDay))),
			busiest.Day, groupInt(busiest.Charges), groupInt(busiest.Credits)))
	}
	add("ledger mismatches", groupInt(s.Mismatches))
	if len(s.RulesChecked) > 0 {
		var n int64
		for _, c := range s.RulesChecked {
			n += c
		}
		add("checked events by money rule", groupInt(n)+" (an event counts for each rule it reached)")
		for _, id := range slices.Sorted(maps.Keys(s.RulesChecked)) {
			sub(id, groupInt(s.RulesChecked[id]))
		}
	}

	if s.Redeliveries != 0 {
		add("redeliveries", groupInt(s.Redeliveries))
	}
	if s.DeadLetters != 0 {
		add("dead letters", groupInt(s.DeadLetters))
	}
	if s.ProcessorRSSBytes != 0 {
		add("processor RSS", formatBytes(s.ProcessorRSSBytes))
	}
	if s.ProcessorPeakRSSBytes != 0 {
		add("processor peak RSS", formatBytes(s.ProcessorPeakRSSBytes))
	}
	if s.RedisUsedMemoryBytes != 0 {
		add("Redis used memory", formatBytes(s.RedisUsedMemoryBytes))
	}
	if s.Subscriptions != 0 {
		add("subscriptions", groupInt(s.Subscriptions))
		if s.RedisUsedMemoryBytes != 0 {
			add("Redis memory per subscription", formatBytes(s.RedisUsedMemoryBytes/s.Subscriptions))
		}
	}
	if s.Redis != nil {
		redisRows(s.Redis, add, sub)
	}
	return rs
}

// moneyList writes " (USD 1,234.56, EUR 10.00)" in currency order, or
// nothing when there is no amount. exps are the currencies' exponents
// (CurrencyExponent for a currency not in it).
func moneyList(byCurrency map[string]int64, exps map[string]int) string {
	if len(byCurrency) == 0 {
		return ""
	}
	parts := make([]string, 0, len(byCurrency))
	for _, c := range slices.Sorted(maps.Keys(byCurrency)) {
		exp, ok := exps[c]
		if !ok {
			exp = CurrencyExponent(c)
		}
		parts = append(parts, FormatMoneyExp(c, byCurrency[c], exp))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// byCountDesc orders keys by count, largest first, then by name.
func byCountDesc(m map[string]int64) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b))
	})
	return keys
}
