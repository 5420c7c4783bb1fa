package messages

import "time"

// EventType names an event; it is also the tail of the event's subject.
type EventType string

const (
	EvtCustomerCreated         EventType = "customer.created"
	EvtOrderProcessed          EventType = "order.processed"
	EvtSubscriptionCreated     EventType = "subscription.created"
	EvtSubscriptionSuspended   EventType = "subscription.suspended"
	EvtSubscriptionReactivated EventType = "subscription.reactivated"
	EvtSubscriptionCancelled   EventType = "subscription.cancelled"
	EvtAutoRenewChanged        EventType = "subscription.autorenew.changed"
	EvtSubscriptionRenewed     EventType = "subscription.renewed"
	EvtSubscriptionExpired     EventType = "subscription.expired"
	EvtCommandRejected         EventType = "command.rejected"
	EvtBillingCharge           EventType = "billing.charge"
	EvtBillingCredit           EventType = "billing.credit"
)

// Event is the envelope of every event the processor emits.
type Event struct {
	// ID is derived from the customer, the command ID and the event's
	// position among the command's events (EventID); consumers deduplicate
	// on it.
	ID            string      `json:"id"`
	Type          EventType   `json:"type"`
	SchemaVersion int         `json:"schema_version"`
	CommandID     string      `json:"command_id"`
	CommandType   CommandType `json:"command_type"`
	PartnerID     string      `json:"partner_id"`
	CustomerID    string      `json:"customer_id"`
	// OccurredAt is the command's effective time: the broker timestamp of
	// the stored command (or the simulated time in simulation mode).
	OccurredAt time.Time `json:"occurred_at"`
	Data       any       `json:"data"`
}

// CustomerCreatedEvent confirms a new customer.
type CustomerCreatedEvent struct {
	CompanyName string `json:"company_name"`
	Segment     string `json:"segment"`
	Country     string `json:"country"`
	Currency    string `json:"currency"`
}

// SubscriptionCreatedEvent is the notification for a fulfilled order line
// (ORD-14).
type SubscriptionCreatedEvent struct {
	SubscriptionID   string `json:"subscription_id"`
	OrderID          string `json:"order_id"`
	LineID           string `json:"line_id"`
	OfferID          string `json:"offer_id"`
	OfferName        string `json:"offer_name"`
	Quantity         int    `json:"quantity"`
	Term             string `json:"term"`
	BillingFrequency string `json:"billing_frequency"`
	// TermStart and TermEnd are dates (YYYY-MM-DD, UTC); the end date is
	// included in the term (GEN-4).
	TermStart string `json:"term_start"`
	TermEnd   string `json:"term_end"`
	AutoRenew bool   `json:"auto_renew"`
	// CancellableUntil is the end of the cancellation window (CAN-1),
	// exclusive.
	CancellableUntil time.Time `json:"cancellable_until"`
}

// OrderProcessedEvent reports an order's status and every line's
// fulfilment (ORD-1).
type OrderProcessedEvent struct {
	OrderID string `json:"order_id"`
	// Status is completed, partially_completed or failed.
	Status string            `json:"status"`
	Lines  []OrderLineResult `json:"lines"`
}

// Order statuses (ORD-1).
const (
	OrderCompleted          = "completed"
	OrderPartiallyCompleted = "partially_completed"
	OrderFailed             = "failed"
)

// OrderLineResult is the fulfilment status of one line.
type OrderLineResult struct {
	LineID  string `json:"line_id"`
	OfferID string `json:"offer_id"`
	// Status is fulfilled or rejected.
	Status         string     `json:"status"`
	SubscriptionID string     `json:"subscription_id,omitempty"`
	Rejection      *Rejection `json:"rejection,omitempty"`
}

// Line fulfilment statuses.
const (
	LineFulfilled = "fulfilled"
	LineRejected  = "rejected"
)

// SubscriptionSuspendedEvent confirms a suspension (SUS-1, SUS-3, SUS-4).
type SubscriptionSuspendedEvent struct {
	SubscriptionID string `json:"subscription_id"`
	Reason         string `json:"reason"`
	// AutoRenewTurnedOff is true when suspending switched auto-renew off
	// (SUS-4).
	AutoRenewTurnedOff bool `json:"auto_renew_turned_off"`
	// BillingContinues is always true for new commerce (SUS-3).
	BillingContinues bool `json:"billing_continues"`
	// ExpiresAt is when the subscription and its data go if it stays
	// suspended: the end of the term (SUS-3).
	ExpiresAt time.Time `json:"expires_at"`
}

// SubscriptionReactivatedEvent confirms a reactivation (SUS-6).
type SubscriptionReactivatedEvent struct {
	SubscriptionID string `json:"subscription_id"`
	AutoRenew      bool   `json:"auto_renew"`
	// Reminder tells the partner that auto-renew stayed off (SUS-4).
	Reminder string `json:"reminder,omitempty"`
}

// SubscriptionCancelledEvent confirms a cancellation (CAN-2, CAN-7).
type SubscriptionCancelledEvent struct {
	SubscriptionID string `json:"subscription_id"`
	// CreditEventID is the ID of the billing.credit event emitted with it.
	CreditEventID string `json:"credit_event_id"`
	CreditMinor   int64  `json:"credit_minor"`
	Currency      string `json:"currency"`
}

// AutoRenewChangedEvent confirms the auto-renew switch (REN-1).
type AutoRenewChangedEvent struct {
	SubscriptionID string `json:"subscription_id"`
	Enabled        bool   `json:"enabled"`
	// RenewsOn is the renewal date when enabled (the day after the term end).
	RenewsOn string `json:"renews_on,omitempty"`
}

// SubscriptionRenewedEvent confirms a completed renewal (REN-2): a new
// term with a new cancellation window that opened when the renewal
// completed.
type SubscriptionRenewedEvent struct {
	SubscriptionID   string    `json:"subscription_id"`
	Renewals         int       `json:"renewals"`
	Quantity         int       `json:"quantity"`
	Term             string    `json:"term"`
	BillingFrequency string    `json:"billing_frequency"`
	TermStart        string    `json:"term_start"`
	TermEnd          string    `json:"term_end"`
	CancellableUntil time.Time `json:"cancellable_until"`
}

// SubscriptionExpiredEvent: the term ended without renewal (REN-3, SUS-3).
type SubscriptionExpiredEvent struct {
	SubscriptionID string `json:"subscription_id"`
	// Reason is auto_renew_off or suspended_at_term_end.
	Reason string `json:"reason"`
	// DataDeleted is true when the customer's data goes with it (a
	// subscription that was suspended at term end, SUS-3, REN-3).
	DataDeleted bool   `json:"data_deleted"`
	TermEnd     string `json:"term_end"`
}

// Expiry reasons.
const (
	ExpiredAutoRenewOff       = "auto_renew_off"
	ExpiredSuspendedAtTermEnd = "suspended_at_term_end"
)

// Rejection is the Partner Center-shaped error of a rejected command or line
// (GEN-6).
type Rejection struct {
	// Code is stable and machine-readable.
	Code        string `json:"code"`
	Description string `json:"description"`
	// Rule is the RULES.md ID that decided it.
	Rule string `json:"rule"`
	// Data holds the deciding facts, for example the window's end.
	Data map[string]string `json:"data,omitempty"`
	// Source is the component that rejected: always "processor".
	Source string `json:"source"`
}

// CommandRejectedEvent is emitted for a rejected command (GEN-6).
type CommandRejectedEvent struct {
	Rejection
}

// BillingEvent is the body of billing.charge and billing.credit. Amounts are
// integer minor units of Currency (GEN-3).
type BillingEvent struct {
	SubscriptionID string `json:"subscription_id"`
	OrderID        string `json:"order_id,omitempty"`
	OfferID        string `json:"offer_id"`
	Currency       string `json:"currency"`
	// AmountMinor is never negative: a credit's amount is what is given
	// back.
	AmountMinor int64 `json:"amount_minor"`
	// TaxInclusive tells whether AmountMinor includes tax (ORD-11).
	TaxInclusive bool `json:"tax_inclusive"`
	Quantity     int  `json:"quantity"`
	// UnitPriceMinor is the price of one license for one billing period.
	UnitPriceMinor int64 `json:"unit_price_minor"`
	// PeriodStart and PeriodEnd are the billing period's dates (end
	// included).
	PeriodStart string     `json:"period_start"`
	PeriodEnd   string     `json:"period_end"`
	Proration   *Proration `json:"proration,omitempty"`
	// Reason is purchase or cancellation.
	Reason string `json:"reason"`
	// Rule is the RULES.md ID the amount follows.
	Rule string `json:"rule"`
}

// Proration shows how a prorated amount was computed (GEN-2, GEN-3):
// AmountMinor = round_half_up(BaseMinor * UnusedDays / PeriodDays).
type Proration struct {
	BaseMinor  int64 `json:"base_minor"`
	UsedDays   int   `json:"used_days"`
	UnusedDays int   `json:"unused_days"`
	PeriodDays int   `json:"period_days"`
}

// Billing reasons.
const (
	BillingReasonPurchase     = "purchase"
	BillingReasonCancellation = "cancellation"
	BillingReasonRenewal      = "renewal"
	BillingReasonPeriod       = "billing_period"
)

// newEventData returns a pointer to the zero data value of an event type.
func newEventData(t EventType) any {
	switch t {
	case EvtCustomerCreated:
		return &CustomerCreatedEvent{}
	case EvtOrderProcessed:
		return &OrderProcessedEvent{}
	case EvtSubscriptionCreated:
		return &SubscriptionCreatedEvent{}
	case EvtSubscriptionSuspended:
		return &SubscriptionSuspendedEvent{}
	case EvtSubscriptionReactivated:
		return &SubscriptionReactivatedEvent{}
	case EvtSubscriptionCancelled:
		return &SubscriptionCancelledEvent{}
	case EvtAutoRenewChanged:
		return &AutoRenewChangedEvent{}
	case EvtSubscriptionRenewed:
		return &SubscriptionRenewedEvent{}
	case EvtSubscriptionExpired:
		return &SubscriptionExpiredEvent{}
	case EvtCommandRejected:
		return &CommandRejectedEvent{}
	case EvtBillingCharge, EvtBillingCredit:
		return &BillingEvent{}
	}
	return nil
}

// EventTypes lists every event type this version emits.
func EventTypes() []EventType {
	return []EventType{EvtCustomerCreated, EvtOrderProcessed, EvtSubscriptionCreated, EvtSubscriptionSuspended,
		EvtSubscriptionReactivated, EvtSubscriptionCancelled, EvtAutoRenewChanged, EvtSubscriptionRenewed,
		EvtSubscriptionExpired, EvtCommandRejected,
		EvtBillingCharge, EvtBillingCredit}
}
