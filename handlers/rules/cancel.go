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
	if !d.notPendingRenewal(s) {
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
	if !d.cancelKeepsAddons(s) { // ORD-7, ORD-8 (addon_limits.go)
		return
	}
	credit := cancellationCredit(s, d.in.Now)
	creditID := d.nextEventID()
	d.emit(messages.EvtBillingCredit, credit)

	next := s.clone()
	d.endSubscription(&next, endCancelled, string(messages.CmdSubscriptionCancel))
	d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
		SubscriptionID: s.ID, CreditEventID: creditID, CreditMinor: credit.AmountMinor, Currency: s.Currency,
	})
	d.cancelAddonsWithBase(s) // ORD-9 (addon_follow.go)
}

// cancellationCredit gives back, lot by lot, what the current billing
// period's licenses were charged for the days not used (CAN-1 with QTY-2's
// lots): a lot bought with the period counts its days from the instant the
// period started to be used, a lot added during the period from its own
// purchase, every started day in full (GEN-2). The lots' shares are added
// and rounded half up once (GEN-3). For a single lot this is the period
// charge prorated by unused days; with several lots it does not charge the
// partner twice for the days before a later lot was added (prorating the
// whole period charge would).
//
// Where the period charge is not the sum of its lots' charges (a legacy
// period not billed while suspended, an upgrade that mixed two prices,
// software) the period charge itself is prorated.
//
// Lot by lot, the days are those of the whole billing period (fullPeriod),
// also for a partial first period (ORD-9, SUS-2). So is a single lot of a
// partial period: its charge was the covered days at the whole period's
// daily value, rounded once, and prorating that rounded charge by the
// covered days would round a second time (GEN-3; 650 × 15/16 = 609.375
// where 1260 × 15/31 = 609.68 gives 610). Decision: the credit is then
// that lot's unused days at the whole period's daily value, rounded once,
// shown as the event's single proration.
func cancellationCredit(s *Subscription, now time.Time) *messages.BillingEvent {
	p := periodDays(s)
	used := usedDays(now.Sub(s.PeriodStartedAt))
	unused := max(p-used, 0)
	credit := billingEvent(s, messages.BillingReasonCancellation, "CAN-1", prorate(s.PeriodCharge, unused, p))
	credit.Proration = &messages.Proration{BaseMinor: s.PeriodCharge, UsedDays: used, UnusedDays: unused, PeriodDays: p}
	lots := normalizedLots(s)
	if !chargedByLots(s, lots) {
		return credit
	}
	if len(lots) == 1 {
		if _, uncovered := fullPeriod(s); uncovered > 0 { // a partial period, see above
			pr := lotProration(s, lots[0], lots[0].Quantity, now)
			credit.Proration = &pr
			credit.AmountMinor = prorate(pr.BaseMinor, pr.UnusedDays, pr.PeriodDays)
		}
		return credit
	}
	credit.Proration = nil
	var parts []messages.Proration
	for _, lot := range lots {
		parts = append(parts, lotProration(s, lot, lot.Quantity, now))
	}
	credit.LotProrations = parts
	credit.AmountMinor = prorateSum(parts)
	return credit
}

// chargedByLots tells whether the period charge is exactly the sum of its
// lots' charges, so that a refund lot by lot gives back what was charged.
func chargedByLots(s *Subscription, lots []Lot) bool {
	var sum int64
	for _, lot := range lots {
		sum += lotCharge(s, lot, lot.Quantity)
	}
	return sum == s.PeriodCharge
}
