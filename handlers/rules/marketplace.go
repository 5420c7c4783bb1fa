package rules

// MarketplaceState is what a marketplace subscription holds beyond the common fields.
type MarketplaceState struct{}
