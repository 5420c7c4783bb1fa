package catalog

import (
	"fmt"
	"github.com/cspreseller/csp-processor/handlers/internal/problems"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Limits the validator enforces.
const (
	// MaxCurrencyExponent is the largest minor-unit exponent accepted
	// (ISO 4217 uses 0 to 4).
	MaxCurrencyExponent = 4
	// MaxCancelWindowHours caps an offer's cancellation window at one year.
	MaxCancelWindowHours = 8760
	// MaxLegacyDataRetentionDays caps SUS-2's retention of a suspended
	// legacy subscription's data at one year.
	MaxLegacyDataRetentionDays = 365
)

var (
	offerIDPattern  = regexp.MustCompile(`^[A-Z0-9]{12}:[0-9]{4}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
	segmentPattern  = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// ValidOfferID reports whether id has the Partner Center catalog shape
// "<12 uppercase letters or digits>:<4 digits>", e.g. "CFQ7TTC0LH18:0001".
func ValidOfferID(id string) bool { return offerIDPattern.MatchString(id) }

// Problem is one thing wrong with a catalog. Validate (and so Parse, Load
// and Default) return every problem found, joined with errors.Join in
// document order: version, currencies and policy first, then the offers in
// file order; map entries in key order. Use errors.As to reach one.
type Problem = problems.Problem

// problemList gathers a validation's problems.
type problemList = problems.List

// Validate checks every entry of the catalog and returns all problems
// (see Problem), or nil. It does not index the offers: build a Catalog
// with Parse or Load.
func (c *Catalog) Validate() error {
	ps := &problemList{Source: "catalog"}
	if strings.TrimSpace(c.Version) == "" {
		ps.Add("version", "must not be empty")
	}
	c.validateCurrencies(ps)
	c.Policy.validate(ps)
	c.Policy.validateLegacy(ps, c.sellsLegacy())
	c.validateReservationPolicy(ps) // reservation.go
	if len(c.Offers) == 0 {
		ps.Add("offers", "must not be empty")
	}
	firstByID := make(map[string]int, len(c.Offers))
	for i := range c.Offers {
		o := &c.Offers[i]
		ps.Entry = offerEntry(i, o)
		if j, dup := firstByID[o.ID]; dup && o.ID != "" {
			ps.Add("id", "duplicate of offers[%d] (%s)", j, c.Offers[j].Name)
		} else {
			firstByID[o.ID] = i
		}
		c.validateOffer(ps, o)
	}
	ps.Entry = ""
	c.validateRelations(ps, firstByID)
	return ps.Err()
}

// offerEntry names an offer in a Problem: by ID and name, by position when
// the ID is missing.
func offerEntry(i int, o *Offer) string {
	var who string
	if o.ID != "" {
		who = fmt.Sprintf("offer %q", o.ID)
	} else {
		who = fmt.Sprintf("offers[%d]", i)
	}
	if strings.TrimSpace(o.Name) != "" {
		who += " (" + o.Name + ")"
	}
	return who
}

func (c *Catalog) validateCurrencies(ps *problemList) {
	if len(c.Currencies) == 0 {
		ps.Add("currencies", "must not be empty")
		return
	}
	for _, code := range slices.Sorted(maps.Keys(c.Currencies)) {
		field := fmt.Sprintf("currencies[%q]", code)
		if !currencyPattern.MatchString(code) {
			ps.Add(field, "code must be 3 uppercase letters (ISO 4217)")
		}
		if e := c.Currencies[code].Exponent; e < 0 || e > MaxCurrencyExponent {
			ps.Add(field+".exponent", "must be 0..%d, got %d", MaxCurrencyExponent, e)
		}
	}
}

func (p *Policy) validate(ps *problemList) {
	ps.Countries("policy.tax_inclusive_countries", p.TaxInclusiveCountries)
	if p.ConflictRetryMinutes < 0 || p.ConflictRetryMinutes > 24*60 {
		ps.Add("policy.conflict_retry_minutes", "must be 0..1440, not %d", p.ConflictRetryMinutes)
	}
	if p.ConflictRetryMinutes > 0 && p.ConflictRetryInitialSeconds < 1 {
		ps.Add("policy.conflict_retry_initial_seconds", "must be at least 1 when conflict_retry_minutes is set, not %d", p.ConflictRetryInitialSeconds)
	}
	if p.MaxSubscriptionsPerCustomer < 0 {
		ps.Add("policy.max_subscriptions_per_customer", "must be >= 0 (ORD-12; 0: no limit), not %d", p.MaxSubscriptionsPerCustomer)
	}
	if p.MaxSubscriptionUpdates < 1 {
		ps.Add("policy.max_subscription_updates", "must be at least 1 (QTY-4: 1200), not %d", p.MaxSubscriptionUpdates)
	}
	if h := p.RefundWindowNoticeLeadHours; h != nil && (*h < 0 || *h > 8760) {
		ps.Add("policy.refund_window_notice_lead_hours", "must be 0..8760 (0: only the notice that a window closed), not %d", *h)
	}
	if p.TransferRequestExpiryDays < 0 || p.TransferRequestExpiryDays > 365 {
		ps.Add("policy.transfer_request_expiry_days", "must be 0..365 (TRF-3: 30; 0: requests do not expire), not %d", p.TransferRequestExpiryDays)
	}
	if p.RelationshipRequestExpiryDays < 0 || p.RelationshipRequestExpiryDays > 365 {
		ps.Add("policy.relationship_request_expiry_days", "must be 0..365 (TRF-3: 30; 0: requests do not expire), not %d", p.RelationshipRequestExpiryDays)
	}
	if p.RenewalProcessingMinutes < 0 || p.RenewalProcessingMinutes > 24*60 {
		ps.Add("policy.renewal_processing_minutes", "must be 0..1440 (REN-2: a renewal takes up to 24 hours), not %d", p.RenewalProcessingMinutes)
	}
	if len(p.Segments) == 0 {
		ps.Add("policy.segments", "must not be empty")
		return
	}
	seen := map[string]int{}
	for i, s := range p.Segments {
		field := fmt.Sprintf("policy.segments[%d]", i)
		if !segmentPattern.MatchString(s) {
			ps.Add(field, "%q must be lowercase letters, digits and underscores, starting with a letter", s)
		} else if j, dup := seen[s]; dup {
			ps.Add(field, "duplicate of policy.segments[%d] (%s)", j, s)
		} else {
			seen[s] = i
		}
	}
}

// sellsLegacy reports whether any offer is legacy (GEN-5).
func (c *Catalog) sellsLegacy() bool {
	return slices.ContainsFunc(c.Offers, func(o Offer) bool { return o.CommerceType == CommerceTypeLegacy })
}

// validateLegacy checks SUS-2's retention policy. It is required when the
// catalog sells a legacy offer (and checked whenever it is set):
// 1 <= legacy_data_retention_days <= legacy_data_retention_max_days <=
// MaxLegacyDataRetentionDays. A catalog without legacy offers may leave
// both out.
func (p *Policy) validateLegacy(ps *problemList, sellsLegacy bool) {
	days, maxDays := p.LegacyDataRetentionDays, p.LegacyDataRetentionMaxDays
	if !sellsLegacy && days == 0 && maxDays == 0 {
		return
	}
	switch {
	case days < 1 || days > MaxLegacyDataRetentionDays:
		ps.Add("policy.legacy_data_retention_days", "must be 1..%d (SUS-2: 90) when the catalog sells legacy offers or sets legacy_data_retention_max_days, not %d",
			MaxLegacyDataRetentionDays, days)
	case maxDays < days || maxDays > MaxLegacyDataRetentionDays:
		ps.Add("policy.legacy_data_retention_max_days", "must be legacy_data_retention_days (%d)..%d (SUS-2: 120), not %d",
			days, MaxLegacyDataRetentionDays, maxDays)
	}
}

func (c *Catalog) validateOffer(ps *problemList, o *Offer) {
	switch {
	case o.ID == "":
		ps.Add("id", "must not be empty")
	case !ValidOfferID(o.ID):
		ps.Add("id", "%q must look like \"CFQ7TTC0LH18:0001\" (12 uppercase letters or digits, a colon, 4 digits)", o.ID)
	}
	if strings.TrimSpace(o.Name) == "" {
		ps.Add("name", "must not be empty")
	}
	if strings.TrimSpace(o.Publisher) == "" {
		ps.Add("publisher", "must not be empty")
	}
	if !SupportedCommerceType(o.CommerceType) {
		ps.Add("commerce_type", "commerce type %q is not supported by this version (supported: %s)",
			o.CommerceType, strings.Join(CommerceTypes(), ", "))
	}
	// Decision: legacy offers are license-based and not trials (trials
	// are new commerce, TRI-1); a legacy add-on is co-terminous with its
	// base (ORD-9: "legacy add-ons"), suspended with it and given its own
	// data deletion date (SUS-5 with SUS-2).
	if o.CommerceType == CommerceTypeLegacy {
		if o.BillingType == BillingTypeUsage {
			ps.Add("billing_type", "a legacy offer must be license-based in this version (SUS-2 covers licensed legacy subscriptions), got %q", o.BillingType)
		}
		if o.Trial != nil {
			ps.Add("trial", "a legacy offer cannot be a trial: trials are new commerce (TRI-1)")
		}
		if o.Addon != nil && o.Addon.Kind != AddonCoterminous {
			ps.Add("addon", "a legacy add-on must be %s (ORD-9), got %q", AddonCoterminous, o.Addon.Kind)
		}
	}

	license, usage := o.BillingType == BillingTypeLicense, o.BillingType == BillingTypeUsage
	if !license && !usage {
		ps.Add("billing_type", "must be %s or %s, got %q", BillingTypeLicense, BillingTypeUsage, o.BillingType)
	}
	if o.Free && !license {
		ps.Add("free", "only a license-based offer can be marked free (usage-based prices may be 0 anyway)")
	}

	if len(o.Segments) == 0 {
		ps.Add("segments", "must not be empty")
	}
	seen := map[string]int{}
	for i, s := range o.Segments {
		field := fmt.Sprintf("segments[%d]", i)
		switch j, dup := seen[s]; {
		case dup:
			ps.Add(field, "duplicate of segments[%d] (%s)", j, s)
		case len(c.Policy.Segments) > 0 && !c.Policy.KnownSegment(s):
			ps.Add(field, "%q is not a segment in policy.segments (%s)", s, strings.Join(c.Policy.Segments, ", "))
		default:
			seen[s] = i
		}
	}

	switch {
	case license:
		if o.MinQuantity < 1 {
			ps.Add("min_quantity", "must be >= 1 for a license-based offer, got %d", o.MinQuantity)
		}
		if o.MaxQuantity < max(o.MinQuantity, 1) {
			ps.Add("max_quantity", "must be >= min_quantity (%d) and >= 1, got %d", o.MinQuantity, o.MaxQuantity)
		}
	case usage:
		if o.MinQuantity != 0 {
			ps.Add("min_quantity", "must be 0 for a usage-based offer, got %d", o.MinQuantity)
		}
		if o.MaxQuantity != 0 {
			ps.Add("max_quantity", "must be 0 for a usage-based offer, got %d", o.MaxQuantity)
		}
	}

	// Marketplace SaaS and software windows are policy, not per offer (CAN-3, marketplace.go; CAN-4, software.go).
	if o.CommerceType != CommerceTypeMarketplace && o.CommerceType != CommerceTypeSoftware && (o.CancelWindowHours <= 0 || o.CancelWindowHours > MaxCancelWindowHours) {
		ps.Add("cancel_window_hours", "must be 1..%d, got %d", MaxCancelWindowHours, o.CancelWindowHours)
	}

	if len(o.Plans) == 0 {
		ps.Add("plans", "must not be empty")
	}
	type pair struct{ term, freq string }
	plans := map[pair]int{}
	for i := range o.Plans {
		p := &o.Plans[i]
		field := fmt.Sprintf("plans[%d]", i)
		termOK, freqOK := ValidTerm(p.Term) || softwareTerm(o, p.Term), ValidBillingFrequency(p.BillingFrequency) // software.go: perpetual
		if !termOK {
			ps.Add(field+".term", "%q is not a term (allowed: %s)", p.Term, strings.Join(Terms(), ", "))
		}
		if !freqOK {
			ps.Add(field+".billing_frequency", "%q is not a billing frequency (allowed: %s)",
				p.BillingFrequency, strings.Join(BillingFrequencies(), ", "))
		}
		if termOK && freqOK && !ValidPair(p.Term, p.BillingFrequency) && !softwarePair(o, p.Term, p.BillingFrequency) && !reservationPlan(o, p) { // software.go, reservation.go: one_time
			ps.Add(field+".billing_frequency", "%s is not allowed with term %s (allowed: %s)",
				p.BillingFrequency, p.Term, strings.Join(FrequenciesFor(p.Term), ", "))
		}
		k := pair{p.Term, p.BillingFrequency}
		if j, dup := plans[k]; dup {
			ps.Add(field, "duplicate of plans[%d] (%s %s)", j, p.Term, p.BillingFrequency)
		} else {
			plans[k] = i
		}
		c.validatePrices(ps, o, field, p)
	}
	for _, v := range offerValidators {
		v(c, ps, o)
	}
}

func (c *Catalog) validatePrices(ps *problemList, o *Offer, field string, p *Plan) {
	codes := slices.Sorted(maps.Keys(c.Currencies))
	for code := range maps.Keys(p.Prices) {
		if _, ok := c.Currencies[code]; !ok {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	for _, code := range codes {
		f := fmt.Sprintf("%s.prices[%q]", field, code)
		price, priced := p.Prices[code]
		if _, known := c.Currencies[code]; !known {
			if len(c.Currencies) > 0 { // else "currencies: must not be empty" says it all
				ps.Add(f, "currency is not in the catalog's currencies")
			}
			continue
		}
		switch {
		case !priced:
			ps.Add(f, "missing: every plan must price every catalog currency")
		case o.BillingType == BillingTypeLicense && o.Free && price != 0:
			ps.Add(f, "must be 0: the offer is marked free")
		case o.BillingType == BillingTypeLicense && !o.Free && price <= 0:
			ps.Add(f, "must be > 0")
		case price < 0:
			ps.Add(f, "must be >= 0")
		}
	}
}
