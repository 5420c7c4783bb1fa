package rules

import (
	"fmt"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
)

// The reservation refund ledger (CAN-5's cap), kept per UTC day.
//
// Decisions:
//   - The cap counts the refunds paid out in the rolling window of the
//     policy's days ending at the decision's instant: a refund made
//     exactly one window ago no longer counts, one made a nanosecond later
//     still does. The ledger keeps one bucket per UTC day (and cap
//     currency) with the day's sum as counted against the cap.
//   - Every day wholly inside the window counts by its sum. The window's
//     start falls inside one day, the edge day, and only that day's
//     refunds made after the start count; so each bucket also keeps its
//     refunds' instants and amounts (no IDs: the billing events carry
//     those). A day's sum alone cannot answer for the edge: any day
//     becomes the edge day one window after it, at every time of day.
//     Counting the edge day whole (as GEN-2 counts a started day) would
//     refuse some refunds the instant window accepts; keeping the
//     instants keeps the answer exact.
//   - A refund counts in the cap's currency as converted when it was paid
//     (rounded up). After the policy's cap currency changes, earlier
//     refunds count at the current rate from what was paid, each rounded
//     up on its own, as they would have been converted then.
//   - A day leaves the ledger when a refund is recorded after it has left
//     the window (days before the day of the window's start), so the
//     ledger holds at most the window's days plus one. A later longer
//     window does not bring pruned days back.
//   - A ledger written as one entry per refund (at, cap_minor,
//     cap_currency, amount_minor, currency and IDs) still decodes: its
//     entries are grouped into day buckets, and the next refund writes
//     the ledger in day buckets.

// RefundDay is the reservation refunds paid out on one UTC day, under one
// cap currency (CAN-5).
type RefundDay struct {
	// Day is 00:00 UTC of the day.
	Day time.Time `json:"day"`
	// CapMinor is the day's refunds as they count against the cap, in
	// CapCurrency's minor units (each converted when paid, rounded up).
	CapMinor    int64  `json:"cap_minor"`
	CapCurrency string `json:"cap_currency"`
	// Refunds are the day's refunds, for the day the window's start falls
	// in and for a change of the cap's currency.
	Refunds []DayRefund `json:"refunds"`
}

// DayRefund is one refund of a RefundDay.
type DayRefund struct {
	At time.Time `json:"at"`
	// CapMinor is the refund in the day's CapCurrency.
	CapMinor int64 `json:"cap_minor"`
	// AmountMinor is the refund as paid, in Currency.
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
}

// storedRefund is one element of the stored ledger: a RefundDay, or an
// entry of the former per-refund ledger (At set, Day not).
type storedRefund struct {
	Day         *time.Time  `json:"day"`
	CapMinor    int64       `json:"cap_minor"`
	CapCurrency string      `json:"cap_currency"`
	Refunds     []DayRefund `json:"refunds"`
	At          time.Time   `json:"at"`
	AmountMinor int64       `json:"amount_minor"`
	Currency    string      `json:"currency"`
}

// decodeRefunds reads the stored ledger, in either format.
func decodeRefunds(b []byte, unmarshal func([]byte, any) error) ([]RefundDay, error) {
	var stored []storedRefund
	if err := unmarshal(b, &stored); err != nil {
		return nil, err
	}
	var days []RefundDay
	for _, s := range stored {
		if s.Day != nil {
			days = append(days, RefundDay{Day: *s.Day, CapMinor: s.CapMinor, CapCurrency: s.CapCurrency, Refunds: s.Refunds})
			continue
		}
		if s.At.IsZero() {
			return nil, fmt.Errorf("a refund with neither day nor at")
		}
		days = addRefund(days, s.CapCurrency, DayRefund{At: s.At, CapMinor: s.CapMinor, AmountMinor: s.AmountMinor, Currency: s.Currency})
	}
	return days, nil
}

// addRefund adds a refund to its day's bucket (a copy of the ledger: the
// state a decision was given is never changed), keeping the buckets in
// day order.
func addRefund(days []RefundDay, capCurrency string, r DayRefund) []RefundDay {
	day := dateOf(r.At)
	out := slices.Clone(days)
	i := slices.IndexFunc(out, func(b RefundDay) bool { return b.Day.Equal(day) && b.CapCurrency == capCurrency })
	if i < 0 {
		out = append(out, RefundDay{Day: day, CapCurrency: capCurrency})
		i = len(out) - 1
	}
	b := &out[i]
	b.CapMinor += r.CapMinor
	b.Refunds = append(slices.Clip(b.Refunds), r)
	slices.SortStableFunc(out, func(a, b RefundDay) int { return a.Day.Compare(b.Day) })
	return out
}

// pruneRefunds drops the days wholly before from, the window's start:
// none of their refunds counts again.
func pruneRefunds(days []RefundDay, from time.Time) []RefundDay {
	edge := dateOf(from)
	return slices.DeleteFunc(days, func(b RefundDay) bool { return b.Day.Before(edge) })
}

// refundsSince is what the ledger's refunds made after from count against
// the cap, in the policy's cap currency.
func refundsSince(days []RefundDay, from time.Time, pol catalog.ReservationPolicy) int64 {
	edge := dateOf(from)
	var spent int64
	for _, b := range days {
		switch {
		case b.Day.Before(edge):
		case b.Day.After(edge) && b.CapCurrency == pol.RefundCapCurrency:
			spent += b.CapMinor // every refund of a day after the edge day is after from
		default:
			for _, r := range b.Refunds {
				if !r.At.After(from) {
					continue
				}
				c := r.CapMinor
				if b.CapCurrency != pol.RefundCapCurrency { // the cap's currency changed since: count at today's rate
					c, _ = pol.ToCapCurrency(r.Currency, r.AmountMinor)
				}
				spent += c
			}
		}
	}
	return spent
}
