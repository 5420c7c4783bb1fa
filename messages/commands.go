package messages

import "time"

// CommandType names a command; it is also the tail of the command's subject.
type CommandType string

const (
	CmdCustomerCreated        CommandType = "customer.created"
	CmdOrderPlaced            CommandType = "order.placed"
	CmdSubscriptionSuspend    CommandType = "subscription.suspend"
	CmdSubscriptionReactivate CommandType = "subscription.reactivate"
	CmdSubscriptionCancel     CommandType = "subscription.cancel"
	CmdAutoRenewSet           CommandType = "subscription.autorenew.set"
	CmdQuantityChange         CommandType = "subscription.quantity.change"
	CmdUpgrade                CommandType = "subscription.upgrade"
	CmdScheduleSet            CommandType = "subscription.schedule.set"
	CmdScheduleDelete         CommandType = "subscription.schedule.delete"
	CmdTrialConvert           CommandType = "subscription.trial.convert"
	// CmdTimerFired is published by the processor's scheduler only, as the
	// partner SystemPartner (guarantee G7, README). Its ID is the timer's ID.
	CmdTimerFired CommandType = "timer.fired"
)

// SystemPartner is the partner token of commands the processor publishes to
// itself (timers). Partners cannot publish under it: NATS permissions give
// each partner csp.cmd.<its own ID>.> only, and the processor refuses
// timer.fired from anyone else and anything else from it.
const SystemPartner = "_system"

// Command is the envelope every command body has. The acting partner is not
// in the body: it is the partner token of the subject the broker accepted the
// message on (see subjects.go).
type Command struct {
	// ID identifies the command; it is the idempotency key. A command
	// published again with the same ID has no further effect.
	ID            string      `json:"id"`
	Type          CommandType `json:"type"`
	SchemaVersion int         `json:"schema_version"`
	// CustomerID must equal the customer token of the subject.
	CustomerID string `json:"customer_id"`
	// IssuedAt is informational. The effective time of a command is the
	// broker's timestamp of the stored message (guarantee G4, README).
	IssuedAt *time.Time `json:"issued_at,omitempty"`
	// Data is one of the *Data types below, by Type.
	Data any `json:"data"`
}

// CustomerCreatedData registers a customer under the sending partner.
type CustomerCreatedData struct {
	CompanyName string `json:"company_name"`
	// Segment is commercial, education, government or nonprofit (ORD-3).
	Segment string `json:"segment"`
	// Country is the ISO 3166-1 alpha-2 billing country.
	Country string `json:"country"`
	// Currency is the ISO 4217 billing currency; every amount for this
	// customer is in its minor units.
	Currency string `json:"currency"`
	// FirstBillingDate is optional: the date (YYYY-MM-DD, UTC) of the
	// customer's first billing, on or after the day the account opens.
	// The days between the two lengthen the data retention of a suspended
	// legacy subscription (SUS-2: 90 days plus those days, at most 120).
	FirstBillingDate string `json:"first_billing_date,omitempty"`
	// TestClockID is optional, simulation mode only: the test clock the
	// customer lives on (TCK-2); its commands are decided at that clock's
	// time and only that clock's advances fire its timers.
	TestClockID string `json:"test_clock_id,omitempty"`
}

// OrderPlacedData is a cart of one or more lines (ORD-1).
type OrderPlacedData struct {
	OrderID string      `json:"order_id"`
	Lines   []OrderLine `json:"lines"`
}

// OrderLine is one line item of an order.
type OrderLine struct {
	// LineID is unique within the order; it names the line in the result.
	LineID  string `json:"line_id"`
	OfferID string `json:"offer_id"`
	// Quantity is the number of licenses; required for license-based
	// offers and forbidden for usage-based ones (ORD-6).
	Quantity *int `json:"quantity,omitempty"`
	// Term is P1M, P1Y or P3Y (GEN-4).
	Term string `json:"term"`
	// BillingFrequency is monthly, annual, triennial or one_time (GEN-4).
	BillingFrequency string `json:"billing_frequency"`
	// BaseSubscriptionID names the base subscription an add-on line is
	// attached to (ORD-9 co-terminous add-ons; SUS-5 for every add-on). It
	// must be an active subscription of a compatible base offer with the
	// ordering partner as partner of record. Absent: a base line of the
	// same order, else the first such subscription by ID.
	BaseSubscriptionID string `json:"base_subscription_id,omitempty"`
	// Scope and AzureSubscriptionID: azure_reservation lines only (RES-1,
	// see reservations.go). Scope is single or shared (required); a single
	// scope names the Azure subscription (a GUID) the reservation applies
	// to, a shared one names none.
	Scope               string `json:"scope,omitempty"`
	AzureSubscriptionID string `json:"azure_subscription_id,omitempty"`
	// ResellerID names the indirect reseller the subscription is sold
	// through: only an indirect provider names one, and only a reseller
	// registered under it (PTN-3). Absent: the partner sells directly.
	// AdditionalResellerIDs are EU/EFTA customers' additional resellers of
	// the transaction (PTN-4): at most five, only with a ResellerID, each a
	// registered reseller with a signed Microsoft Partner Agreement.
	ResellerID            string   `json:"reseller_id,omitempty"`
	AdditionalResellerIDs []string `json:"additional_reseller_ids,omitempty"`
}

// SuspendData suspends a subscription (SUS-1).
type SuspendData struct {
	SubscriptionID string `json:"subscription_id"`
	// Reason is customer_request, non_payment or fraud.
	Reason string `json:"reason"`
}

// ReactivateData reactivates a suspended subscription (SUS-6).
type ReactivateData struct {
	SubscriptionID string `json:"subscription_id"`
}

// CancelData cancels a subscription (CAN-1).
type CancelData struct {
	SubscriptionID string `json:"subscription_id"`
}

// AutoRenewSetData turns auto-renew on or off (REN-1).
type AutoRenewSetData struct {
	SubscriptionID string `json:"subscription_id"`
	Enabled        *bool  `json:"enabled"`
}

// QuantityChangeData sets a subscription's license count (QTY-1, QTY-2).
type QuantityChangeData struct {
	SubscriptionID string `json:"subscription_id"`
	// Quantity is the new total number of licenses.
	Quantity *int `json:"quantity"`
}

// UpgradeData upgrades licenses of a subscription to a higher SKU (UPG-*).
type UpgradeData struct {
	SubscriptionID string `json:"subscription_id"`
	TargetOfferID  string `json:"target_offer_id"`
	// Quantity of licenses to upgrade; absent means all of them (a full
	// upgrade, UPG-3); fewer is a partial upgrade (UPG-4).
	Quantity *int `json:"quantity,omitempty"`
	// TargetSubscriptionID upgrades into an existing subscription of the
	// target offer (UPG-3, UPG-5); absent means in place (full) or a new
	// subscription (partial).
	TargetSubscriptionID string `json:"target_subscription_id,omitempty"`
	// When is "now" (mid-term) or "renewal" (scheduled for the term end,
	// UPG-7). Default "now".
	When string `json:"when,omitempty"`
}

// ScheduleSetData stores the changes to apply at the next renewal (SCH-1).
// Absent fields keep their current value; a present one replaces any
// earlier scheduled value.
type ScheduleSetData struct {
	SubscriptionID   string `json:"subscription_id"`
	OfferID          string `json:"offer_id,omitempty"`
	Quantity         *int   `json:"quantity,omitempty"`
	Term             string `json:"term,omitempty"`
	BillingFrequency string `json:"billing_frequency,omitempty"`
}

// ScheduleDeleteData removes the stored scheduled changes.
type ScheduleDeleteData struct {
	SubscriptionID string `json:"subscription_id"`
}

// TrialConvertData converts a trial to a paid subscription (TRI-2..TRI-6).
type TrialConvertData struct {
	SubscriptionID string `json:"subscription_id"`
	// TargetOfferID defaults to the trial's equivalent paid offer.
	TargetOfferID string `json:"target_offer_id,omitempty"`
	// TargetSubscriptionID converts into an existing subscription (TRI-4).
	TargetSubscriptionID string `json:"target_subscription_id,omitempty"`
	// Quantity defaults to the trial's 25 licenses.
	Quantity         *int   `json:"quantity,omitempty"`
	Term             string `json:"term,omitempty"`
	BillingFrequency string `json:"billing_frequency,omitempty"`
	// When is "now" or "trial_end" (scheduled, TRI-6). Default "now".
	When string `json:"when,omitempty"`
}

// TimerFiredData names the timer that fired. The rules act only if the
// customer's state still holds that timer.
type TimerFiredData struct {
	TimerID        string    `json:"timer_id"`
	Kind           string    `json:"kind"`
	SubscriptionID string    `json:"subscription_id"`
	DueAt          time.Time `json:"due_at"`
}

// Suspension reasons (SUS-1).
const (
	ReasonCustomerRequest = "customer_request"
	ReasonNonPayment      = "non_payment"
	ReasonFraud           = "fraud"
)

// commandTypes is every command type this version accepts, in the order
// CommandTypes lists them, each with its data constructor: the codec's one
// list of command types (the rules keep theirs per type, and test that it
// covers this one).
var commandTypes = typeTable[CommandType]{
	{CmdCustomerCreated, func() any { return &CustomerCreatedData{} }},
	{CmdOrderPlaced, func() any { return &OrderPlacedData{} }},
	{CmdSubscriptionSuspend, func() any { return &SuspendData{} }},
	{CmdSubscriptionReactivate, func() any { return &ReactivateData{} }},
	{CmdSubscriptionCancel, func() any { return &CancelData{} }},
	{CmdAutoRenewSet, func() any { return &AutoRenewSetData{} }},
	{CmdQuantityChange, func() any { return &QuantityChangeData{} }},
	{CmdUpgrade, func() any { return &UpgradeData{} }},
	{CmdScheduleSet, func() any { return &ScheduleSetData{} }},
	{CmdScheduleDelete, func() any { return &ScheduleDeleteData{} }},
	{CmdTrialConvert, func() any { return &TrialConvertData{} }},
	{CmdTimerFired, func() any { return &TimerFiredData{} }},
	{CmdReservationScopeChange, func() any { return &ReservationScopeChangeData{} }},
	{CmdReservationCancel, func() any { return &ReservationCancelData{} }},
	{CmdReservationExchange, func() any { return &ReservationExchangeData{} }},
	{CmdSoftwareCancel, func() any { return &SoftwareCancelData{} }},
	{CmdSoftwareDownloadLinkRequest, func() any { return &SoftwareDownloadLinkRequestData{} }},
	{CmdSoftwareKeyAccess, func() any { return &SoftwareKeyAccessData{} }},
	{CmdSoftwareDownload, func() any { return &SoftwareDownloadData{} }},
	{CmdRelationshipRequest, func() any { return &RelationshipRequestData{} }},
	{CmdRelationshipAccept, func() any { return &RelationshipAcceptData{} }},
	{CmdTransferRequest, func() any { return &TransferRequestData{} }},
	{CmdTransferReject, func() any { return &TransferRejectData{} }},
	{CmdTransferSubmit, func() any { return &TransferSubmitData{} }},
	{CmdRelationshipDecline, func() any { return &RelationshipDeclineData{} }},
	{CmdTransferWithdraw, func() any { return &TransferWithdrawData{} }},
}

// newCommandData returns a pointer to the zero data value of a command type,
// or nil for a type this version does not know.
func newCommandData(t CommandType) any { return commandTypes.newData(t) }

// CommandTypes lists every command type this version accepts.
func CommandTypes() []CommandType { return commandTypes.types() }
