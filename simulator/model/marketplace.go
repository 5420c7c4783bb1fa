package model

import (
	"fmt"
	"time"
)

// Marketplace SaaS subscriptions (ORD-4, ORD-13, CAN-3): bought, changed
// and renewed as new commerce, with CAN-3's window (the catalog policy's
// hours for the term) in place of the offer's, and a full refund inside
// it.

// marketplaceWindowHours is CAN-3's window of a term: the policy's monthly
// hours for P1M, its annual hours for P1Y (billed monthly or annually).
func (m *Model) marketplaceWindowHours(term string) int {
	p := m.cat.Policy.Marketplace
	switch term {
	case "P1M":
		return p.CancelWindowHoursMonthly
	case "P1Y":
		return p.CancelWindowHoursAnnual
	}
	return 0
}

// BuyMarketplace is a one-line order of a marketplace SaaS license offer
// (ORD-14: the first period in full); the cancellation window and the
// licences' reduction window are CAN-3's, from the purchase instant. The
// order also returns the setup link (ORD-13), which moves no money.
func (m *Model) BuyMarketplace(c *Customer, now time.Time, orderID, lineID, offer, term, freq string, q int) (*Sub, Outcome, error) {
	s, out, err := m.Buy(c, now, orderID, lineID, offer, term, freq, q)
	if err != nil {
		return nil, Outcome{}, err
	}
	s.ext().Type = TypeMarketplace
	s.WindowHours = m.marketplaceWindowHours(term)
	s.CancelUntil = now.Add(time.Duration(s.WindowHours) * time.Hour)
	for _, l := range s.book.lots {
		l.reducibleUntil = s.CancelUntil
	}
	return s, out, nil
}

// Unavailable is an order line of a marketplace offer the acting partner
// cannot buy for the customer (ORD-4): the catalog's reasons in the
// processor's documented order — not transactable, not sold through the
// programme, exclusive to other partners, the customer's country not
// served. It returns the rejection code, "" when the offer is available.
func (m *Model) Unavailable(c *Customer, partner, offer string) string {
	o, ok := m.cat.Offer(offer)
	if !ok || o.Marketplace == nil {
		return RejectNotTransactable
	}
	mp := o.Marketplace
	exclusive := len(mp.ExclusivePartnerIDs) > 0
	for _, p := range mp.ExclusivePartnerIDs {
		if p == partner {
			exclusive = false
		}
	}
	served := false
	for _, cc := range mp.BillingCountries {
		if cc == c.Country {
			served = true
		}
	}
	switch {
	case !mp.Transactable:
		return RejectNotTransactable
	case !mp.SoldThroughCSP:
		return "isv_not_in_csp"
	case exclusive:
		return RejectExclusive
	case !served:
		return "isv_country_not_supported"
	}
	return ""
}

// CancelMarketplace is CAN-3: inside the window (from the purchase or the
// renewal's completion, exclusive end) one credit of everything the
// licences still held were charged for the current period — not prorated
// — each lot's charge as it was rounded when it was charged (licences
// removed earlier in the window were credited then, QTY-2); outside it,
// rejected. Cancelled is final (CAN-2).
func (m *Model) CancelMarketplace(s *Sub, now time.Time) Outcome {
	if !s.InWindow(now) {
		return Outcome{Rejected: RejectCancelWindowClosed}
	}
	amount := s.book.paidByLot()
	s.book.lots = nil
	s.Status, s.AutoRenew = Cancelled, false
	return Outcome{Bills: []Bill{bill(Credit, ReasonCancellation, RuleMarketplaceCancel, s, amount,
		fmt.Sprintf("marketplace cancel at %s, window until %s: full refund", now.Format(time.RFC3339), s.CancelUntil.Format(time.RFC3339)))}}
}
