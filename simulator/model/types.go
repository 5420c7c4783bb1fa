package model

import (
	"math/big"
	"sort"
	"time"
)

// Commerce types besides new commerce (GEN-5), as the catalog spells
// them.
const (
	TypeLegacy      = "legacy"
	TypeMarketplace = "marketplace_saas"
	TypeSoftware    = "software"
)

// Add-on kinds, as the catalog spells them (ORD-7, ORD-8, ORD-9).
const (
	AddonMultiGeo    = "multi_geo"
	AddonCopilot     = "copilot"
	AddonCoterminous = "coterminous"
)

// Rejection codes of the other commerce types the generator provokes on
// purpose (or that the model must predict).
const (
	RejectAddonBelowMinimum     = "addon_below_minimum"
	RejectAddonAboveMaximum     = "addon_above_maximum"
	RejectAddonRequiresBase     = "addon_requires_base"
	RejectBaseSuspended         = "base_subscription_suspended"
	RejectAutoRenewLocked       = "autorenew_locked"
	RejectDataDeleted           = "data_deleted"
	RejectNotTransactable       = "offer_not_transactable"
	RejectExclusive             = "offer_exclusive_to_other_partners"
	RejectSupportRequest        = "support_request_required"
	RejectNotCancellable        = "not_cancellable"
	ReasonReactivation          = "reactivation"
	ReasonSoftwareCancel        = "software_cancellation"
	RuleAddonCoterminous        = "ORD-9"
	RuleLegacyReactivation      = "SUS-2"
	RuleMarketplaceCancel       = "CAN-3"
	RuleSoftwareCancel          = "CAN-4"
	ruleSuspendWithBase         = "SUS-5"
	dueNever                due = 100
	dueDataDeletion         due = 101
)

// Ext is what a subscription holds beyond a plain new-commerce one: its
// commerce type, its add-on link (SUS-5) and the state of the rules of
// its type. A base subscription gets one when an add-on is bought on it.
type Ext struct {
	// Type is the commerce type; "" is new commerce.
	Type string
	// Addon is the add-on kind; "" for a subscription that is not one.
	Addon string
	// Base is the base an add-on is linked to (SUS-5, ORD-9); nil when it
	// has none. Addons are the add-ons linked to this subscription.
	Base   *Sub
	Addons []*Sub
	// WithBase: suspended with its base (SUS-5), so reactivated with it.
	WithBase bool
	// DeleteAt is a suspended legacy subscription's data deletion instant
	// (SUS-2); zero while it is not suspended.
	DeleteAt time.Time
	// Unbilled: the current billing period started while a legacy
	// subscription was suspended and was not charged (SUS-2).
	Unbilled bool
	// Perpetual software has no term, no calendar and no renewal.
	Perpetual bool
	// SoftwareUntil is the end of a software purchase's cancellation
	// window (CAN-4), exclusive, opened at SoftwareBought; Exception its
	// catalog cancel exception.
	SoftwareBought, SoftwareUntil time.Time
	Exception                     string
}

func (s *Sub) ext() *Ext {
	if s.Ext == nil {
		s.Ext = &Ext{}
	}
	return s.Ext
}

// Is tells whether s is of the commerce type.
func (s *Sub) Is(typ string) bool { return s.Ext != nil && s.Ext.Type == typ }

// IsAddon tells whether s is an add-on (of any kind).
func (s *Sub) IsAddon() bool { return s.Ext != nil && s.Ext.Addon != "" }

// LiveAddons are the live add-ons linked to s, by ascending subscription ID
// (the order the processor treats them in, SUS-5).
func (s *Sub) LiveAddons() []*Sub {
	if s.Ext == nil {
		return nil
	}
	var out []*Sub
	for _, a := range s.Ext.Addons {
		if a.Live() {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// typedDue changes a subscription's next calendar event for its type:
// perpetual software has none; a suspended legacy subscription's data is
// deleted at its deletion instant if that comes first (SUS-2).
func (s *Sub) typedDue(at time.Time, what due) (time.Time, due) {
	switch {
	case s.Ext == nil:
	case s.Ext.Perpetual:
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), dueNever
	case s.Ext.Type == TypeLegacy && s.Status == Suspended && !s.Ext.DeleteAt.IsZero() && !s.Ext.DeleteAt.After(at):
		return s.Ext.DeleteAt, dueDataDeletion
	}
	return at, what
}

// fireTyped applies a calendar event the type changes, and reports
// whether it did; the calendar (timers.go) applies the others.
//
//   - SUS-2: at its data deletion instant a suspended legacy subscription
//     expires, without money.
//   - SUS-2: a suspended legacy subscription is not billed: a billing
//     period that starts while it is suspended is not charged, and its
//     term does not expire for being suspended (REN-1: its auto-renew is
//     on) but renews, uncharged. The licences keep their lots (a renewal
//     opens a new one and its window) and pay no day of the period.
func (m *Model) fireTyped(s *Sub, at time.Time, what due) ([]Bill, bool) {
	if s.Ext == nil || s.Ext.Type != TypeLegacy {
		return nil, false
	}
	if what == dueDataDeletion {
		s.Status, s.Ext.DeleteAt = Expired, time.Time{}
		return nil, true
	}
	if s.Status != Suspended {
		if what == duePeriod || what == dueRenewalComplete {
			s.Ext.Unbilled = false
		}
		return nil, false
	}
	switch what {
	case duePeriod:
		s.PeriodStart = s.PeriodEnd.AddDate(0, 0, 1)
		s.PeriodEnd = s.periodEndFrom(s.PeriodStart)
		s.book, _ = s.book.nextPeriod(s.PeriodStart, s.PeriodEnd, s.Unit)
		s.book.unpay()
		s.Ext.Unbilled = true
	case dueTermEnd:
		s.RenewingUntil = at.Add(time.Duration(m.cat.Policy.RenewalProcessingMinutes) * time.Minute)
		if s.RenewingUntil.Equal(at) {
			m.renew(s, at)
			s.book.unpay()
			s.Ext.Unbilled = true
		}
	case dueRenewalComplete:
		m.renew(s, at)
		s.book.unpay()
		s.Ext.Unbilled = true
	default:
		return nil, false
	}
	return nil, true
}

// unpay leaves every lot of the book holding its licences but paying no
// day of the period (a legacy period not billed while suspended, SUS-2).
func (b *book) unpay() {
	for _, l := range b.lots {
		l.paid = nil
	}
}

// dayIndex is the index in the period of the date of t.
func (b *book) dayIndex(t time.Time) int {
	return countDates(b.start, midnight(t)) - 1
}

// tail makes the book cover only the period's days from the date of now
// on, used from now (ORD-9's first period of an add-on, SUS-2's rest of a
// period after a legacy reactivation): every lot keeps its licences and
// its window, is held from now and pays the covered days at price's
// whole-period day value (a licence costs the same per day whatever part
// of the period is covered). It returns the exact charge.
func (b *book) tail(now time.Time, price int64) *big.Rat {
	b.from = min(max(b.dayIndex(now), 0), b.days-1)
	b.began = now
	old := b.lots
	b.lots = nil
	sum := new(big.Rat)
	for _, l := range old {
		sum.Add(sum, b.withPeriod(l.n, price, l.added, l.reducibleUntil))
	}
	return sum
}

// paidByLot is what each lot paid for the current period, rounded as each
// was charged (CAN-3's full refund gives back what the licences still held
// were charged, lot by lot).
func (b *book) paidByLot() int64 {
	var total int64
	for _, l := range b.lots {
		total += roundHalfUp(l.paidValue(l.n))
	}
	return total
}
