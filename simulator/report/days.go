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
	add := func(m *map[string]int64) {
		if *m == nil {
			*m = map[string]int64{}
		}
		(*m)[currency] += amountMinor
	}
	switch kind {
	case "charge":
		d.Charges++
		add(&d.ChargedMinor)
	case "credit":
		d.Credits++
		add(&d.CreditedMinor)
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
