package catalog

import (
	"fmt"
	"slices"
	"strings"
)

// CommerceTypeSoftware is the commerce type of software purchases (GEN-5,
// as Partner Center sells them): perpetual software and software
// subscriptions, sold with activation keys and download links and cancelled
// per order (CAN-4).
const CommerceTypeSoftware = "software"

// TermPerpetual is the plan term of perpetual software: a one-time
// purchase with no term and no renewal. Its plans are billed one_time
// (Decision: "perpetual" rather than P1Y, which would invent an end date
// and a renewal that perpetual software does not have). It is a term only
// for software offers whose SoftwareSpec says Perpetual; ValidTerm does not
// know it, so no other offer can sell it.
const TermPerpetual = "perpetual"

// Reasons a software offer cannot be cancelled by the partner (CAN-4).
// They are also the rejection codes of software.cancel for such offers.
const (
	// SoftwareSupportRequestRequired: Windows 7 Extended Security Updates
	// 2020 is cancelled only through a customer support request.
	SoftwareSupportRequestRequired = "support_request_required"
	// SoftwareNotCancellable: SUSE Linux and Red Hat software plans cannot
	// be cancelled or exchanged.
	SoftwareNotCancellable = "not_cancellable"
)

// SoftwareCancelExceptions lists the reasons a software offer may give for
// not being cancellable (CAN-4).
func SoftwareCancelExceptions() []string {
	return []string{SoftwareSupportRequestRequired, SoftwareNotCancellable}
}

// SoftwareSpec describes a software offer (GEN-5). Every
// software offer has one; no other offer may.
type SoftwareSpec struct {
	// Perpetual marks perpetual software: its plans are term "perpetual"
	// billed one_time, it never renews, and a cancellation credits 100%
	// of the price (CAN-4). Otherwise the offer is a software subscription
	// (P1Y or P3Y, billed annual, triennial or one_time), credited
	// prorated (CAN-4, GEN-2, GEN-3).
	Perpetual bool `json:"perpetual"`
	// Cancellable is false for the products Partner Center excepts from the
	// 60-day cancellation (CAN-4); CancelException then says why and is
	// the code software.cancel is rejected with: support_request_required
	// (Windows 7 ESU 2020) or not_cancellable (SUSE Linux, Red Hat plans).
	// Decision: "cancellable" has no default: an offer that leaves it out
	// must name its exception, so a forgotten flag cannot make a product
	// silently uncancellable.
	Cancellable     bool   `json:"cancellable"`
	CancelException string `json:"cancel_exception,omitzero"`
	// ActivationKeys: the purchase comes with activation keys, issued at
	// purchase (one per subscription, for all its licenses) and revoked on
	// cancellation (CAN-4, SW-2).
	ActivationKeys bool `json:"activation_keys"`
	// Downloads: the product can be downloaded through download links
	// the partner asks for (SW-1). Windows 7 ESU has keys and no
	// downloads; Azure software plans (SUSE, Red Hat) have neither.
	Downloads bool `json:"downloads"`
}

// SoftwarePolicy is the catalog policy of software offers (CAN-4, SW-1,
// SW-2). It
// is required when the catalog sells a software offer.
type SoftwarePolicy struct {
	// CancelWindowDays is how long after the purchase a software order
	// can be cancelled (CAN-4: 60 days of 24 hours, GEN-1), counted from
	// the instant of purchase, half-open like CAN-1. It is policy, not
	// per offer: software offers leave cancel_window_hours out.
	CancelWindowDays int `json:"cancel_window_days"`
	// DownloadLinkValidityHours and DownloadLinkMaxDownloads bound a
	// download link: it expires after 336 hours (two weeks) or 50
	// downloads, whichever comes first (SW-1).
	DownloadLinkValidityHours int `json:"download_link_validity_hours"`
	DownloadLinkMaxDownloads  int `json:"download_link_max_downloads"`
	// ActivityLogMaxEntries bounds a customer's software activity log
	// (SW-2), a list kept beside its state: the oldest entries are dropped
	// beyond it. The software.activity.recorded events are the complete audit
	// trail; the log answers the software_activity query.
	ActivityLogMaxEntries int `json:"activity_log_max_entries"`
}

// Limits of the software policy.
const (
	// MaxSoftwareCancelWindowDays keeps CAN-4's window inside the first
	// billing period of any software plan (a year at least), which is
	// what a prorated credit is computed on.
	MaxSoftwareCancelWindowDays = 365
	// MaxDownloadLinkValidityHours caps a link's life at a year.
	MaxDownloadLinkValidityHours = 8760
	// MaxDownloadLinkDownloads caps a link's downloads.
	MaxDownloadLinkDownloads = 100000
	// MaxActivityLogEntries caps a customer's activity log, and keeps a
	// software_activity reply well under NATS's 1 MiB message size.
	MaxActivityLogEntries = 2000
)

// softwareTerm reports whether a plan term that ValidTerm does not know is
// allowed for the offer: "perpetual" for software offers (validate.go).
func softwareTerm(o *Offer, term string) bool {
	return o.CommerceType == CommerceTypeSoftware && term == TermPerpetual
}

// softwarePair reports whether validateSoftwareOffer, not ValidPair,
// judges the offer's term and billing frequency pairs (validate.go): those
// of every software offer, which may be billed one_time.
func softwarePair(o *Offer, _, _ string) bool { return o.CommerceType == CommerceTypeSoftware }

// softwareSubscriptionFrequencies are the billing frequencies of software
// subscription plans. Decision: no monthly billing: a prorated credit
// (CAN-4) is computed on the period charged at purchase, which then
// always covers the whole cancellation window.
var softwareSubscriptionFrequencies = map[string][]string{
	TermP1Y: {BillingAnnual, BillingOneTime},
	TermP3Y: {BillingAnnual, BillingTriennial, BillingOneTime},
}

func init() { registerCommerceType(CommerceTypeSoftware, validateSoftwareOffer) }

// validateSoftwareOffer checks what software offers need beyond the
// common checks (it runs for every offer).
func validateSoftwareOffer(c *Catalog, ps *problemList, o *Offer) {
	if o.CommerceType != CommerceTypeSoftware {
		if o.Software != nil {
			ps.Add("software", "only a %s offer can have a software spec", CommerceTypeSoftware)
		}
		return
	}
	if c.firstSoftwareOffer() == o {
		entry := ps.Entry
		ps.Entry = ""
		c.Policy.Software.validate(ps)
		ps.Entry = entry
	}
	s := o.Software
	if s == nil {
		ps.Add("software", "a %s offer needs a software spec (perpetual, cancellable, activation_keys, downloads)", CommerceTypeSoftware)
		return
	}
	if o.BillingType != BillingTypeLicense {
		ps.Add("billing_type", "a software offer is sold by license, got %q", o.BillingType)
	}
	if o.Trial != nil || o.Addon != nil || len(o.UpgradePaths) > 0 {
		ps.Add("software", "a software offer cannot be a trial, an add-on or have upgrade paths")
	}
	switch {
	case s.Cancellable && s.CancelException != "":
		ps.Add("software.cancel_exception", "must be empty for a cancellable offer, got %q", s.CancelException)
	case !s.Cancellable && !slices.Contains(SoftwareCancelExceptions(), s.CancelException):
		ps.Add("software.cancel_exception", "a software offer that is not cancellable must say why: %s (CAN-4), got %q",
			strings.Join(SoftwareCancelExceptions(), " or "), s.CancelException)
	}
	if o.CancelWindowHours != 0 {
		ps.Add("cancel_window_hours", "must be absent for a software offer: its window is policy.software.cancel_window_days (CAN-4), got %d", o.CancelWindowHours)
	}
	for i, p := range o.Plans {
		field := fmt.Sprintf("plans[%d]", i)
		if s.Perpetual {
			if p.Term != TermPerpetual || p.BillingFrequency != BillingOneTime {
				ps.Add(field, "perpetual software is sold with term %s billed %s, not %s %s", TermPerpetual, BillingOneTime, p.Term, p.BillingFrequency)
			}
			continue
		}
		if allowed, ok := softwareSubscriptionFrequencies[p.Term]; !ok || !slices.Contains(allowed, p.BillingFrequency) {
			ps.Add(field, "a software subscription is sold with term P1Y (annual or one_time) or P3Y (annual, triennial or one_time), not %s %s",
				p.Term, p.BillingFrequency)
		}
	}
}

// firstSoftwareOffer is the first software offer, whose check also checks
// the software policy (once per catalog).
func (c *Catalog) firstSoftwareOffer() *Offer {
	for i := range c.Offers {
		if c.Offers[i].CommerceType == CommerceTypeSoftware {
			return &c.Offers[i]
		}
	}
	return nil
}

func (p SoftwarePolicy) validate(ps *problemList) {
	if p.CancelWindowDays < 1 || p.CancelWindowDays > MaxSoftwareCancelWindowDays {
		ps.Add("policy.software.cancel_window_days", "must be 1..%d (CAN-4: 60) when the catalog sells software, not %d",
			MaxSoftwareCancelWindowDays, p.CancelWindowDays)
	}
	if p.DownloadLinkValidityHours < 1 || p.DownloadLinkValidityHours > MaxDownloadLinkValidityHours {
		ps.Add("policy.software.download_link_validity_hours", "must be 1..%d (SW-1: 336, two weeks) when the catalog sells software, not %d",
			MaxDownloadLinkValidityHours, p.DownloadLinkValidityHours)
	}
	if p.DownloadLinkMaxDownloads < 1 || p.DownloadLinkMaxDownloads > MaxDownloadLinkDownloads {
		ps.Add("policy.software.download_link_max_downloads", "must be 1..%d (SW-1: 50) when the catalog sells software, not %d",
			MaxDownloadLinkDownloads, p.DownloadLinkMaxDownloads)
	}
	if p.ActivityLogMaxEntries < 1 || p.ActivityLogMaxEntries > MaxActivityLogEntries {
		ps.Add("policy.software.activity_log_max_entries", "must be 1..%d (SW-2) when the catalog sells software, not %d",
			MaxActivityLogEntries, p.ActivityLogMaxEntries)
	}
}
