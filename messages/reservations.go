package messages

// Azure reservations (RES-1, RES-2, CAN-5, CAN-6, ORD-5), as Partner Center
// manages them. A reservation is bought with order.placed (a line of an
// azure_reservation offer, with OrderLine.Scope and
// OrderLine.AzureSubscriptionID); these commands manage it afterwards.
// Roles (ROL-1, as Partner Center names them): admin_agent, global_admin,
// helpdesk_agent, sales_agent, user_management_admin.
const (
	// CmdReservationScopeChange changes a reservation's scope and the
	// Azure subscription it applies to (RES-1).
	CmdReservationScopeChange CommandType = "reservation.scope.change"
	// CmdReservationCancel cancels a reservation with CAN-5's refund.
	CmdReservationCancel CommandType = "reservation.cancel"
	// CmdReservationExchange exchanges a reservation for another one
	// (CAN-6).
	CmdReservationExchange CommandType = "reservation.exchange"
)

const (
	// EvtReservationCreated follows subscription.created for a reservation
	// line (RES-1): its reservation and reservation order IDs, scope and
	// expiry.
	EvtReservationCreated      EventType = "reservation.created"
	EvtReservationScopeChanged EventType = "reservation.scope.changed"
	EvtReservationCancelled    EventType = "reservation.cancelled"
	EvtReservationExchanged    EventType = "reservation.exchanged"
)

// Reservation scopes (RES-1). A single-scope reservation applies to one
// Azure subscription, which must be named; a shared one applies to every
// eligible Azure subscription of the customer, and names none.
const (
	ScopeSingle = "single"
	ScopeShared = "shared"
)

// ExpiredReservationEnded is the subscription.expired reason of a
// reservation at its term end: reservations do not renew.
const ExpiredReservationEnded = "reservation_ended"

// BillingReasonReservationExchange is the reason of the one billing event
// of an exchange (CAN-6): a charge of the new reservation's price minus
// the old one's prorated refund, or a credit of the difference.
const BillingReasonReservationExchange = "reservation_exchange"

// RefundPaidToPartner is where a reservation refund goes (RES-2): to the
// partner, never to the customer directly.
const RefundPaidToPartner = "partner"

// ReservationScopeChangeData changes a reservation's scope (RES-1).
type ReservationScopeChangeData struct {
	SubscriptionID string `json:"subscription_id"`
	// Scope is single or shared.
	Scope string `json:"scope"`
	// AzureSubscriptionID (a GUID) is required with scope single and
	// forbidden with scope shared.
	AzureSubscriptionID string `json:"azure_subscription_id,omitempty"`
}

// ReservationCancelData cancels a reservation (CAN-5).
type ReservationCancelData struct {
	SubscriptionID string `json:"subscription_id"`
	// Used tells whether the reservation has been used (Partner Center's
	// "usage" column); required: within the full-refund days an unused
	// reservation is refunded 100%, a used one prorated.
	Used *bool `json:"used"`
}

// ReservationExchangeData exchanges a reservation for a new one (CAN-6).
type ReservationExchangeData struct {
	SubscriptionID string `json:"subscription_id"`
	// TargetOfferID is an azure_reservation offer of the same resource
	// type.
	TargetOfferID string `json:"target_offer_id"`
	// Quantity is the number of instances of the new reservation.
	Quantity         *int   `json:"quantity"`
	Term             string `json:"term"`
	BillingFrequency string `json:"billing_frequency"`
}

// ReservationCreatedEvent: a reservation was bought (order.placed) or
// created by an exchange (RES-1).
type ReservationCreatedEvent struct {
	SubscriptionID     string `json:"subscription_id"`
	ReservationID      string `json:"reservation_id"`
	ReservationOrderID string `json:"reservation_order_id"`
	ResourceType       string `json:"resource_type"`
	SKU                string `json:"sku"`
	Region             string `json:"region"`
	Quantity           int    `json:"quantity"`
	Scope              string `json:"scope"`
	// AzureSubscriptionID is set for scope single.
	AzureSubscriptionID string `json:"azure_subscription_id,omitempty"`
	// ExpiresOn is the last day the reservation applies (its term end,
	// YYYY-MM-DD, included); it ends at 00:00 UTC the next day and does
	// not renew.
	ExpiresOn string `json:"expires_on"`
	// ExchangedFrom names the reservation subscription this one replaced
	// (CAN-6).
	ExchangedFrom string `json:"exchanged_from,omitempty"`
}

// ReservationScopeChangedEvent confirms a scope change (RES-1).
type ReservationScopeChangedEvent struct {
	SubscriptionID              string `json:"subscription_id"`
	ReservationID               string `json:"reservation_id"`
	PreviousScope               string `json:"previous_scope"`
	PreviousAzureSubscriptionID string `json:"previous_azure_subscription_id,omitempty"`
	Scope                       string `json:"scope"`
	AzureSubscriptionID         string `json:"azure_subscription_id,omitempty"`
}

// ReservationCancelledEvent explains a reservation's refund (CAN-5,
// RES-2). It follows billing.credit and subscription.cancelled.
type ReservationCancelledEvent struct {
	SubscriptionID     string `json:"subscription_id"`
	ReservationID      string `json:"reservation_id"`
	ReservationOrderID string `json:"reservation_order_id"`
	// DaysSincePurchase counts every started day (GEN-2) since the
	// purchase, or, for a reservation created by an exchange (CAN-6), since
	// the purchase of the first reservation it was exchanged from; Used is
	// the command's answer.
	DaysSincePurchase int  `json:"days_since_purchase"`
	Used              bool `json:"used"`
	// Row is Partner Center's table row that applied: full_refund
	// (within the full-refund days, unused), prorated (within them,
	// used) or prorated_with_fee (after them).
	Row string `json:"row"`
	// BalanceMinor is what the refund starts from: the whole charge of the
	// current billing period (full_refund) or its prorated remaining value,
	// plus PrepaidMinor, rounded half up. After the full-refund days
	// CreditMinor = round_half_up(exact balance * (100 - FeePercent) / 100),
	// rounded once (GEN-3), and FeeMinor = BalanceMinor - CreditMinor;
	// before them FeeMinor = 0 and CreditMinor = BalanceMinor.
	BalanceMinor int64 `json:"balance_minor"`
	// Proration shows how a prorated balance was computed (GEN-2, GEN-3);
	// absent for full_refund. The billing.credit carries it too when no
	// fee and no prepaid part apply (its amount is then the balance).
	Proration *Proration `json:"proration,omitempty"`
	// PrepaidMinor is the part of an exchange's applied refund (CAN-6) not
	// yet used by the reservation's billing periods; it is in BalanceMinor.
	PrepaidMinor int64  `json:"prepaid_minor,omitempty"`
	FeePercent   int    `json:"fee_percent"`
	FeeMinor     int64  `json:"fee_minor"`
	CreditMinor  int64  `json:"credit_minor"`
	Currency     string `json:"currency"`
	// CreditEventID names the billing.credit emitted with it.
	CreditEventID string `json:"credit_event_id"`
	// RefundCapCurrency, RefundCountedMinor and CapHeadroomMinor: the
	// credit as it counts against the refund cap, and what remains of the
	// cap in the rolling window after it.
	RefundCapCurrency  string `json:"refund_cap_currency"`
	RefundCountedMinor int64  `json:"refund_counted_minor"`
	CapHeadroomMinor   int64  `json:"cap_headroom_minor"`
	// RefundPaidTo is always "partner" (RES-2): the partner refunds its
	// customer.
	RefundPaidTo string `json:"refund_paid_to"`
	Rule         string `json:"rule"`
}

// ReservationExchangedEvent explains an exchange (CAN-6).
type ReservationExchangedEvent struct {
	SubscriptionID        string `json:"subscription_id"`
	ReservationID         string `json:"reservation_id"`
	NewSubscriptionID     string `json:"new_subscription_id"`
	NewReservationID      string `json:"new_reservation_id"`
	NewReservationOrderID string `json:"new_reservation_order_id"`
	// RefundMinor is the old reservation's refund, with no fee and always
	// prorated: its current billing period's prorated value (Proration)
	// plus PrepaidMinor, what it still had prepaid from an earlier exchange.
	RefundMinor  int64      `json:"refund_minor"`
	Proration    *Proration `json:"proration,omitempty"`
	PrepaidMinor int64      `json:"prepaid_minor,omitempty"`
	// NewPriceMinor is the new reservation's price for its whole term (paid
	// up front: its one charge; monthly: the month's charge times the
	// term's months). AppliedMinor = min(RefundMinor, NewPriceMinor) pays
	// it: its first billing period first, the rest (NewPrepaidMinor) its
	// later billing periods, each then charged only what is not covered.
	NewPriceMinor   int64 `json:"new_price_minor"`
	AppliedMinor    int64 `json:"applied_minor"`
	NewPrepaidMinor int64 `json:"new_prepaid_minor"`
	// The refund beyond NewPriceMinor is paid out as a cancellation would
	// pay it (CAN-5): after the full-refund days of the first purchase of
	// the chain less the fee, FeeMinor = RefundMinor - AppliedMinor - paid
	// out, the paid-out part rounded once (GEN-3).
	FeePercent int   `json:"fee_percent"`
	FeeMinor   int64 `json:"fee_minor"`
	// NetMinor is the one billing event: the new first billing period's
	// charge not covered by AppliedMinor, charged when >= 0
	// (billing.charge), or the refund paid out, credited (billing.credit
	// of -NetMinor).
	NetMinor       int64  `json:"net_minor"`
	Currency       string `json:"currency"`
	BillingEventID string `json:"billing_event_id"`
	// RefundCountedMinor is the net credit as it counts against the refund
	// cap, in RefundCapCurrency (0 when the exchange is charged).
	RefundCapCurrency  string `json:"refund_cap_currency"`
	RefundCountedMinor int64  `json:"refund_counted_minor"`
	RefundPaidTo       string `json:"refund_paid_to,omitempty"`
	Rule               string `json:"rule"`
}
