package rules

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// cancel applies CAN-1, CAN-2 and CAN-7. A license-based new-commerce
// subscription (active or suspended) can be cancelled only before its
// cancellation window closes (purchase or renewal + the offer's window,
// 168 hours in the catalog); the refund is the current billing period's
// charge prorated by unused days (GEN-2, GEN-3). Every accepted cancellation
// emits exactly one billing.credit (possibly zero) and one
// subscription.cancelled; cancelled is final.
func (d *decision) cancel(c *messages.CancelData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) {
		return
	}
	if !d.notPendingRenewal(s, true) {
		return
	}
	if s.Trial { // TRI-3: no status change during a trial; turn auto-renew off to let it lapse
		d.reject(reject(CodeTrialNoChange, "TRI-3",
			fmt.Sprintf("subscription %s is a trial: its status cannot change; turn auto-renew off and it expires at its end", s.ID),
			map[string]string{"subscription_id": s.ID}))
		return
	}
	if isMarketplace(s) { // CAN-3: full refund within the marketplace window (marketplace.go)
		d.cancelMarketplace(s)
		return
	}
	licensed := s.BillingType != "usage"
	if licensed && !d.in.Now.Before(s.CancellableUntil) {
		d.reject(reject(CodeCancelWindowClosed, "CAN-1",
			fmt.Sprintf("subscription %s could be cancelled until %s; the partner owes the full term", s.ID, s.CancellableUntil.Format(time.RFC3339)),
			map[string]string{"subscription_id": s.ID, "window_opened_at": s.WindowOpenedAt.Format(time.RFC3339Nano),
				"window_end": s.CancellableUntil.Format(time.RFC3339Nano)}))
		return
	}
	credit := cancellationCredit(s, d.in.Now)
	creditID := d.nextEventID()
	d.emit(messages.EvtBillingCredit, credit)

	next := s.clone()
	now := d.in.Now
	next.Status, next.CancelledAt, next.AutoRenew = StatusCancelled, &now, false
	d.clearScheduled(&next, string(messages.CmdSubscriptionCancel)) // SCH-3
	d.putSubscription(&next)
	d.deleteTimersOf(s.ID)
	d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
		SubscriptionID: s.ID, CreditEventID: creditID, CreditMinor: credit.AmountMinor, Currency: s.Currency,
	})
}

// cancellationCredit prorates the current billing period's charge: the
// days from the instant the period started to be used up to now count as
// used, every started day in full (GEN-2), and the rest is refunded,
// rounded half up once (GEN-3).
func cancellationCredit(s *Subscription, now time.Time) *messages.BillingEvent {
	periodDays := daysBetween(s.PeriodStart, s.PeriodEnd.AddDate(0, 0, 1))
	used := usedDays(now.Sub(s.PeriodStartedAt))
	unused := max(periodDays-used, 0)
	return &messages.BillingEvent{
		SubscriptionID: s.ID, OrderID: s.OrderID, OfferID: s.OfferID, Currency: s.Currency,
		AmountMinor:  prorate(s.PeriodCharge, unused, periodDays),
		TaxInclusive: s.TaxInclusive, Quantity: s.Quantity, UnitPriceMinor: s.UnitPrice,
		PeriodStart: formatDate(s.PeriodStart), PeriodEnd: formatDate(s.PeriodEnd),
		Proration: &messages.Proration{BaseMinor: s.PeriodCharge, UsedDays: used, UnusedDays: unused, PeriodDays: periodDays},
		Reason:    messages.BillingReasonCancellation, Rule: "CAN-1",
	}
}
