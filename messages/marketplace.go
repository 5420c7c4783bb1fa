package messages

import "time"

// Marketplace SaaS (GEN-5): the setup link of an ISV SaaS purchase
// (ORD-13). Also the exports of a customer's subscriptions and orders
// (EXP-1, EXP-2), answered as queries.

// EvtMarketplaceSetupLink follows the subscription.created and
// billing.charge of a fulfilled marketplace SaaS line (ORD-13).
const EvtMarketplaceSetupLink EventType = "marketplace.setup_link"

// MarketplaceSetupLinkEvent carries the ISV publisher's link where the
// partner completes the account setup or deployment of a marketplace SaaS
// subscription (ORD-13). Neither the partner nor the customer gets an
// e-mail with these instructions: this event is the only place the link
// is given.
type MarketplaceSetupLinkEvent struct {
	SubscriptionID string `json:"subscription_id"`
	OrderID        string `json:"order_id"`
	LineID         string `json:"line_id"`
	OfferID        string `json:"offer_id"`
	OfferName      string `json:"offer_name"`
	// Publisher is the ISV that publishes the offer.
	Publisher string `json:"publisher"`
	// SetupURL is the publisher's setup URL with the subscription ID added
	// as the query parameter subscription_id.
	SetupURL string `json:"setup_url"`
	// EmailSent is always false: no e-mail is sent (ORD-13).
	EmailSent bool `json:"email_sent"`
}

// Export queries (csp.query.<partner>.<role>.<customer>.<name>).
const (
	// QuerySubscriptionsCSV exports the customer's subscriptions of the
	// asking partner as CSV (EXP-1). The request body is empty or {}.
	QuerySubscriptionsCSV = "subscriptions_csv"
	// QueryOrderHistory lists the customer's orders, newest first (EXP-2).
	// The request body is empty, {} or an OrderHistoryRequest.
	QueryOrderHistory = "order_history"
)

// ContentTypeCSV is the media type of SubscriptionsCSV.CSV (RFC 4180).
const ContentTypeCSV = "text/csv"

// SubscriptionsCSV is the reply of subscriptions_csv (EXP-1): an RFC 4180
// document (CRLF line ends, a header row) with the columns Subscription
// ID, Name, Quantity, Status, Billing cycle, Promotion, Reseller ID.
type SubscriptionsCSV struct {
	ContentType string `json:"content_type"`
	CSV         string `json:"csv"`
}

// OrderHistoryRequest optionally bounds order_history by the instant an
// order was placed: From (included) and To (excluded), RFC 3339.
type OrderHistoryRequest struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// OrderHistory is the reply of order_history (EXP-2): the customer's
// orders, newest first.
type OrderHistory struct {
	CustomerID string      `json:"customer_id"`
	Orders     []OrderView `json:"orders"`
}

// OrderView is one order with its status and every line's fulfilment
// (ORD-1, EXP-2).
type OrderView struct {
	OrderID  string    `json:"order_id"`
	PlacedAt time.Time `json:"placed_at"`
	// Status is completed, partially_completed or failed.
	Status string          `json:"status"`
	Lines  []OrderLineView `json:"lines"`
}

// OrderLineView is one order line's fulfilment status: fulfilled with the
// subscription it created, or rejected with the rejection's code.
type OrderLineView struct {
	LineID         string `json:"line_id"`
	OfferID        string `json:"offer_id"`
	Status         string `json:"status"`
	SubscriptionID string `json:"subscription_id,omitempty"`
	Code           string `json:"code,omitempty"`
}
