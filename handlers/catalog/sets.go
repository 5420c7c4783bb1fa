package catalog

import "slices"

// Terms (GEN-4).
const (
	TermP1M = "P1M"
	TermP1Y = "P1Y"
	TermP3Y = "P3Y"
)

// Billing frequencies (GEN-4). BillingOneTime is for one-off purchases
// (software, GEN-5); no new-commerce term allows it, so ValidPair is false
// for it until the commerce type that uses it arrives.
const (
	BillingMonthly   = "monthly"
	BillingAnnual    = "annual"
	BillingTriennial = "triennial"
	BillingOneTime   = "one_time"
)

// Billing types (ORD-6).
const (
	BillingTypeLicense = "license"
	BillingTypeUsage   = "usage"
)

// Commerce types (GEN-5). Only new commerce is supported by this version;
// the others arrive with the rules that implement them.
const (
	CommerceTypeNew = "new_commerce"
)

// frequenciesByTerm is the allowed billing frequencies for each term, in
// the order they are listed to people.
var frequenciesByTerm = map[string][]string{
	TermP1M: {BillingMonthly},
	TermP1Y: {BillingMonthly, BillingAnnual},
	TermP3Y: {BillingMonthly, BillingAnnual, BillingTriennial},
}

// Terms returns every term the catalog knows, shortest first. The slice is
// the caller's to keep.
func Terms() []string { return []string{TermP1M, TermP1Y, TermP3Y} }

// BillingFrequencies returns every billing frequency the catalog knows.
// The slice is the caller's to keep.
func BillingFrequencies() []string {
	return []string{BillingMonthly, BillingAnnual, BillingTriennial, BillingOneTime}
}

// BillingTypes returns the offer billing types (ORD-6).
func BillingTypes() []string { return []string{BillingTypeLicense, BillingTypeUsage} }

// CommerceTypes returns the commerce types this version supports (GEN-5).
func CommerceTypes() []string {
	return append([]string{CommerceTypeNew, CommerceTypeLegacy}, extraCommerceTypes...)
}

// extraCommerceTypes and offerValidators are what the files of this package
// for other commerce types (marketplace SaaS, software, Azure reservations)
// register with registerCommerceType, from an init function.
var (
	extraCommerceTypes []string
	offerValidators    []func(c *Catalog, ps *problemList, o *Offer)
)

// registerCommerceType adds a commerce type (GEN-5) and the checks its
// offers get after the common ones.
func registerCommerceType(t string, validate func(c *Catalog, ps *problemList, o *Offer)) {
	if slices.Contains(CommerceTypes(), t) {
		panic("catalog: commerce type registered twice: " + t)
	}
	extraCommerceTypes = append(extraCommerceTypes, t)
	offerValidators = append(offerValidators, validate)
}

// ValidTerm reports whether term is a known term.
func ValidTerm(term string) bool { return slices.Contains(Terms(), term) }

// ValidBillingFrequency reports whether freq is a known billing frequency.
func ValidBillingFrequency(freq string) bool { return slices.Contains(BillingFrequencies(), freq) }

// ValidBillingType reports whether t is license or usage.
func ValidBillingType(t string) bool { return slices.Contains(BillingTypes(), t) }

// SupportedCommerceType reports whether this version supports offers of
// the commerce type.
func SupportedCommerceType(t string) bool { return slices.Contains(CommerceTypes(), t) }

// FrequenciesFor returns the billing frequencies allowed with a term: P1M
// monthly only; P1Y monthly or annual; P3Y monthly, annual or triennial.
// It returns nil for an unknown term. The slice is the caller's to keep.
func FrequenciesFor(term string) []string { return slices.Clone(frequenciesByTerm[term]) }

// ValidPair reports whether a term may be billed at the frequency. It is
// what the catalog checks for every plan; an order line must also name a
// plan the offer actually sells (Offer.Plan).
func ValidPair(term, freq string) bool { return slices.Contains(frequenciesByTerm[term], freq) }
