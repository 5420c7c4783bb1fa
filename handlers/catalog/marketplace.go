package catalog

// MarketplaceSpec describes a marketplace offer.
type MarketplaceSpec struct{}

// MarketplacePolicy is the catalog policy of marketplace offers.
type MarketplacePolicy struct{}
