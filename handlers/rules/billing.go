package rules

import "github.com/cspreseller/csp-processor/messages"

// billingEvent is a charge or credit of amount for s's current billing
// period, with the subscription's own order, offer, currency, tax basis,
// quantity, unit price and period dates. Callers set what differs after:
// the proration (Proration or LotProrations), a quantity or unit price of
// only some licenses, an offer or order the event names otherwise.
func billingEvent(s *Subscription, reason, rule string, amount int64) *messages.BillingEvent {
	return &messages.BillingEvent{
		SubscriptionID: s.ID, OrderID: s.OrderID, OfferID: s.OfferID, Currency: s.Currency,
		AmountMinor: amount, TaxInclusive: s.TaxInclusive, Quantity: s.Quantity, UnitPriceMinor: s.UnitPrice,
		PeriodStart: formatDate(s.PeriodStart), PeriodEnd: formatDate(s.PeriodEnd),
		Reason: reason, Rule: rule,
	}
}
