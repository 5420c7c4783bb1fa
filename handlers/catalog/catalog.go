// Package catalog is the offer catalog and programme policy as data
// (deployments/catalog/catalog.json): offers, plans and prices in minor
// units, segments, one-per-customer flags, cancellation windows and the
// policy limits that the rule catalogue says an operator must be able to
// change without a release.
package catalog

import "time"

// Catalog is the loaded, validated catalog. Build it with Load or Parse
// only: they index the offers and validate every entry.
type Catalog struct {
	Version    string              `json:"version"`
	Currencies map[string]Currency `json:"currencies"`
	Policy     Policy              `json:"policy"`
	Offers     []Offer             `json:"offers"`

	byID map[string]*Offer
}

// Currency describes one ISO 4217 currency the catalog prices in.
type Currency struct {
	// Exponent is the number of minor-unit digits: 2 for USD (cents),
	// 0 for JPY.
	Exponent int `json:"exponent"`
}

// Policy holds programme-wide limits (not per offer).
type Policy struct {
	// TaxInclusiveCountries are billing countries whose prices include tax
	// (ORD-11: AU, BR).
	TaxInclusiveCountries []string `json:"tax_inclusive_countries"`
	// Segments are the customer segments the programme knows (ORD-3).
	Segments []string `json:"segments"`
	// RenewalProcessingMinutes is how long a renewal stays pending after it
	// starts at 00:00 UTC the day after the term end (REN-2: "may take up
	// to 24 hours"; REN-4: some changes conflict meanwhile). 0 completes
	// renewals at once.
	RenewalProcessingMinutes int `json:"renewal_processing_minutes"`
	// ConflictRetryMinutes bounds how long a command that conflicts with a
	// pending renewal is kept and retried before it is rejected with
	// conflict (REN-4 Decision); 0 rejects at once.
	// ConflictRetryInitialSeconds is the first retry delay; each next one
	// doubles (exponential backoff, no jitter, so decisions stay
	// deterministic).
	ConflictRetryMinutes        int `json:"conflict_retry_minutes"`
	ConflictRetryInitialSeconds int `json:"conflict_retry_initial_seconds"`
	// Marketplace, Software and Reservations are the policies of those
	// commerce types (see marketplace.go, software.go, reservation.go).
	Marketplace  MarketplacePolicy `json:"marketplace,omitzero"`
	Software     SoftwarePolicy    `json:"software,omitzero"`
	Reservations ReservationPolicy `json:"reservations,omitzero"`
	// MaxSubscriptionUpdates is QTY-4's limit (1,200).
	MaxSubscriptionUpdates int `json:"max_subscription_updates"`
	// MaxSubscriptionsPerCustomer is ORD-12's limit: the most active and
	// suspended subscriptions a customer may hold, across partners; an
	// order line that would pass it is rejected (see rules/limits.go).
	// 0 (absent) sets no limit.
	MaxSubscriptionsPerCustomer int `json:"max_subscriptions_per_customer,omitzero"`
	// UnsupportedUpgrades is Partner Center's table of upgrades that are not
	// supported even where a path might be expected (UPG-2).
	UnsupportedUpgrades []UpgradePair `json:"unsupported_upgrades,omitzero"`
	// LegacyDataRetentionDays is how long a suspended legacy subscription
	// keeps its data before it is deleted (SUS-2: 90 days). The days
	// between the customer's account opening and its first billing are
	// added, up to LegacyDataRetentionMaxDays in all (SUS-2: 120). Both
	// are required when the catalog sells a legacy offer.
	LegacyDataRetentionDays    int `json:"legacy_data_retention_days,omitzero"`
	LegacyDataRetentionMaxDays int `json:"legacy_data_retention_max_days,omitzero"`
	// TransferRequestExpiryDays is how long a requested transfer between
	// partners waits for the source partner's answer before it expires
	// (TRF-3; Partner Center: 30 days), each day 24 hours (GEN-1). 0
	// (absent): requests do not expire.
	TransferRequestExpiryDays int `json:"transfer_request_expiry_days,omitzero"`
	// RelationshipRequestExpiryDays is how long a partner's relationship
	// request waits for the customer's answer before it expires (TRF-3:
	// 30 days), each day 24 hours (GEN-1). 0 (absent): requests do not
	// expire.
	RelationshipRequestExpiryDays int `json:"relationship_request_expiry_days,omitzero"`
	// RefundWindowNoticeLeadHours is how long before a refund window
	// closes (CAN-1, CAN-3, CAN-4, CAN-5, a QTY-2 lot) its partner is told it is
	// closing; absent: DefaultRefundWindowNoticeLeadHours, 0: only the
	// notice that it closed.
	RefundWindowNoticeLeadHours *int `json:"refund_window_notice_lead_hours,omitempty"`
}

// DefaultRefundWindowNoticeLeadHours is the lead of a closing notice when
// the policy names none: a day, enough to act before the window ends.
const DefaultRefundWindowNoticeLeadHours = 24

// RefundWindowNoticeLead is how long before a refund window closes its
// closing notice is due; 0 sends none.
func (p Policy) RefundWindowNoticeLead() time.Duration {
	h := DefaultRefundWindowNoticeLeadHours
	if p.RefundWindowNoticeLeadHours != nil {
		h = *p.RefundWindowNoticeLeadHours
	}
	return time.Duration(h) * time.Hour
}

// CommerceTypeLegacy is the commerce type of legacy license offers
// (GEN-5): suspension deletes their data after a retention period
// (SUS-2), suspension stops their billing, and their auto-renew cannot be
// turned off (REN-1).
const CommerceTypeLegacy = "legacy"

// LegacyDataRetention is how many days a legacy subscription suspended
// now keeps its data (SUS-2): the policy's retention days plus gapDays,
// the days between the customer's account opening and its first billing
// (negative counts as 0), at most the policy's maximum. Each day is 24
// hours (GEN-1).
func (p Policy) LegacyDataRetention(gapDays int) int {
	return min(p.LegacyDataRetentionDays+max(gapDays, 0), p.LegacyDataRetentionMaxDays)
}

// RenewalProcessing is the pending time of a renewal (REN-2).
func (p Policy) RenewalProcessing() time.Duration {
	return time.Duration(p.RenewalProcessingMinutes) * time.Minute
}

// Offer is one sellable product/SKU.
type Offer struct {
	// ID is the offer's catalog ID, "<product>:<sku>", e.g.
	// "CFQ7TTC0LH18:0001".
	ID        string `json:"id"`
	Name      string `json:"name"`
	Publisher string `json:"publisher"`
	// CommerceType is one of CommerceTypes() (GEN-5): new_commerce,
	// legacy, marketplace_saas, software or azure_reservation.
	CommerceType string `json:"commerce_type"`
	// BillingType is license or usage (ORD-6).
	BillingType string `json:"billing_type"`
	// OnePerCustomer limits a customer to one subscription (ORD-2).
	OnePerCustomer bool `json:"one_per_customer"`
	// Free marks a license-based offer sold at no charge, such as a
	// nonprofit grant: every price of such an offer must be 0. Without it
	// every license price must be > 0, so a price left at 0 by mistake is
	// caught when the catalog loads instead of being sold for nothing.
	// Usage-based offers may price at 0 without it.
	Free bool `json:"free,omitzero"`
	// UpgradePaths are the offers this one may be upgraded to (UPG-1),
	// Partner Center's ProductSkuConversion column.
	UpgradePaths []string `json:"upgrade_paths,omitzero"`
	// Trial marks a free trial offer (TRI-1).
	Trial *TrialSpec `json:"trial,omitzero"`
	// Addon marks an add-on offer and what it needs (ORD-7..ORD-9).
	Addon *AddonSpec `json:"addon,omitzero"`
	// Marketplace, Software and Reservation describe offers of those
	// commerce types (GEN-5; see marketplace.go, software.go,
	// reservation.go).
	Marketplace *MarketplaceSpec `json:"marketplace,omitzero"`
	Software    *SoftwareSpec    `json:"software,omitzero"`
	Reservation *ReservationSpec `json:"reservation,omitzero"`
	// Segments that may buy the offer (ORD-3).
	Segments []string `json:"segments"`
	// MinQuantity and MaxQuantity bound a license-based line (ORD-6).
	MinQuantity int `json:"min_quantity"`
	MaxQuantity int `json:"max_quantity"`
	// CancelWindowHours is how long after purchase or renewal a
	// subscription may be cancelled with a prorated refund (CAN-1: 168).
	CancelWindowHours int `json:"cancel_window_hours"`
	// Plans are the term and billing-frequency combinations on sale.
	Plans []Plan `json:"plans"`
}

// TrialSpec describes a trial offer (TRI-1): how many licenses it comes
// with, its term, and the paid offer it converts to.
type TrialSpec struct {
	PaidOfferID string `json:"paid_offer_id"`
	Licenses    int    `json:"licenses"`
	Term        string `json:"term"`
	// ConvertTerm and ConvertBillingFrequency are the paid plan a trial
	// converts to by default (TRI-1: annual, billed monthly).
	ConvertTerm             string `json:"convert_term"`
	ConvertBillingFrequency string `json:"convert_billing_frequency"`
}

// AddonSpec describes an add-on offer.
type AddonSpec struct {
	// Kind is multi_geo (ORD-7), copilot (ORD-8) or coterminous (ORD-9).
	Kind string `json:"kind"`
	// BaseOfferIDs are the compatible base offers whose licenses count.
	BaseOfferIDs []string `json:"base_offer_ids"`
	// MinPercentOfBase is ORD-7's minimum (5 for multi-geo), rounded up.
	MinPercentOfBase int `json:"min_percent_of_base,omitzero"`
	// MaxOfBase is ORD-8's maximum: at most the base licenses.
	MaxOfBase bool `json:"max_of_base,omitzero"`
}

// UpgradePair is one upgrade the programme does not support (UPG-2).
type UpgradePair struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Plan is a term with a billing frequency and its prices.
type Plan struct {
	// Term is P1M, P1Y or P3Y (GEN-4).
	Term string `json:"term"`
	// BillingFrequency is monthly, annual, triennial or one_time (GEN-4).
	BillingFrequency string `json:"billing_frequency"`
	// Prices maps a currency code to the price of one license for one
	// billing period, in that currency's minor units.
	Prices map[string]int64 `json:"prices"`
}

// Offer returns the offer with the given ID.
func (c *Catalog) Offer(id string) (*Offer, bool) {
	o, ok := c.byID[id]
	return o, ok
}

// Plan returns the offer's plan for a term and billing frequency.
func (o *Offer) Plan(term, billingFrequency string) (*Plan, bool) {
	for i := range o.Plans {
		if o.Plans[i].Term == term && o.Plans[i].BillingFrequency == billingFrequency {
			return &o.Plans[i], true
		}
	}
	return nil, false
}

// SoldTo reports whether customers of the segment may buy the offer (ORD-3).
func (o *Offer) SoldTo(segment string) bool {
	for _, s := range o.Segments {
		if s == segment {
			return true
		}
	}
	return false
}

// CancelWindow is the offer's cancellation window (CAN-1).
func (o *Offer) CancelWindow() time.Duration {
	return time.Duration(o.CancelWindowHours) * time.Hour
}

// TaxInclusive reports whether prices for a billing country include tax
// (ORD-11).
func (p Policy) TaxInclusive(country string) bool {
	for _, c := range p.TaxInclusiveCountries {
		if c == country {
			return true
		}
	}
	return false
}

// KnownSegment reports whether the programme knows the segment.
func (p Policy) KnownSegment(segment string) bool {
	for _, s := range p.Segments {
		if s == segment {
			return true
		}
	}
	return false
}

// Currency returns the catalog's currency with the ISO 4217 code.
func (c *Catalog) Currency(code string) (Currency, bool) {
	cur, ok := c.Currencies[code]
	return cur, ok
}

// Price returns the plan's price of one license for one billing period in
// the currency's minor units. Every plan of a validated catalog prices
// every catalog currency.
func (p *Plan) Price(currency string) (int64, bool) {
	v, ok := p.Prices[currency]
	return v, ok
}
