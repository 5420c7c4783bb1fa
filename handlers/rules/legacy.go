package rules

import (
	"fmt"
	"sort"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Legacy subscriptions (GEN-5): suspension and data deletion (SUS-2,
// SUS-6), billing while suspended, and REN-1's auto-renew. Decisions,
// where Partner Center's page on creating, suspending or cancelling
// customer subscriptions (2019, and its Japanese edition of 2018) and the
// rule catalogue are silent:
//
//   - Data deletion instant = the suspension instant + R × 24 hours
//     (GEN-1), R = policy.legacy_data_retention_days + the days from the
//     customer's account opening (the UTC date of customer.created) to its
//     first_billing_date, at most policy.legacy_data_retention_max_days
//     (Partner Center: 90, 90 + those days, at most 120). The days count as
//     0 when the first billing date is unknown (or, in stored data, earlier
//     than the opening). Both numbers are catalog policy, never constants
//     here.
//   - The instant is a durable data_deletion timer (G7) and the
//     subscription.suspended event states it (data_deletion_at, and
//     expires_at: the date Partner Center shows under Suspended). The
//     timer is the record of the date; the subscription keeps no copy.
//   - SUS-6: a legacy subscription can be reactivated while now is before
//     the deletion instant (the term is not checked: a legacy
//     subscription renews while suspended, below). At or after it the
//     reactivation is rejected with data_deleted (SUS-6), even if the
//     timer has not been processed yet. Reactivating deletes the timer.
//   - When the timer fires on a subscription still suspended it expires
//     with its data deleted: one subscription.expired (reason
//     legacy_data_deleted, data_deleted true); every other timer of it is
//     deleted. Expired is final, and the fired timer is gone, so it
//     happens once. Cancelling deletes the timer with the others (CAN-2).
//   - SUS-4 is new commerce: suspending a legacy subscription leaves
//     auto-renew as it is (REN-1: legacy auto-renew cannot be turned off).
//   - Billing: a suspended legacy subscription is not billed (Partner
//     Center's current page: new commerce bills while suspended "unlike
//     legacy"). The period current at suspension was charged when it
//     started and is not credited. A period that starts while suspended
//     (monthly billing inside the term, or a renewal) moves on as usual but
//     is charged 0 and emits no billing.charge. On reactivation such an
//     uncharged period is charged for the rest of it, today included:
//     round_half_up(unit price × quantity × days(today..period end) /
//     period days) (GEN-2, GEN-3), reason reactivation, rule SUS-2, the
//     proration showing the charged days as "unused"; the period then
//     starts today (as ORD-9's first add-on period), so a later
//     cancellation credit prorates exactly what was charged. Licenses added
//     or removed in the rest of that period are prorated by the whole
//     period's days, the days before today counted as used (see fullPeriod
//     in quantity.go), so a license costs the same per day as in any other
//     period. A period is "uncharged" when its charge is 0 while its price
//     × quantity is not.
//   - Term end while suspended: the subscription stays suspended until its
//     deletion date. Its auto-renew is on (REN-1), so the term renews as
//     usual (subscription.renewed, no charge while suspended) and the
//     deletion timer keeps running; it never expires at term end for
//     being suspended (that is SUS-3, new commerce).
//   - REN-1: turning a legacy subscription's auto-renew off is rejected
//     (autorenew_locked); turning it on, which it already is, is confirmed.
//   - The cancellation window stays catalog data (cancel_window_hours)
//     with the same code path as new commerce: the rule catalogue says
//     nothing of legacy cancellation.
//   - first_billing_date (customer.created, optional): a YYYY-MM-DD date
//     on or after the day the account opens (the command's effective
//     date); no upper bound, since the policy's maximum caps its effect.
//   - A catalog without the retention policy may not sell legacy offers
//     (the validator says so); a legacy subscription bought under an
//     older catalog cannot be suspended under such a catalog: rejected
//     legacy_retention_not_configured (SUS-2), never deleted at once.

// TimerDataDeletion fires at a suspended legacy subscription's data
// deletion instant (SUS-2).
const TimerDataDeletion = "data_deletion"

// Rejection codes of the legacy rules.
const (
	// CodeAutoRenewLocked: a legacy subscription's auto-renew cannot be
	// turned off (REN-1).
	CodeAutoRenewLocked = "autorenew_locked"
	// CodeDataDeleted: a legacy subscription cannot be reactivated at or
	// after its data deletion instant (SUS-2, SUS-6).
	CodeDataDeleted = "data_deleted"
	// CodeLegacyRetentionNotConfigured: the catalog's policy has no
	// legacy data retention, so a legacy suspension has no deletion date
	// (SUS-2).
	CodeLegacyRetentionNotConfigured = "legacy_retention_not_configured"
)

// isLegacy reports whether a subscription lives under the legacy rules
// (its commerce type is copied from the offer at purchase).
func isLegacy(s *Subscription) bool { return s.CommerceType == catalog.CommerceTypeLegacy }

// unbilledWhileSuspended reports whether a billing period starting now
// goes uncharged: the subscription is legacy and suspended (SUS-2
// Decision). New commerce keeps billing (SUS-3).
func unbilledWhileSuspended(s *Subscription) bool {
	return isLegacy(s) && s.Status == StatusSuspended
}

// accountGapDays is SUS-2's "days between account opening and first
// billing": 0 when the first billing date is unknown or before the
// opening.
func (d *decision) accountGapDays() int {
	c := d.state.Customer
	if c == nil || c.FirstBillingDate == nil {
		return 0
	}
	return max(daysBetween(dateOf(c.CreatedAt), dateOf(*c.FirstBillingDate)), 0)
}

// dataDeletionAt is the instant the data of a legacy subscription
// suspended now is deleted (SUS-2); false when the policy has no
// retention.
func (d *decision) dataDeletionAt() (time.Time, bool) {
	p := d.in.Catalog.Policy
	if p.LegacyDataRetentionDays < 1 || p.LegacyDataRetentionMaxDays < 1 {
		return time.Time{}, false
	}
	return d.in.Now.Add(time.Duration(p.LegacyDataRetention(d.accountGapDays())) * day), true
}

// suspendLegacy applies SUS-2 to a legacy subscription being suspended
// (next is its suspended copy, ev the event to emit): it sets the data
// deletion timer and states the date; auto-renew stays as it is and
// billing stops. It reports false after a rejection.
func (d *decision) suspendLegacy(next *Subscription, ev *messages.SubscriptionSuspendedEvent) bool {
	at, ok := d.dataDeletionAt()
	if !ok {
		d.reject(reject(CodeLegacyRetentionNotConfigured, "SUS-2",
			fmt.Sprintf("subscription %s is legacy and the catalog's policy sets no legacy data retention, so its data deletion date is unknown", next.ID),
			map[string]string{"subscription_id": next.ID}))
		return false
	}
	d.newTimer(TimerDataDeletion, next, at)
	ev.AutoRenewTurnedOff, ev.BillingContinues = false, false
	ev.ExpiresAt, ev.DataDeletionAt = at, at
	return true
}

// dataDeletionTimer is the pending data deletion timer of a subscription,
// nil when it has none.
func (d *decision) dataDeletionTimer(subscriptionID string) *Timer {
	var found []*Timer
	for _, t := range d.state.Timers {
		if t.Kind == TimerDataDeletion && t.SubscriptionID == subscriptionID {
			found = append(found, t)
		}
	}
	if len(found) == 0 {
		return nil
	}
	sort.Slice(found, func(i, j int) bool { return found[i].DueAt.Before(found[j].DueAt) })
	return found[0]
}

// beforeDataDeletion is SUS-6 for legacy: reactivation only before the
// data deletion instant.
func (d *decision) beforeDataDeletion(s *Subscription) bool {
	t := d.dataDeletionTimer(s.ID)
	if t == nil || d.in.Now.Before(t.DueAt) {
		return true
	}
	d.reject(reject(CodeDataDeleted, "SUS-6",
		fmt.Sprintf("subscription %s was not reactivated before %s: its data is deleted", s.ID, t.DueAt.Format(time.RFC3339)),
		map[string]string{"subscription_id": s.ID, "data_deletion_at": t.DueAt.Format(time.RFC3339Nano)}))
	return false
}

// reactivateLegacy cancels the data deletion of a legacy subscription
// being reactivated (next is its active copy) and, when its current
// billing period started while it was suspended and so was not charged,
// charges the rest of that period (SUS-2 Decision). It returns the charge
// to emit after subscription.reactivated, or nil.
func (d *decision) reactivateLegacy(next *Subscription) *messages.BillingEvent {
	if t := d.dataDeletionTimer(next.ID); t != nil {
		d.deleteTimer(t.ID)
	}
	amount := next.UnitPrice * int64(next.Quantity)
	if next.PeriodCharge != 0 || amount <= 0 {
		return nil
	}
	today := dateOf(d.in.Now)
	after := next.PeriodEnd.AddDate(0, 0, 1)
	full := daysBetween(next.PeriodStart, after)
	if full < 1 {
		return nil
	}
	charged := min(max(daysBetween(today, after), 1), full)
	next.PeriodStart = after.AddDate(0, 0, -charged) // today, within the period
	next.PeriodStartedAt = d.in.Now
	next.PeriodCharge = prorate(amount, charged, full)
	charge := billingEvent(next, messages.BillingReasonReactivation, "SUS-2", next.PeriodCharge)
	charge.Proration = &messages.Proration{BaseMinor: amount, UsedDays: full - charged, UnusedDays: charged, PeriodDays: full}
	return charge
}

// dataDeletionDue runs when a data deletion timer fires: a legacy
// subscription still suspended expires with its data deleted (SUS-2).
// One reactivated meanwhile (whose timer is normally gone) is left alone.
func (d *decision) dataDeletionDue(s *Subscription) {
	if s.Status != StatusSuspended {
		return
	}
	d.expire(s, messages.ExpiredLegacyDataDeleted, true)
}

// autoRenewUnlocked is REN-1 for legacy: auto-renew can be turned off only
// for marketplace and new-commerce subscriptions, so turning a legacy
// subscription's off is rejected (autorenew_locked). It reports whether
// the change may go on.
func (d *decision) autoRenewUnlocked(s *Subscription, on bool) bool {
	if on || !isLegacy(s) {
		return true
	}
	d.reject(reject(CodeAutoRenewLocked, "REN-1",
		fmt.Sprintf("subscription %s is a legacy subscription: its auto-renew cannot be turned off", s.ID),
		map[string]string{"subscription_id": s.ID, "commerce_type": s.CommerceType}))
	return false
}

// firstBillingDate checks customer.created's optional first_billing_date
// (SUS-2): a YYYY-MM-DD date on or after the day the account opens (the
// command's effective date, UTC). It returns nil when the field is absent
// and reports false after a rejection.
func (d *decision) firstBillingDate(c *messages.CustomerCreatedData) (*time.Time, bool) {
	if c.FirstBillingDate == "" {
		return nil, true
	}
	const field = "data.first_billing_date"
	t, err := time.Parse(time.DateOnly, c.FirstBillingDate)
	if err != nil {
		d.reject(invalidField(field, fmt.Sprintf("%q is not a date YYYY-MM-DD", c.FirstBillingDate)))
		return nil, false
	}
	if opened := dateOf(d.in.Now); t.Before(opened) {
		d.reject(invalidField(field, fmt.Sprintf("%s is before the account opens on %s (SUS-2 counts the days from opening to first billing)",
			c.FirstBillingDate, formatDate(opened))))
		return nil, false
	}
	return &t, true
}
