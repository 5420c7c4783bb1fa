package rules

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
)

// legacyRefund is an entry of the per-refund ledger earlier versions
// stored in the refunds field: the format decodeRefunds still reads.
type legacyRefund struct {
	At             time.Time `json:"at"`
	CapMinor       int64     `json:"cap_minor"`
	CapCurrency    string    `json:"cap_currency"`
	AmountMinor    int64     `json:"amount_minor"`
	Currency       string    `json:"currency"`
	SubscriptionID string    `json:"subscription_id"`
	ReservationID  string    `json:"reservation_id"`
	Kind           string    `json:"kind"`
}

func (e legacyRefund) dayRefund() DayRefund {
	return DayRefund{At: e.At, CapMinor: e.CapMinor, AmountMinor: e.AmountMinor, Currency: e.Currency}
}

// legacyLedger is the day ledger a per-refund ledger stored by an earlier
// version decodes to.
func legacyLedger(t testing.TB, entries ...legacyRefund) []RefundDay {
	t.Helper()
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	st, err := DecodeState(map[string][]byte{fieldRefunds: b})
	if err != nil {
		t.Fatalf("legacy ledger: %v", err)
	}
	return st.Refunds
}

// perRefundCap is the cap as the per-refund ledger answered it: every
// refund made after the window's start counts, converted when paid, or at
// today's rate when the cap's currency changed since.
func perRefundCap(ledger []legacyRefund, pol catalog.ReservationPolicy, now time.Time, currency string, amount int64) (counted, headroom int64, ok bool) {
	counted, _ = pol.ToCapCurrency(currency, amount)
	from := now.Add(-time.Duration(pol.RefundCapWindowDays) * day)
	var spent int64
	for _, e := range ledger {
		if !e.At.After(from) {
			continue
		}
		c := e.CapMinor
		if e.CapCurrency != pol.RefundCapCurrency {
			c, _ = pol.ToCapCurrency(e.Currency, e.AmountMinor)
		}
		spent += c
	}
	headroom = max(pol.RefundCapMinor-spent, 0)
	if counted > headroom {
		return counted, headroom, false
	}
	return counted, headroom - counted, true
}

// capDecision is a decision at now on a ledger, under a policy.
func capDecision(pol catalog.ReservationPolicy, now time.Time, ledger []RefundDay) *decision {
	cat := &catalog.Catalog{}
	cat.Policy.Reservations = pol
	return &decision{in: Input{Now: now, Catalog: cat}, state: CustomerState{Refunds: ledger}}
}

// capPolicy is the cap of USD 50,000 over window days, EUR counted at
// 1.08 and USD, when the cap is in EUR, at 100/108.
func capPolicy(window int, capCurrency string) catalog.ReservationPolicy {
	return catalog.ReservationPolicy{RefundCapMinor: 5_000_000, RefundCapCurrency: capCurrency, RefundCapWindowDays: window,
		RefundCapRates: map[string]catalog.Ratio{"EUR": {Numerator: 108, Denominator: 100}, "USD": {Numerator: 100, Denominator: 108}}}
}

// CAN-5: the day ledger answers every refund exactly as the per-refund
// ledger did (accepted or refused, the amount counted, the headroom), on
// random sequences whose refunds often fall on the window's edge: exactly
// one window before another, a nanosecond either side, the same day
// earlier or later. The cap's currency changes now and then, and the
// customer pays in USD or EUR.
func TestRule_CAN_5_DayLedgerAnswersAsThePerRefundLedger(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 365))
	checked, refused, edge := 0, 0, 0
	for seq := range 400 {
		window := []int{1, 2, 7, 30, 365, 366, 1 + rng.IntN(400)}[rng.IntN(7)]
		capCurrency := "USD"
		var old []legacyRefund
		var ledger []RefundDay
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(day))))
		for step := range 120 {
			w := time.Duration(window) * day
			switch k := rng.IntN(10); {
			case k < 4 && len(old) > 0: // onto the window's edge of an earlier refund
				at := old[rng.IntN(len(old))].At.Add(w)
				at = at.Add([]time.Duration{0, time.Nanosecond, -time.Nanosecond, time.Hour, -time.Hour, 3 * time.Hour}[rng.IntN(6)])
				if at.After(now) {
					now, edge = at, edge+1
				}
			case k < 7:
				now = now.Add(time.Duration(rng.Int64N(int64(6 * time.Hour))))
			default:
				now = now.Add(time.Duration(rng.Int64N(int64(w + 2*day))))
			}
			if rng.IntN(40) == 0 { // the policy's cap currency changes
				capCurrency = map[string]string{"USD": "EUR", "EUR": "USD"}[capCurrency]
			}
			pol := capPolicy(window, capCurrency)
			currency := []string{"USD", "EUR"}[rng.IntN(2)]
			amount := 1 + rng.Int64N(3_000_000)
			if rng.IntN(3) == 0 {
				amount = 1 + rng.Int64N(300)
			}
			wantCounted, wantHeadroom, wantOK := perRefundCap(old, pol, now, currency, amount)
			d := capDecision(pol, now, ledger)
			counted, headroom, rej := d.refundCap(currency, amount)
			checked++
			if (rej == nil) != wantOK || counted != wantCounted || headroom != wantHeadroom {
				t.Fatalf("sequence %d step %d at %s (window %d, cap in %s): %d %s gives counted %d headroom %d refused %v; the per-refund ledger: %d %d %v\nledger %+v",
					seq, step, now, window, capCurrency, amount, currency, counted, headroom, rej != nil, wantCounted, wantHeadroom, !wantOK, ledger)
			}
			if rej != nil {
				refused++
				if rej.Data["headroom_minor"] != itoa(int(wantHeadroom)) {
					t.Fatalf("rejection data %v, want headroom %d", rej.Data, wantHeadroom)
				}
				continue
			}
			d.recordRefund(&Subscription{Currency: currency}, amount, counted)
			ledger = d.state.Refunds
			old = append(old, legacyRefund{At: now, CapMinor: counted, CapCurrency: capCurrency, AmountMinor: amount, Currency: currency})
		}
	}
	if refused < checked/20 || edge < checked/25 {
		t.Fatalf("%d answers, %d refused, %d on a window's edge: the sequences do not reach the cap or the edge", checked, refused, edge)
	}
}

// CAN-5: the ledger keeps only the days of the cap's window: after three
// years of refunds, several a day, it holds at most the window's days
// plus one, and its refunds are the window's.
func TestRule_CAN_5_LedgerHoldsOneWindowOfDays(t *testing.T) {
	pol := capPolicy(365, "USD")
	var ledger []RefundDay
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	end := now.AddDate(3, 0, 0)
	for ; now.Before(end); now = now.Add(7 * time.Hour) {
		d := capDecision(pol, now, ledger)
		counted, _, rej := d.refundCap("USD", 1)
		if rej != nil {
			t.Fatalf("%s: %+v", now, rej)
		}
		d.recordRefund(&Subscription{Currency: "USD"}, 1, counted)
		ledger = d.state.Refunds
		if len(ledger) > 366 {
			t.Fatalf("%s: %d days in the ledger", now, len(ledger))
		}
	}
	refunds := 0
	for _, b := range ledger {
		refunds += len(b.Refunds)
	}
	if len(ledger) < 365 || refunds > 366*24/7+1 {
		t.Fatalf("%d days, %d refunds", len(ledger), refunds)
	}
}

// CAN-5: a ledger stored as one entry per refund decodes into day
// buckets (and answers the same, see the property test); the next
// refund writes it in day buckets, without the days that left the window.
func TestRule_CAN_5_PerRefundLedgerIsConvertedOnTheNextRefund(t *testing.T) {
	at := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	ledger := legacyLedger(t,
		legacyRefund{At: at.AddDate(-2, 0, 0), CapMinor: 100, CapCurrency: "USD", AmountMinor: 100, Currency: "USD", Kind: "cancellation"},
		legacyRefund{At: at, CapMinor: 108, CapCurrency: "USD", AmountMinor: 100, Currency: "EUR", SubscriptionID: "s1", Kind: "cancellation"},
		legacyRefund{At: at.Add(time.Hour), CapMinor: 50, CapCurrency: "USD", AmountMinor: 50, Currency: "USD", Kind: "exchange"})
	want := []RefundDay{
		{Day: dateOf(at.AddDate(-2, 0, 0)), CapMinor: 100, CapCurrency: "USD", Refunds: []DayRefund{{At: at.AddDate(-2, 0, 0), CapMinor: 100, AmountMinor: 100, Currency: "USD"}}},
		{Day: dateOf(at), CapMinor: 158, CapCurrency: "USD", Refunds: []DayRefund{
			{At: at, CapMinor: 108, AmountMinor: 100, Currency: "EUR"}, {At: at.Add(time.Hour), CapMinor: 50, AmountMinor: 50, Currency: "USD"}}},
	}
	if !reflect.DeepEqual(ledger, want) {
		t.Fatalf("decoded %+v, want %+v", ledger, want)
	}
	d := capDecision(capPolicy(365, "USD"), at.Add(2*time.Hour), ledger)
	d.recordRefund(&Subscription{Currency: "USD"}, 7, 7)
	fields, err := d.state.EncodeFields([]string{fieldRefunds})
	if err != nil {
		t.Fatal(err)
	}
	var stored []map[string]any
	if err := json.Unmarshal(fields[fieldRefunds], &stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0]["day"] != "2026-03-10T00:00:00Z" || stored[0]["cap_minor"] != float64(165) || stored[0]["at"] != nil {
		t.Fatalf("stored %s", fields[fieldRefunds])
	}
	back, err := DecodeState(fields)
	if err != nil || !reflect.DeepEqual(back.Refunds, d.state.Refunds) {
		t.Fatalf("read back %+v %v, want %+v", back.Refunds, err, d.state.Refunds)
	}
}
