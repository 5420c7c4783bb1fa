package report

import (
	"maps"
	"slices"
	"time"
)

// DayBilling is the billing events of one simulated day: the UTC date of
// their occurred_at, the command's effective (simulated) time.
type DayBilling struct {
	Day           string           `json:"day"` // YYYY-MM-DD
	Charges       int64            `json:"charges"`
	Credits       int64            `json:"credits"`
	ChargedMinor  map[string]int64 `json:"charged_minor"`  // by currency; nil when none
	CreditedMinor map[string]int64 `json:"credited_minor"` // by currency; nil when none
}

const dayLayout = "2006-01-02"

// bookDay adds a charge or credit to its day. Caller holds r.mu.
func (r *Recorder) bookDay(kind, currency string, amountMinor int64, occurredAt time.Time) {
	day := occurredAt.UTC().Format(dayLayout)
	d := r.days[day]
	if d == nil {
		d = &DayBilling{Day: day}
		r.days[day] = d
	}
	switch kind {
	case "charge":
		d.Charges++
		d.ChargedMinor = addMinor(d.ChargedMinor, currency, amountMinor)
	case "credit":
		d.Credits++
		d.CreditedMinor = addMinor(d.CreditedMinor, currency, amountMinor)
	}
}

// billingByDay is the days in date order. Caller holds r.mu.
func (r *Recorder) billingByDay() []DayBilling {
	var out []DayBilling
	for _, day := range slices.Sorted(maps.Keys(r.days)) {
		d := *r.days[day]
		d.ChargedMinor, d.CreditedMinor = maps.Clone(d.ChargedMinor), maps.Clone(d.CreditedMinor)
		out = append(out, d)
	}
	return out
}

// DayTotals sums BillingByDay: what Charges, Credits, ChargedMinor and
// CreditedMinor say for the whole run (Day is empty).
func (s Summary) DayTotals() DayBilling {
	var t DayBilling
	for _, d := range s.BillingByDay {
		t.Charges += d.Charges
		t.Credits += d.Credits
		for c, v := range d.ChargedMinor {
			t.ChargedMinor = addMinor(t.ChargedMinor, c, v)
		}
		for c, v := range d.CreditedMinor {
			t.CreditedMinor = addMinor(t.CreditedMinor, c, v)
		}
	}
	return t
}

// addMinor adds v to m[currency], making m on first use.
func addMinor(m map[string]int64, currency string, v int64) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	m[currency] += v
	return m
}
