package model

import (
	"fmt"
	"time"
)

// Legacy subscriptions (GEN-5, SUS-2, REN-1): bought, changed, cancelled
// and renewed as new commerce while active; suspended they are not
// billed, keep auto-renew on and lose their data at a deletion instant;
// their auto-renew cannot be turned off.

// BuyLegacy is a one-line order of a legacy license offer: a purchase as
// new commerce (ORD-14), the first period in full.
func (m *Model) BuyLegacy(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, q int) (*Sub, Outcome, error) {
	s, out, err := m.Buy(c, now, orderID, lineID, offer, term, freq, q)
	if err != nil {
		return nil, Outcome{}, err
	}
	s.ext().Type = TypeLegacy
	return s, out, nil
}

// retentionDays is SUS-2's R: the policy's days plus the days from the
// customer's account opening to its first billing, at most the policy's
// maximum (90 + gap, at most 120, in the catalog).
func (m *Model) retentionDays(c *Customer) int {
	p := m.cat.Policy
	return min(p.LegacyDataRetentionDays+c.FirstBillingGap, p.LegacyDataRetentionMaxDays)
}

// reactivateLegacy is SUS-2's reactivation: the data deletion is called
// off and, when the current billing period started while the subscription
// was suspended (it was not charged), the rest of the period from today's
// date is charged at the whole period's day value; the period is then
// used from now (the day book's tail), so later changes in it count days
// from the reactivation.
func (m *Model) reactivateLegacy(s *Sub, now time.Time) []Bill {
	s.Ext.DeleteAt = time.Time{}
	if !s.Ext.Unbilled {
		return nil
	}
	s.Ext.Unbilled = false
	if s.Unit*int64(s.Qty) == 0 {
		return nil
	}
	charge := s.book.tail(now, s.Unit)
	return []Bill{prorated(bill(Charge, ReasonReactivation, RuleLegacyReactivation, s, roundHalfUp(charge),
		fmt.Sprintf("legacy %s reactivated at %s: %d licences for %s..%s", s, now.Format(time.RFC3339), s.Qty,
			midnight(now).Format(time.DateOnly), s.PeriodEnd.Format(time.DateOnly))))}
}

// SetAutoRenewTyped is REN-1 for the other types: a legacy
// subscription's auto-renew cannot be turned off (autorenew_locked);
// otherwise as new commerce (no money).
func (m *Model) SetAutoRenewTyped(s *Sub, on bool) Outcome {
	if !on && s.Is(TypeLegacy) {
		return Outcome{Rejected: RejectAutoRenewLocked}
	}
	return m.SetAutoRenew(s, on)
}

// CancelTyped is the cancellation of a subscription of another type:
// marketplace SaaS follows CAN-3 (marketplace.go); add-ons and legacy
// subscriptions CAN-1 (Cancel), their partial first period included.
func (m *Model) CancelTyped(s *Sub, now time.Time) Outcome {
	if s.Is(TypeMarketplace) {
		return m.CancelMarketplace(s, now)
	}
	return m.Cancel(s, now)
}
