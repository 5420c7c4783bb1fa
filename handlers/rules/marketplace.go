package rules

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Marketplace SaaS subscriptions (GEN-5): ISV SaaS offers bought through
// the programme (as Partner Center describes them). Purchase goes through
// order.placed like any other line (ORD-1..ORD-3, ORD-6, ORD-12, ORD-14)
// with three additions: ORD-4's availability checks, the CAN-3 window, and
// ORD-13's setup link. Decisions, where Partner Center and the rule
// catalogue are silent:
//
//   - ORD-4 checks run right after ORD-3's segment check, in this order,
//     and the first that fails names the line's rejection:
//     offer_not_transactable (containers, metered SaaS), isv_not_in_csp,
//     offer_exclusive_to_other_partners (the acting partner is not in a
//     non-empty exclusive list), isv_country_not_supported (the
//     customer's billing country). Each has its own code (ORD-4).
//   - ORD-13: a fulfilled line emits subscription.created, billing.charge
//     and then marketplace.setup_link with the publisher's setup URL, the
//     subscription ID added as the query parameter subscription_id (the
//     URL's other parameters kept, all sorted by key, so the link is
//     deterministic). email_sent is false: no e-mail is sent. The link is
//     also kept with the subscription (MarketplaceState).
//   - REN-1: a marketplace subscription auto-renews by default and its
//     auto-renew can be turned off like a new-commerce one (autorenew.go).
//   - CAN-3: the window is the catalog policy's for the subscription's term
//     (P1M: policy.marketplace.cancel_window_hours_monthly, Partner Center:
//     24 hours; P1Y, billed annually or monthly: ..._annual, 14 days = 336
//     hours), counted from the purchase or renewal instant
//     (WindowOpenedAt), half-open like CAN-1: cancellable while now <
//     opened + window. The policy in force when the cancel is decided
//     applies (the rule catalogue: an operator changes it without a
//     release; the current public policy is 72 hours), with the window
//     stored at purchase or renewal as the fallback when the policy no
//     longer names one. subscription.created states the window as it was at
//     purchase.
//   - CAN-3 refund: the full charge of the current billing period, not
//     prorated, net of quantity changes in it (PeriodCharge): one
//     billing.credit (reason cancellation, rule CAN-3, no proration) and
//     one subscription.cancelled (CAN-7). The catalog caps the windows
//     below the shortest billing period, so the period charged at purchase
//     or renewal is the only one charged inside the window. Active and
//     suspended subscriptions can be cancelled alike. After the window:
//     rejected cancellation_window_closed (CAN-3), the data saying when
//     the window opened and closed.
//   - Licenses added within the window can be removed with QTY-2's
//     prorated credit (quantity.go), the window being CAN-3's.

// Rejection codes of ORD-4 (marketplace SaaS availability).
const (
	CodeOfferNotTransactable    = "offer_not_transactable"
	CodeISVNotInCSP             = "isv_not_in_csp"
	CodeOfferExclusive          = "offer_exclusive_to_other_partners"
	CodeISVCountryNotSupported  = "isv_country_not_supported"
	setupLinkSubscriptionIDQKey = "subscription_id"
)

// MarketplaceState is what a marketplace SaaS subscription holds beyond
// the common fields: its publisher and the setup link it was given at
// purchase (ORD-13).
type MarketplaceState struct {
	Publisher string `json:"publisher"`
	SetupURL  string `json:"setup_url"`
}

// isMarketplace reports whether a subscription lives under the marketplace
// SaaS rules (its commerce type is copied from the offer at purchase).
func isMarketplace(s *Subscription) bool { return s.CommerceType == catalog.CommerceTypeMarketplace }

// marketplaceAvailable is ORD-4: whether the acting partner may buy the
// ISV SaaS offer for the customer. Called from fulfilLine for marketplace
// offers only.
func (d *decision) marketplaceAvailable(cust *Customer, offer *catalog.Offer) *messages.Rejection {
	m := offer.Marketplace
	data := map[string]string{"offer_id": offer.ID, "publisher": offer.Publisher}
	switch {
	case m == nil || !m.Transactable:
		return reject(CodeOfferNotTransactable, "ORD-4",
			fmt.Sprintf("%s (%s) cannot be transacted in Partner Center; buy it through the Azure portal", offer.Name, offer.Publisher), data)
	case !m.SoldThroughCSP:
		return reject(CodeISVNotInCSP, "ORD-4",
			fmt.Sprintf("the ISV %s does not offer %s through the CSP programme", offer.Publisher, offer.Name), data)
	case !m.OpenTo(d.in.PartnerID):
		data["partner_id"] = d.in.PartnerID
		return reject(CodeOfferExclusive, "ORD-4",
			fmt.Sprintf("the ISV %s made %s exclusive to other partners", offer.Publisher, offer.Name), data)
	case !m.SupportsCountry(cust.Country):
		data["country"] = cust.Country
		return reject(CodeISVCountryNotSupported, "ORD-4",
			fmt.Sprintf("the ISV %s does not sell %s to customers billed in %s", offer.Publisher, offer.Name, cust.Country), data)
	}
	return nil
}

// marketplaceSubscription completes a new marketplace subscription before
// it is stored: CAN-3's window for its term replaces the offer's (which a
// marketplace offer does not have), and the publisher and setup link are
// kept (ORD-13).
func (d *decision) marketplaceSubscription(sub *Subscription, offer *catalog.Offer) {
	hours := d.in.Catalog.Policy.Marketplace.CancelWindowHours(sub.Term)
	sub.CancelWindowHours = hours
	sub.CancellableUntil = sub.WindowOpenedAt.Add(time.Duration(hours) * time.Hour)
	for i := range sub.Lots {
		sub.Lots[i].ReducibleUntil = sub.CancellableUntil
	}
	if offer.Marketplace != nil {
		sub.Marketplace = &MarketplaceState{Publisher: offer.Publisher, SetupURL: setupLink(offer.Marketplace.SetupURL, sub.ID)}
	}
}

// emitSetupLink is ORD-13: the purchase result carries the publisher's
// setup link; no e-mail is sent.
func (d *decision) emitSetupLink(sub *Subscription) {
	if sub.Marketplace == nil {
		return
	}
	d.emit(messages.EvtMarketplaceSetupLink, &messages.MarketplaceSetupLinkEvent{
		SubscriptionID: sub.ID, OrderID: sub.OrderID, LineID: sub.LineID, OfferID: sub.OfferID, OfferName: sub.OfferName,
		Publisher: sub.Marketplace.Publisher, SetupURL: sub.Marketplace.SetupURL, EmailSent: false,
	})
}

// setupLink adds the subscription ID to the publisher's setup URL as the
// query parameter subscription_id (ORD-13). The catalog validated the URL;
// the query is re-encoded sorted by key, so the link is deterministic.
func setupLink(base, subscriptionID string) string {
	u, err := url.Parse(base)
	if err != nil { // the catalog validated it; keep the link usable anyway
		return base
	}
	q := u.Query()
	q.Set(setupLinkSubscriptionIDQKey, subscriptionID)
	u.RawQuery = q.Encode()
	return u.String()
}

// marketplaceWindow is CAN-3's window of a subscription: the policy's for
// its term, or the one stored at purchase or renewal when the policy names
// none.
func (d *decision) marketplaceWindow(s *Subscription) time.Duration {
	if w := d.in.Catalog.Policy.Marketplace.CancelWindow(s.Term); w > 0 {
		return w
	}
	return time.Duration(s.CancelWindowHours) * time.Hour
}

// cancelMarketplace is CAN-3 with CAN-2 and CAN-7: a marketplace SaaS
// subscription cancelled within its window gets the full charge of its
// current billing period back; after the window the cancel option is gone.
// cancel (cancel.go) has already applied PTN-1, CAN-2, REN-4 and TRI-3.
func (d *decision) cancelMarketplace(s *Subscription) {
	window := d.marketplaceWindow(s)
	end := s.WindowOpenedAt.Add(window)
	if !d.in.Now.Before(end) {
		d.reject(reject(CodeCancelWindowClosed, "CAN-3",
			fmt.Sprintf("marketplace subscription %s (%s term) could be cancelled with a full refund until %s, %d hours after its purchase or renewal; the cancel option is gone",
				s.ID, s.Term, end.Format(time.RFC3339), int(window/time.Hour)),
			map[string]string{"subscription_id": s.ID, "term": s.Term,
				"window_hours":     strconv.Itoa(int(window / time.Hour)),
				"window_opened_at": s.WindowOpenedAt.Format(time.RFC3339Nano), "window_end": end.Format(time.RFC3339Nano)}))
		return
	}
	credit := billingEvent(s, messages.BillingReasonCancellation, "CAN-3", s.PeriodCharge)
	creditID := d.nextEventID()
	d.emit(messages.EvtBillingCredit, credit)

	next := s.clone()
	d.endSubscription(&next, endCancelled, string(messages.CmdSubscriptionCancel))
	d.emit(messages.EvtSubscriptionCancelled, &messages.SubscriptionCancelledEvent{
		SubscriptionID: s.ID, CreditEventID: creditID, CreditMinor: credit.AmountMinor, Currency: s.Currency,
	})
}
