package catalog

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
)

// CommerceTypeReservation is the commerce type of Azure reservation offers
// (GEN-5; Partner Center's pages on selling software and on Azure
// reservations): a reservation of a number of instances of
// one resource size in one region for P1Y or P3Y, paid up front
// (one_time) or monthly. It never renews; it is cancelled with CAN-5's
// refund or exchanged (CAN-6), and only commercial customers outside the
// unavailable markets may buy it (ORD-5).
const CommerceTypeReservation = "azure_reservation"

// ReservationSpec describes a reservation offer: what it reserves. The
// quantity of a line is the number of instances (ORD-6 bounds apply). For
// a reservation offer, cancel_window_hours is CAN-5's full-refund window
// (Partner Center: 5 days = 120 hours; whole days, since "days since purchase"
// counts every started day, GEN-2): cancelled within it, an unused
// reservation is refunded 100% and a used one prorated, without fee. CAN-1
// does not apply to reservations.
type ReservationSpec struct {
	// ResourceType is the kind of Azure resource the reservation
	// discounts, e.g. "virtual_machines" or "sql_database": lowercase
	// letters, digits and underscores. An exchange stays within one
	// resource type (CAN-6 Decision).
	ResourceType string `json:"resource_type"`
	// SKU is the instance size or capacity unit reserved, e.g.
	// "Standard_D2s_v5" (letters, digits, '_', '-', '.').
	SKU string `json:"sku"`
	// Region is the Azure region, e.g. "westeurope" (lowercase letters
	// and digits).
	Region string `json:"region"`
}

// ReservationPolicy is the catalog policy of reservation offers. It is
// required when the catalog sells a reservation offer.
type ReservationPolicy struct {
	// UnavailableCountries are the markets where reservations are not
	// available (ORD-5): Partner Center's list of 109 countries and territories,
	// each with its ISO 3166-1 alpha-2 code. Several entries of the list
	// share a code (Svalbard and Jan Mayen: SJ; Bonaire, Saba and Sint
	// Eustatius: BQ); Kosovo uses the user-assigned code XK.
	UnavailableCountries []Market `json:"unavailable_countries"`
	// EarlyTerminationFeePercent is CAN-5's fee after the offer's
	// full-refund days (its cancel_window_hours / 24), a percentage of the
	// remaining prorated balance (Partner Center: 12).
	EarlyTerminationFeePercent int `json:"early_termination_fee_percent"`
	// RefundCapMinor is CAN-5's refund cap per customer over a rolling
	// RefundCapWindowDays, in RefundCapCurrency's minor units (Partner
	// Center: USD 50,000 "per year"; the catalogue's decision: rolling 365
	// days).
	RefundCapMinor      int64  `json:"refund_cap_minor"`
	RefundCapCurrency   string `json:"refund_cap_currency"`
	RefundCapWindowDays int    `json:"refund_cap_window_days"`
	// RefundCapRates converts a refund in another catalog currency into
	// RefundCapCurrency: one minor unit of the currency is worth
	// Numerator/Denominator minor units of RefundCapCurrency (so the
	// minor-unit exponents are folded in: EUR 108/100 is 1 EUR = 1.08 USD;
	// JPY 67/100 is 1 JPY = 0.0067 USD). Every catalog currency other than
	// RefundCapCurrency needs one; RefundCapCurrency itself is not listed.
	RefundCapRates map[string]Ratio `json:"refund_cap_rates"`
}

// Market is one entry of the unavailable-markets list (ORD-5).
type Market struct {
	// Code is the ISO 3166-1 alpha-2 code the customer's billing country
	// is compared with.
	Code string `json:"code"`
	// Name is the market as Partner Center names it.
	Name string `json:"name"`
}

// Ratio is an exact conversion rate between minor units: no floats on a
// money path (GEN-3).
type Ratio struct {
	Numerator   int64 `json:"numerator"`
	Denominator int64 `json:"denominator"`
}

// Limits of the reservation policy.
const (
	maxRefundCapWindowDays    = 3660
	reservationSegment        = "commercial" // Partner Center: commercial customers only
	maxReservationRatioFactor = 1_000_000_000
)

var (
	resourceTypePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	reservationSKU      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	regionPattern       = regexp.MustCompile(`^[a-z][a-z0-9]{0,63}$`)
)

// UnavailableIn returns the names of the unavailable markets with the
// billing country's code (ORD-5), or nil when reservations may be sold
// there.
func (p ReservationPolicy) UnavailableIn(country string) []string {
	var names []string
	for _, m := range p.UnavailableCountries {
		if m.Code == country {
			names = append(names, m.Name)
		}
	}
	return names
}

// ToCapCurrency converts an amount in a currency's minor units into the
// refund cap's currency, rounded up so that a refund never counts for less
// than it is worth (CAN-5). ok is false for a currency without a rate.
func (p ReservationPolicy) ToCapCurrency(currency string, amount int64) (int64, bool) {
	if currency == p.RefundCapCurrency {
		return amount, true
	}
	r, ok := p.RefundCapRates[currency]
	if !ok || r.Denominator <= 0 || r.Numerator <= 0 {
		return 0, false
	}
	if amount <= 0 {
		return 0, true
	}
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(r.Numerator))
	num.Add(num, big.NewInt(r.Denominator-1))
	return num.Quo(num, big.NewInt(r.Denominator)).Int64(), true
}

// reservationPlan is the one exception to ValidPair: a reservation is
// paid up front (one_time) for its P1Y or P3Y term, or monthly (which
// ValidPair already allows).
func reservationPlan(o *Offer, p *Plan) bool {
	return o.CommerceType == CommerceTypeReservation && p.BillingFrequency == BillingOneTime &&
		(p.Term == TermP1Y || p.Term == TermP3Y)
}

func init() { registerCommerceType(CommerceTypeReservation, validateReservationOffer) }

// validateReservationOffer checks what only reservation offers have: a
// reservation spec, license billing (quantity = instances), commercial
// customers only (ORD-3), P1Y/P3Y plans paid one_time or monthly, and
// no trial, add-on or upgrade path. Any other offer must not carry a
// reservation spec.
func validateReservationOffer(c *Catalog, ps *problemList, o *Offer) {
	if o.CommerceType != CommerceTypeReservation {
		if o.Reservation != nil {
			ps.Add("reservation", "only an %s offer has a reservation spec", CommerceTypeReservation)
		}
		return
	}
	if r := o.Reservation; r == nil {
		ps.Add("reservation", "an %s offer needs {resource_type, sku, region}", CommerceTypeReservation)
	} else {
		if !resourceTypePattern.MatchString(r.ResourceType) {
			ps.Add("reservation.resource_type", "%q must be lowercase letters, digits and underscores, e.g. virtual_machines", r.ResourceType)
		}
		if !reservationSKU.MatchString(r.SKU) {
			ps.Add("reservation.sku", "%q must be 1-64 letters, digits, '_', '-' or '.', e.g. Standard_D2s_v5", r.SKU)
		}
		if !regionPattern.MatchString(r.Region) {
			ps.Add("reservation.region", "%q must be an Azure region name, e.g. westeurope", r.Region)
		}
	}
	if o.BillingType != BillingTypeLicense {
		ps.Add("billing_type", "a reservation is sold by instances: must be %s, got %q", BillingTypeLicense, o.BillingType)
	}
	for i, s := range o.Segments {
		if s != reservationSegment {
			ps.Add(fmt.Sprintf("segments[%d]", i), "reservations are sold to %s customers only (ORD-3), not %q", reservationSegment, s)
		}
	}
	if o.Trial != nil || o.Addon != nil || len(o.UpgradePaths) > 0 || o.Free {
		ps.Add("commerce_type", "a reservation offer cannot be a trial, an add-on, free or have upgrade paths (exchange it instead, CAN-6)")
	}
	for i, p := range o.Plans {
		if (p.Term != TermP1Y && p.Term != TermP3Y) || (p.BillingFrequency != BillingOneTime && p.BillingFrequency != BillingMonthly) {
			ps.Add(fmt.Sprintf("plans[%d]", i), "a reservation is sold for P1Y or P3Y, paid one_time (up front) or monthly, not %s %s", p.Term, p.BillingFrequency)
		}
	}
	if o.CancelWindowHours%24 != 0 {
		ps.Add("cancel_window_hours", "for a reservation it is CAN-5's full-refund window in whole days (Partner Center: 120 = 5 days), got %d", o.CancelWindowHours)
	}
}

// validateReservationPolicy checks policy.reservations. It is required when
// the catalog sells a reservation offer, and checked whenever it is set.
func (c *Catalog) validateReservationPolicy(ps *problemList) {
	p := &c.Policy.Reservations
	sells := slices.ContainsFunc(c.Offers, func(o Offer) bool { return o.CommerceType == CommerceTypeReservation })
	if !sells && p.zero() {
		return
	}
	if p.zero() {
		ps.Add("policy.reservations", "required when the catalog sells %s offers (ORD-5 markets, CAN-5 fee and refund cap)", CommerceTypeReservation)
		return
	}
	const f = "policy.reservations."
	if len(p.UnavailableCountries) == 0 {
		ps.Add(f+"unavailable_countries", "must list the markets where reservations are not available (ORD-5)")
	}
	names := map[string]int{}
	for i, m := range p.UnavailableCountries {
		field := fmt.Sprintf(f+"unavailable_countries[%d]", i)
		if !countryPattern.MatchString(m.Code) {
			ps.Add(field+".code", "%q must be an ISO 3166-1 alpha-2 code (2 uppercase letters)", m.Code)
		}
		key := strings.ToLower(strings.TrimSpace(m.Name))
		if key == "" {
			ps.Add(field+".name", "must not be empty")
		} else if j, dup := names[key]; dup {
			ps.Add(field+".name", "duplicate of %sunavailable_countries[%d] (%s)", f, j, m.Name)
		} else {
			names[key] = i
		}
	}
	if p.EarlyTerminationFeePercent < 0 || p.EarlyTerminationFeePercent > 100 {
		ps.Add(f+"early_termination_fee_percent", "must be 0..100 (CAN-5: 12), not %d", p.EarlyTerminationFeePercent)
	}
	if p.RefundCapMinor < 1 {
		ps.Add(f+"refund_cap_minor", "must be at least 1 (CAN-5: USD 50,000 is 5000000), not %d", p.RefundCapMinor)
	}
	if p.RefundCapWindowDays < 1 || p.RefundCapWindowDays > maxRefundCapWindowDays {
		ps.Add(f+"refund_cap_window_days", "must be 1..%d (CAN-5: 365), not %d", maxRefundCapWindowDays, p.RefundCapWindowDays)
	}
	if _, ok := c.Currencies[p.RefundCapCurrency]; !ok {
		ps.Add(f+"refund_cap_currency", "%q is not a catalog currency", p.RefundCapCurrency)
	}
	for _, code := range slices.Sorted(maps.Keys(c.Currencies)) {
		if _, ok := p.RefundCapRates[code]; !ok && code != p.RefundCapCurrency {
			ps.Add(fmt.Sprintf(f+"refund_cap_rates[%q]", code), "missing: every catalog currency other than %s needs a rate to count refunds against the cap", p.RefundCapCurrency)
		}
	}
	for _, code := range slices.Sorted(maps.Keys(p.RefundCapRates)) {
		field := fmt.Sprintf(f+"refund_cap_rates[%q]", code)
		r := p.RefundCapRates[code]
		switch _, known := c.Currencies[code]; {
		case code == p.RefundCapCurrency:
			ps.Add(field, "the cap's own currency takes no rate")
		case !known:
			ps.Add(field, "currency is not in the catalog's currencies")
		case r.Numerator < 1 || r.Denominator < 1 || r.Numerator > maxReservationRatioFactor || r.Denominator > maxReservationRatioFactor:
			ps.Add(field, "numerator and denominator must be 1..%d, got %d/%d", maxReservationRatioFactor, r.Numerator, r.Denominator)
		}
	}
}

func (p *ReservationPolicy) zero() bool {
	return len(p.UnavailableCountries) == 0 && p.EarlyTerminationFeePercent == 0 &&
		p.RefundCapMinor == 0 && p.RefundCapCurrency == "" && p.RefundCapWindowDays == 0 && len(p.RefundCapRates) == 0
}
