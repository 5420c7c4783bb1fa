// Package partners is the partner registry: the partners the operator has
// enrolled, their CSP model (direct-bill partner, indirect provider,
// indirect reseller), which indirect providers each indirect reseller buys
// through, whether each has signed the Microsoft Partner Agreement (MPA),
// and the registry policy of Partner Center's EU/EFTA reseller declaration
// (PTN-2, PTN-3, PTN-4).
//
// The registry is deployment data, like the catalog: partners are
// registered by the operator in a JSON file (PARTNERS_FILE), never by a
// command, so no partner can make itself a provider or associate itself
// with one. It is read once at start and is read-only afterwards.
package partners

import "slices"

// Type is a partner's CSP model, as Partner Center names them.
type Type string

const (
	// DirectBill partners buy from Microsoft and bill their customers
	// themselves; they sell and manage subscriptions (PTN-2).
	DirectBill Type = "direct_bill"
	// IndirectProvider partners (distributors) sell and manage
	// subscriptions (PTN-2) and may name, per subscription, the indirect
	// reseller they sell through (PTN-3).
	IndirectProvider Type = "indirect_provider"
	// IndirectReseller partners cannot sell or manage subscriptions
	// themselves: they go through one of their indirect providers (PTN-2).
	IndirectReseller Type = "indirect_reseller"
)

// Registry is the partner registry. Build one with Parse, Load, Default or
// LoadOrDefault; it is read-only and safe for concurrent use.
type Registry struct {
	// Version names this revision of the registry; bump it on every change.
	Version  string    `json:"version"`
	Policy   Policy    `json:"policy"`
	Partners []Partner `json:"partners"`

	byID map[string]*Partner
	euEF map[string]bool
}

// Policy is the registry's programme policy (PTN-4).
type Policy struct {
	// EUEFTACountries are the billing countries (ISO 3166-1 alpha-2) of
	// the EU and EFTA, where partners must declare the additional
	// resellers of a transaction.
	EUEFTACountries []string `json:"eu_efta_countries"`
	// MaxAdditionalResellers is how many additional resellers one
	// transaction (order line) may declare: 5 (Partner Center), 1..5.
	MaxAdditionalResellers int `json:"max_additional_resellers"`
}

// Partner is one enrolled partner.
type Partner struct {
	// ID is the partner token commands are published under
	// (csp.cmd.<ID>.…); for a reseller it is also its partner ID as named
	// on order lines.
	ID   string `json:"id"`
	Name string `json:"name"`
	Type Type   `json:"type"`
	// ProviderIDs are an indirect reseller's indirect providers (at least
	// one); other types have none.
	ProviderIDs []string `json:"provider_ids,omitempty"`
	// MPASigned says the partner has signed the Microsoft Partner
	// Agreement; an additional reseller must have (PTN-4).
	MPASigned bool `json:"mpa_signed"`
	// Country is the partner's country (ISO 3166-1 alpha-2).
	Country string `json:"country"`
}

// Partner returns the registered partner with the ID.
func (r *Registry) Partner(id string) (*Partner, bool) {
	p, ok := r.byID[id]
	return p, ok
}

// EUEFTA reports whether a billing country is in the EU or EFTA
// (policy.eu_efta_countries).
func (r *Registry) EUEFTA(country string) bool { return r.euEF[country] }

// ResellsThrough reports whether p is an indirect reseller of the indirect
// provider providerID.
func (p *Partner) ResellsThrough(providerID string) bool {
	return p.Type == IndirectReseller && slices.Contains(p.ProviderIDs, providerID)
}

func (r *Registry) index() {
	r.byID = make(map[string]*Partner, len(r.Partners))
	for i := range r.Partners {
		r.byID[r.Partners[i].ID] = &r.Partners[i]
	}
	r.euEF = make(map[string]bool, len(r.Policy.EUEFTACountries))
	for _, c := range r.Policy.EUEFTACountries {
		r.euEF[c] = true
	}
}
