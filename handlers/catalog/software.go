package catalog

// SoftwareSpec describes a software offer.
type SoftwareSpec struct{}

// SoftwarePolicy is the catalog policy of software offers.
type SoftwarePolicy struct{}
