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
	EvtQuantityChanged         EventType = "subscription.quantity.changed"
	EvtSubscriptionUpgraded    EventType = "subscription.upgraded"
	EvtScheduleChanged         EventType = "subscription.schedule.changed"
	EvtTrialConverted          EventType = "subscription.trial.converted"
	EvtCommandRejected         EventType = "command.rejected"
	EvtCommandDeferred         EventType = "command.deferred"
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
	// TestClockID is the test clock the customer lives on (TCK-2).
	TestClockID string `json:"test_clock_id,omitempty"`
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
	// suspended: the end of the term (SUS-3); for a legacy subscription
	// its data deletion instant (SUS-2).
	ExpiresAt time.Time `json:"expires_at"`
	// DataDeletionAt is set for a legacy subscription only: the instant
	// its data is deleted unless it is reactivated before (SUS-2,
	// SUS-6). BillingContinues is false for it: a suspended legacy
	// subscription is not billed.
	DataDeletionAt time.Time `json:"data_deletion_at,omitzero"`
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
	// BaseSubscriptionID is set on a co-terminous add-on cancelled with
	// its base (ORD-9): the base whose cancellation ended it.
	BaseSubscriptionID string `json:"base_subscription_id,omitempty"`
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
	OfferID          string    `json:"offer_id"`
	Quantity         int       `json:"quantity"`
	Term             string    `json:"term"`
	BillingFrequency string    `json:"billing_frequency"`
	TermStart        string    `json:"term_start"`
	TermEnd          string    `json:"term_end"`
	CancellableUntil time.Time `json:"cancellable_until"`
	// AppliedChanges are the scheduled changes this renewal applied
	// (SCH-1); Warning is SCH-4's when licenses need reassigning by hand.
	AppliedChanges *ScheduledChangeView `json:"applied_changes,omitempty"`
	Warning        string               `json:"warning,omitempty"`
	// DroppedChanges are the scheduled changes this renewal did not apply
	// because the catalog no longer sells what they name (SCH-1); the
	// subscription renewed on its current plan instead.
	DroppedChanges *DroppedChangesView `json:"dropped_changes,omitempty"`
}

// DroppedChangesView is a scheduled change a renewal dropped (SCH-1): what
// was scheduled, and why, as the code, rule and description schedule.set
// would now be rejected with (plan_not_available, offer_not_found, ...).
type DroppedChangesView struct {
	Scheduled   *ScheduledChangeView `json:"scheduled"`
	Code        string               `json:"code"`
	Rule        string               `json:"rule"`
	Description string               `json:"description"`
}

// SubscriptionExpiredEvent: the term ended without renewal (REN-3, SUS-3).
type SubscriptionExpiredEvent struct {
	SubscriptionID string `json:"subscription_id"`
	// Reason is auto_renew_off, suspended_at_term_end or
	// legacy_data_deleted.
	Reason string `json:"reason"`
	// DataDeleted is true when the customer's data goes with it (a
	// subscription that was suspended at term end, SUS-3, REN-3, or a
	// legacy subscription still suspended at its deletion date, SUS-2).
	DataDeleted bool   `json:"data_deleted"`
	TermEnd     string `json:"term_end"`
}

// LotView is one lot of licenses (QTY-2, QTY-3).
type LotView struct {
	Quantity int       `json:"quantity"`
	AddedAt  time.Time `json:"added_at"`
	// ReducibleUntil is the end (exclusive) of the lot's 168-hour window.
	ReducibleUntil time.Time `json:"reducible_until"`
}

// QuantityChangedEvent confirms a license count change (QTY-1, QTY-2).
type QuantityChangedEvent struct {
	SubscriptionID   string    `json:"subscription_id"`
	PreviousQuantity int       `json:"previous_quantity"`
	Quantity         int       `json:"quantity"`
	Lots             []LotView `json:"lots"`
	UpdateCount      int       `json:"update_count"`
	// ScheduledChangesDeleted is true when the change removed the stored
	// scheduled changes (SCH-3).
	ScheduledChangesDeleted bool `json:"scheduled_changes_deleted,omitempty"`
	// RemovedLots are, for a decrease, the licenses taken from each lot,
	// newest lot first (QTY-2); each has its own billing.credit.
	RemovedLots []LotView `json:"removed_lots,omitempty"`
	// BillingEventIDs name the billing.charge (increase) or billing.credit
	// events (decrease, one per lot) that follow this event.
	BillingEventIDs []string `json:"billing_event_ids"`
	// ChargedMinor and CreditedMinor are their total, in Currency's minor
	// units (GEN-3).
	ChargedMinor  int64  `json:"charged_minor,omitempty"`
	CreditedMinor int64  `json:"credited_minor,omitempty"`
	Currency      string `json:"currency"`
}

// SubscriptionUpgradedEvent confirms an upgrade (UPG-*). For a scheduled
// upgrade it confirms the schedule; the upgrade itself happens at renewal.
type SubscriptionUpgradedEvent struct {
	SubscriptionID       string `json:"subscription_id"`
	FromOfferID          string `json:"from_offer_id"`
	TargetOfferID        string `json:"target_offer_id"`
	TargetSubscriptionID string `json:"target_subscription_id"`
	Quantity             int    `json:"quantity"`
	// Mode is full_in_place, full_into_existing, partial_new,
	// partial_into_existing or scheduled.
	Mode string `json:"mode"`
	// Warning tells the partner what it must do by hand (UPG-3: licenses
	// to reassign).
	Warning string `json:"warning,omitempty"`
	// LicensesReassigned is true when the licenses move to the target SKU
	// automatically (UPG-3); when false, Warning says why they must be
	// assigned by hand.
	LicensesReassigned bool `json:"licenses_reassigned"`
	// SourceQuantity and SourceStatus describe the source subscription
	// after the upgrade: the licenses it keeps (UPG-4) and its status
	// (cancelled when all its licenses went into another subscription).
	SourceQuantity int    `json:"source_quantity"`
	SourceStatus   string `json:"source_status"`
	// TargetQuantity, Term, BillingFrequency and TermEnd describe the
	// target subscription after the upgrade (an existing target keeps its
	// own term and billing frequency, UPG-3; a new one ends with the
	// source, UPG-4).
	TargetQuantity   int    `json:"target_quantity"`
	Term             string `json:"term"`
	BillingFrequency string `json:"billing_frequency"`
	TermEnd          string `json:"term_end"`
	// CreditEventID and ChargeEventID name the billing.credit (the source's
	// unused part of its billing period) and billing.charge (the target's)
	// emitted with an immediate upgrade; empty for a scheduled one.
	CreditEventID string `json:"credit_event_id,omitempty"`
	ChargeEventID string `json:"charge_event_id,omitempty"`
	CreditMinor   int64  `json:"credit_minor"`
	ChargeMinor   int64  `json:"charge_minor"`
	Currency      string `json:"currency"`
	// RenewsOn is the date a scheduled upgrade takes effect (the day after
	// the term end), and Scheduled the subscription's stored scheduled
	// changes with it (UPG-7, SCH-1).
	RenewsOn  string               `json:"renews_on,omitempty"`
	Scheduled *ScheduledChangeView `json:"scheduled,omitempty"`
}

// ScheduledChangeView is a subscription's stored scheduled changes (SCH-1).
type ScheduledChangeView struct {
	OfferID          string `json:"offer_id,omitempty"`
	Quantity         int    `json:"quantity,omitzero"`
	Term             string `json:"term,omitempty"`
	BillingFrequency string `json:"billing_frequency,omitempty"`
}

// ScheduleChangedEvent reports the scheduled changes after a set or delete
// (nil Scheduled: none stored).
type ScheduleChangedEvent struct {
	SubscriptionID string               `json:"subscription_id"`
	Scheduled      *ScheduledChangeView `json:"scheduled,omitempty"`
	// Reason is set, deleted, or the command that deleted them (SCH-3).
	Reason string `json:"reason"`
}

// TrialConvertedEvent confirms a trial conversion (TRI-*), immediate or at
// the trial's end.
type TrialConvertedEvent struct {
	TrialSubscriptionID  string `json:"trial_subscription_id"`
	TargetSubscriptionID string `json:"target_subscription_id"`
	TargetOfferID        string `json:"target_offer_id"`
	Quantity             int    `json:"quantity"`
	Term                 string `json:"term"`
	BillingFrequency     string `json:"billing_frequency"`
	// Mode is new or into_existing for a conversion that happened, or
	// scheduled for a conversion stored for the trial's end (TRI-6); the
	// conversion itself is reported again, as new or into_existing, when
	// the trial ends.
	Mode string `json:"mode"`
	// Rule is the rule catalogue's ID of the rule the conversion
	// followed: TRI-5 (immediate), TRI-6 (scheduled, or applied at the
	// trial's end) or TRI-1 (the default conversion at the trial's
	// end).
	Rule string `json:"rule"`
	// EffectiveAt is when the paid subscription starts (or started): now
	// for an immediate conversion, the trial's end (00:00 UTC the day after
	// its end date) otherwise.
	EffectiveAt time.Time `json:"effective_at"`
	// TrialEnd is the trial's last day (YYYY-MM-DD, included).
	TrialEnd string `json:"trial_end"`
	// TermStart and TermEnd are the paid subscription's term (for
	// into_existing the target's own, unchanged term, TRI-5); empty for a
	// scheduled conversion of a new subscription.
	TermStart string `json:"term_start,omitempty"`
	TermEnd   string `json:"term_end,omitempty"`
	// TargetQuantity is the target subscription's license count after the
	// conversion (0 for a schedule of a new subscription).
	TargetQuantity int `json:"target_quantity,omitzero"`
	// ChargeEventID names the billing.charge emitted with the conversion
	// (empty for a schedule); ChargeMinor is its amount in Currency.
	ChargeEventID string `json:"charge_event_id,omitempty"`
	ChargeMinor   int64  `json:"charge_minor"`
	Currency      string `json:"currency"`
	// Note explains a conversion at the trial's end that could not follow
	// the stored schedule as it was (its target subscription ended).
	Note string `json:"note,omitempty"`
}

// Expiry reasons.
const (
	ExpiredAutoRenewOff       = "auto_renew_off"
	ExpiredSuspendedAtTermEnd = "suspended_at_term_end"
	// ExpiredLegacyDataDeleted: a legacy subscription stayed suspended
	// until its data deletion date (SUS-2).
	ExpiredLegacyDataDeleted = "legacy_data_deleted"
)

// Rejection is the Partner Center-shaped error of a rejected command or line
// (GEN-6).
type Rejection struct {
	// Code is stable and machine-readable.
	Code        string `json:"code"`
	Description string `json:"description"`
	// Rule is the rule catalogue's ID of the rule that decided it.
	Rule string `json:"rule"`
	// Data holds the deciding facts, for example the window's end.
	Data map[string]string `json:"data,omitempty"`
	// Source is the component that rejected: always "processor".
	Source string `json:"source"`
}

// CommandDeferredEvent: the command conflicts with a pending renewal and is
// kept to be applied when the renewal completes, or rejected with conflict
// at RetryUntil (REN-4). Its outcome later carries its command ID.
type CommandDeferredEvent struct {
	Code        string    `json:"code"`
	Description string    `json:"description"`
	Rule        string    `json:"rule"`
	RetryUntil  time.Time `json:"retry_until"`
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
	// LotProrations replaces Proration when a cancellation refunds several
	// lots bought at different times (CAN-1, QTY-2), or an upgrade moves
	// licenses of several lots (UPG-3, UPG-4: its credit and the in-place
	// or new subscription's charge, the same days at each price): AmountMinor =
	// round_half_up(sum of BaseMinor * UnusedDays / PeriodDays).
	LotProrations []Proration `json:"lot_prorations,omitempty"`
	// Reason says why (the BillingReason constants).
	Reason string `json:"reason"`
	// Rule is the rule catalogue's ID of the rule the amount follows.
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
	BillingReasonIncrease     = "quantity_increase"
	BillingReasonDecrease     = "quantity_decrease"
	BillingReasonUpgrade      = "upgrade"
	BillingReasonConversion   = "trial_conversion"
	// BillingReasonReactivation charges the rest of a legacy
	// subscription's billing period that started while it was suspended
	// and so was not billed (SUS-2).
	BillingReasonReactivation = "reactivation"
)

// eventTypes is every event type this version emits, in the order
// EventTypes lists them, each with its data constructor: the codec's one
// list of event types.
var eventTypes = typeTable[EventType]{
	{EvtCustomerCreated, func() any { return &CustomerCreatedEvent{} }},
	{EvtOrderProcessed, func() any { return &OrderProcessedEvent{} }},
	{EvtSubscriptionCreated, func() any { return &SubscriptionCreatedEvent{} }},
	{EvtSubscriptionSuspended, func() any { return &SubscriptionSuspendedEvent{} }},
	{EvtSubscriptionReactivated, func() any { return &SubscriptionReactivatedEvent{} }},
	{EvtSubscriptionCancelled, func() any { return &SubscriptionCancelledEvent{} }},
	{EvtAutoRenewChanged, func() any { return &AutoRenewChangedEvent{} }},
	{EvtSubscriptionRenewed, func() any { return &SubscriptionRenewedEvent{} }},
	{EvtSubscriptionExpired, func() any { return &SubscriptionExpiredEvent{} }},
	{EvtQuantityChanged, func() any { return &QuantityChangedEvent{} }},
	{EvtSubscriptionUpgraded, func() any { return &SubscriptionUpgradedEvent{} }},
	{EvtScheduleChanged, func() any { return &ScheduleChangedEvent{} }},
	{EvtTrialConverted, func() any { return &TrialConvertedEvent{} }},
	{EvtCommandRejected, func() any { return &CommandRejectedEvent{} }},
	{EvtCommandDeferred, func() any { return &CommandDeferredEvent{} }},
	{EvtBillingCharge, func() any { return &BillingEvent{} }},
	{EvtBillingCredit, func() any { return &BillingEvent{} }},
	{EvtMarketplaceSetupLink, func() any { return &MarketplaceSetupLinkEvent{} }},
	{EvtReservationCreated, func() any { return &ReservationCreatedEvent{} }},
	{EvtReservationScopeChanged, func() any { return &ReservationScopeChangedEvent{} }},
	{EvtReservationCancelled, func() any { return &ReservationCancelledEvent{} }},
	{EvtReservationExchanged, func() any { return &ReservationExchangedEvent{} }},
	{EvtSoftwareKeysIssued, func() any { return &SoftwareKeysIssuedEvent{} }},
	{EvtSoftwareDownloadLinkIssued, func() any { return &SoftwareDownloadLinkIssuedEvent{} }},
	{EvtSoftwareCancelled, func() any { return &SoftwareCancelledEvent{} }},
	{EvtSoftwareActivityRecorded, func() any { return &SoftwareActivityRecordedEvent{} }},
	{EvtRelationshipRequested, func() any { return &RelationshipRequestedEvent{} }},
	{EvtRelationshipAccepted, func() any { return &RelationshipAcceptedEvent{} }},
	{EvtTransferRequested, func() any { return &TransferEvent{} }},
	{EvtTransferRejected, func() any { return &TransferEvent{} }},
	{EvtTransferExpired, func() any { return &TransferEvent{} }},
	{EvtTransferSubmitted, func() any { return &TransferEvent{} }},
	{EvtTransferCompleted, func() any { return &TransferEvent{} }},
	{EvtTransferFailed, func() any { return &TransferEvent{} }},
	{EvtRelationshipDeclined, func() any { return &RelationshipClosedEvent{} }},
	{EvtRelationshipExpired, func() any { return &RelationshipClosedEvent{} }},
	{EvtTransferWithdrawn, func() any { return &TransferEvent{} }},
	{EvtRefundWindowClosing, func() any { return &RefundWindowNoticeEvent{} }},
	{EvtRefundWindowClosed, func() any { return &RefundWindowNoticeEvent{} }},
}

// newEventData returns a pointer to the zero data value of an event type,
// or nil for a type this version does not know.
func newEventData(t EventType) any { return eventTypes.newData(t) }

// EventTypes lists every event type this version emits.
func EventTypes() []EventType { return eventTypes.types() }
