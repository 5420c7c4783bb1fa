package catalog

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// CommerceTypeMarketplace is the commerce type of ISV SaaS offers from the
// commercial marketplace, sold in Partner Center beside Microsoft's own
// (GEN-5; Partner Center's pages on creating, suspending or cancelling and
// on managing customer subscriptions). Decisions, where those pages and the
// rule catalogue are silent:
//
//   - Only license-based SaaS is transacted here: a usage-based (metered)
//     marketplace offer may be listed but must be marked not transactable,
//     so ordering it is rejected offer_not_transactable (ORD-4; Partner
//     Center: "containers or some usage-based offers" are bought in the
//     Azure portal).
//   - Plans: P1M billed monthly, P1Y billed annually or monthly (Partner
//     Center: "monthly" and "annual" subscriptions). P3Y is not sold: CAN-3
//     has no window for it.
//   - The publisher is the ISV (e.g. "contoso-isv"), never "microsoft".
//   - The cancellation windows are programme policy, not per offer:
//     policy.marketplace.cancel_window_hours_monthly (a P1M term: 24 in
//     Partner Center's 2019 page) and cancel_window_hours_annual (a P1Y
//     term: 14 days = 336 there; the rule catalogue notes the current
//     public policy is 72 hours for both).
//     A marketplace offer's cancel_window_hours must be absent (0).
//   - Each window is at most MaxMarketplaceCancelWindowHours (27 days), so
//     that it always closes before a P1Y term billed monthly starts its
//     second billing period: the full refund of CAN-3 is then exactly the
//     one period charged (a period starts at 00:00 UTC of the purchase or
//     renewal day and the shortest is 28 days).
//   - The policy is required when the catalog sells a marketplace offer
//     (a catalog without one may leave it out).
//   - Trials, add-ons and upgrade paths are Microsoft new-commerce
//     features (TRI-*, ORD-7..ORD-9, UPG-*); a marketplace offer has none.
const CommerceTypeMarketplace = "marketplace_saas"

// MaxMarketplaceCancelWindowHours caps the CAN-3 windows at 27 days (see
// CommerceTypeMarketplace).
const MaxMarketplaceCancelWindowHours = 27 * 24

// MarketplaceSpec describes an ISV SaaS offer (ORD-4, ORD-13).
type MarketplaceSpec struct {
	// SetupURL is the publisher's landing page where the partner completes
	// the account setup or deployment after a purchase (ORD-13: the
	// purchase result carries this link; no e-mail is sent). An absolute
	// https URL; the processor adds the subscription ID as the query
	// parameter subscription_id.
	SetupURL string `json:"setup_url"`
	// BillingCountries are the customer billing countries (ISO 3166-1
	// alpha-2) the ISV supports (ORD-4: isv_country_not_supported).
	BillingCountries []string `json:"billing_countries"`
	// SoldThroughCSP is false when the ISV chose not to offer it through
	// the CSP programme (ORD-4: isv_not_in_csp).
	SoldThroughCSP bool `json:"sold_through_csp"`
	// ExclusivePartnerIDs, when not empty, are the only partners that may
	// buy the offer (ORD-4: offer_exclusive_to_other_partners).
	ExclusivePartnerIDs []string `json:"exclusive_partner_ids,omitzero"`
	// Transactable is false for offers that cannot be transacted in
	// Partner Center, such as containers and some usage-based offers
	// (ORD-4: offer_not_transactable).
	Transactable bool `json:"transactable"`
}

// SupportsCountry reports whether the ISV sells to customers billed in the
// country (ORD-4).
func (m *MarketplaceSpec) SupportsCountry(country string) bool {
	return slices.Contains(m.BillingCountries, country)
}

// OpenTo reports whether the partner may buy the offer: any partner when
// the offer is not exclusive, else only the listed ones (ORD-4).
func (m *MarketplaceSpec) OpenTo(partnerID string) bool {
	return len(m.ExclusivePartnerIDs) == 0 || slices.Contains(m.ExclusivePartnerIDs, partnerID)
}

// MarketplacePolicy is the catalog policy of marketplace SaaS offers:
// CAN-3's full-refund cancellation windows, counted in hours from the
// purchase or renewal instant.
type MarketplacePolicy struct {
	// CancelWindowHoursMonthly is the window of a P1M (monthly) term
	// (Partner Center: 24 hours).
	CancelWindowHoursMonthly int `json:"cancel_window_hours_monthly"`
	// CancelWindowHoursAnnual is the window of a P1Y (annual) term, billed
	// annually or monthly (Partner Center: 14 days, 336 hours).
	CancelWindowHoursAnnual int `json:"cancel_window_hours_annual"`
}

// CancelWindowHours is CAN-3's window for a term: the monthly window for
// P1M, the annual one for P1Y, 0 for a term marketplace offers do not
// sell.
func (p MarketplacePolicy) CancelWindowHours(term string) int {
	switch term {
	case TermP1M:
		return p.CancelWindowHoursMonthly
	case TermP1Y:
		return p.CancelWindowHoursAnnual
	}
	return 0
}

// CancelWindow is CancelWindowHours as a duration (GEN-1: an hour is 60
// minutes of UTC).
func (p MarketplacePolicy) CancelWindow(term string) time.Duration {
	return time.Duration(p.CancelWindowHours(term)) * time.Hour
}

var partnerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func init() {
	registerCommerceType(CommerceTypeMarketplace, validateMarketplaceOffer)
}

// validateMarketplaceOffer runs for every offer: a marketplace spec belongs
// to marketplace offers only, and a marketplace offer must satisfy the
// rules of CommerceTypeMarketplace.
func validateMarketplaceOffer(c *Catalog, ps *problemList, o *Offer) {
	if o.CommerceType != CommerceTypeMarketplace {
		if o.Marketplace != nil {
			ps.Add("marketplace", "only a %s offer has a marketplace spec (commerce type is %q)", CommerceTypeMarketplace, o.CommerceType)
		}
		return
	}
	if c.firstMarketplaceOffer(o) {
		entry := ps.Entry
		ps.Entry = ""
		c.Policy.Marketplace.validate(ps)
		ps.Entry = entry
	}
	if o.Publisher == "microsoft" {
		ps.Add("publisher", "a marketplace SaaS offer is published by an ISV, not %q", o.Publisher)
	}
	if o.CancelWindowHours != 0 {
		ps.Add("cancel_window_hours", "must be absent for a marketplace SaaS offer: its windows are policy.marketplace (CAN-3), got %d", o.CancelWindowHours)
	}
	if o.Trial != nil {
		ps.Add("trial", "a marketplace SaaS offer cannot be a trial (trials are new commerce, TRI-1)")
	}
	if o.Addon != nil {
		ps.Add("addon", "a marketplace SaaS offer cannot be an add-on (ORD-7..ORD-9 are new commerce)")
	}
	if len(o.UpgradePaths) > 0 {
		ps.Add("upgrade_paths", "a marketplace SaaS offer has no upgrade paths (UPG-1 is new commerce)")
	}
	for i, p := range o.Plans {
		if p.Term != TermP1M && p.Term != TermP1Y && ValidTerm(p.Term) {
			ps.Add(fmt.Sprintf("plans[%d].term", i), "a marketplace SaaS offer sells P1M or P1Y terms (CAN-3 has windows for those only), got %s", p.Term)
		}
	}
	m := o.Marketplace
	if m == nil {
		ps.Add("marketplace", "required for a %s offer: setup_url, billing_countries, sold_through_csp, transactable (ORD-4, ORD-13)", CommerceTypeMarketplace)
		return
	}
	if o.BillingType == BillingTypeUsage && m.Transactable {
		ps.Add("marketplace.transactable", "a usage-based (metered) SaaS offer cannot be transacted in this channel (ORD-4): must be false")
	}
	if u, err := url.Parse(m.SetupURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		ps.Add("marketplace.setup_url", "%q must be an absolute https URL without user info or fragment (ORD-13)", m.SetupURL)
	} else if u.Query().Has("subscription_id") {
		ps.Add("marketplace.setup_url", "%q must not set subscription_id: the processor adds it (ORD-13)", m.SetupURL)
	}
	if len(m.BillingCountries) == 0 {
		ps.Add("marketplace.billing_countries", "must not be empty (ORD-4)")
	}
	ps.Countries("marketplace.billing_countries", m.BillingCountries)
	seen := map[string]int{}
	for i, id := range m.ExclusivePartnerIDs {
		field := fmt.Sprintf("marketplace.exclusive_partner_ids[%d]", i)
		if !partnerIDPattern.MatchString(id) {
			ps.Add(field, "%q must be a partner ID (1-64 letters, digits, '-' or '_')", id)
		} else if j, dup := seen[id]; dup {
			ps.Add(field, "duplicate of marketplace.exclusive_partner_ids[%d] (%s)", j, id)
		} else {
			seen[id] = i
		}
	}
}

// firstMarketplaceOffer reports whether o is the catalog's first
// marketplace offer: the policy is checked once, when the catalog sells
// one.
func (c *Catalog) firstMarketplaceOffer(o *Offer) bool {
	for i := range c.Offers {
		if c.Offers[i].CommerceType == CommerceTypeMarketplace {
			return &c.Offers[i] == o
		}
	}
	return false
}

func (p *MarketplacePolicy) validate(ps *problemList) {
	for _, w := range []struct {
		field     string
		hours     int
		published string // the window Partner Center publishes
	}{
		{"policy.marketplace.cancel_window_hours_monthly", p.CancelWindowHoursMonthly, "24"},
		{"policy.marketplace.cancel_window_hours_annual", p.CancelWindowHoursAnnual, "336"},
	} {
		if w.hours < 1 || w.hours > MaxMarketplaceCancelWindowHours {
			ps.Add(w.field, "must be 1..%d (CAN-3, Partner Center: %s) when the catalog sells marketplace SaaS offers, not %d",
				MaxMarketplaceCancelWindowHours, w.published, w.hours)
		}
	}
}
