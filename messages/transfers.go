package messages

import "time"

// Transfers between partners (TRF-1, TRF-2, TRF-3).
//
// The flow (TRF-1):
//
//  1. customer.relationship.request: the target partner Q, which has no
//     relationship with an existing customer, asks for one. The customer
//     portal (CustomerActor, RoleCustomerAdmin) receives
//     customer.relationship.requested and answers with
//     customer.relationship.accept; from then on Q has a relationship
//     with the customer (PTN-1) and sees it.
//  2. transfer.request: Q names the source partner P (a partner of record
//     of the customer's subscriptions) and an e-mail address for notices.
//     Both partners get transfer.requested, each on its own subjects.
//  3. P answers with transfer.reject, or with transfer.submit naming the
//     subscriptions to move. Only active new-commerce license-based
//     subscriptions move (TRF-2). Both partners get transfer.submitted and
//     then transfer.completed (some moved) or transfer.failed (none did);
//     a request nobody answers is transfer.expired after the catalog
//     policy's transfer_request_expiry_days. Until P answers, Q may take
//     its request back with transfer.withdraw (transfer.withdrawn).
//
// The customer may instead decline a relationship request
// (customer.relationship.decline: customer.relationship.declined), and a
// request it leaves unanswered is customer.relationship.expired after the
// catalog policy's relationship_request_expiry_days.
//
// Each partner's events carry only its own side: Q never sees P's
// subscription IDs, P never sees Q's new ones.
const (
	// CmdRelationshipRequest is sent by a partner (the target of a future
	// transfer) for an existing customer it has no relationship with.
	CmdRelationshipRequest CommandType = "customer.relationship.request"
	// CmdRelationshipAccept is sent by the customer (CustomerActor in
	// RoleCustomerAdmin) only.
	CmdRelationshipAccept CommandType = "customer.relationship.accept"
	// CmdTransferRequest is sent by the target partner.
	CmdTransferRequest CommandType = "transfer.request"
	// CmdTransferReject and CmdTransferSubmit are sent by the source
	// partner.
	CmdTransferReject CommandType = "transfer.reject"
	CmdTransferSubmit CommandType = "transfer.submit"
	// CmdRelationshipDecline is sent by the customer (CustomerActor in
	// RoleCustomerAdmin) only, like CmdRelationshipAccept.
	CmdRelationshipDecline CommandType = "customer.relationship.decline"
	// CmdTransferWithdraw is sent by the target partner, while the
	// transfer is requested.
	CmdTransferWithdraw CommandType = "transfer.withdraw"
)

const (
	EvtRelationshipRequested EventType = "customer.relationship.requested"
	EvtRelationshipAccepted  EventType = "customer.relationship.accepted"
	EvtTransferRequested     EventType = "transfer.requested"
	EvtTransferRejected      EventType = "transfer.rejected"
	EvtTransferExpired       EventType = "transfer.expired"
	EvtTransferSubmitted     EventType = "transfer.submitted"
	EvtTransferCompleted     EventType = "transfer.completed"
	EvtTransferFailed        EventType = "transfer.failed"
	EvtRelationshipDeclined  EventType = "customer.relationship.declined"
	EvtRelationshipExpired   EventType = "customer.relationship.expired"
	EvtTransferWithdrawn     EventType = "transfer.withdrawn"
)

// CustomerActor is the partner token of commands the customer itself sends
// through the customer portal (csp.cmd._customer.customer_admin.<customer>.
// customer.relationship.accept). It may send customer.relationship.accept
// and customer.relationship.decline only, and those commands come from it
// only; its events (the answers, the requests to answer, the expiries)
// are published on csp.evt._customer.<customer>.>.
const CustomerActor = "_customer"

// Transfer statuses (TRF-3): requested → submitted → completed | failed,
// plus rejected (by the source), withdrawn (by the target) and expired.
// submitted is announced (transfer.submitted) but never kept: the
// submission is decided, completed or failed, in the same command.
const (
	TransferRequested = "requested"
	TransferSubmitted = "submitted"
	TransferCompleted = "completed"
	TransferFailed    = "failed"
	TransferRejected  = "rejected"
	TransferExpired   = "expired"
	TransferWithdrawn = "withdrawn"
)

// Transfer sides: which partner a transfer event is for.
const (
	TransferSideTarget = "target"
	TransferSideSource = "source"
)

// Relationship request statuses (TRF-1, TRF-3): a request is pending until
// the customer accepts (the partner then has a relationship) or declines
// it, or it expires.
const (
	RelationshipPending  = "pending"
	RelationshipDeclined = "declined"
	RelationshipExpired  = "expired"
)

// BillingReasonTransfer is the reason of the target partner's charge for
// a transferred subscription (TRF-3): the rest of the current billing
// period, from the transfer time.
const BillingReasonTransfer = "transfer"

// RelationshipRequestData asks the customer for a relationship with the
// sending partner. It has no fields: the partner is the subject's.
type RelationshipRequestData struct{}

// RelationshipAcceptData accepts a partner's pending relationship request.
type RelationshipAcceptData struct {
	PartnerID string `json:"partner_id"`
}

// RelationshipDeclineData declines a partner's pending relationship
// request.
type RelationshipDeclineData struct {
	PartnerID string `json:"partner_id"`
}

// TransferWithdrawData takes back a requested transfer.
type TransferWithdrawData struct {
	TransferID string `json:"transfer_id"`
}

// TransferRequestData requests a transfer from the source partner.
type TransferRequestData struct {
	// TransferID names the transfer; unique per customer.
	TransferID      string `json:"transfer_id"`
	SourcePartnerID string `json:"source_partner_id"`
	// NoticeEmail is the address the source partner's notice goes to.
	NoticeEmail string `json:"notice_email"`
}

// TransferRejectData declines a requested transfer.
type TransferRejectData struct {
	TransferID string `json:"transfer_id"`
	// Reason is optional, shown to both partners: at most 500 characters
	// of text, no control characters but line breaks.
	Reason string `json:"reason,omitempty"`
}

// TransferSubmitData moves the named subscriptions to the target partner.
type TransferSubmitData struct {
	TransferID string `json:"transfer_id"`
	// SubscriptionIDs are the source partner's subscriptions to move: at
	// least one, no duplicates.
	SubscriptionIDs []string `json:"subscription_ids"`
}

// RelationshipRequestedEvent: a partner asked for a relationship; sent to
// that partner and to the customer portal (CustomerActor).
type RelationshipRequestedEvent struct {
	PartnerID string `json:"partner_id"`
	// Status is always pending.
	Status string `json:"status"`
	// ExpiresAt is when the request expires unanswered (absent when the
	// catalog policy sets no expiry).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// RelationshipClosedEvent: a pending request ended without a
// relationship, declined by the customer or expired; sent to the partner
// that asked and to the customer portal.
type RelationshipClosedEvent struct {
	PartnerID string `json:"partner_id"`
	// Status is declined or expired.
	Status      string    `json:"status"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	// Reason says why an expired request expired.
	Reason string `json:"reason,omitempty"`
}

// RelationshipAcceptedEvent: the customer accepted; sent to the partner
// and to the customer portal. The customer's details are the partner's to
// see from now on (PTN-1).
type RelationshipAcceptedEvent struct {
	PartnerID   string `json:"partner_id"`
	CompanyName string `json:"company_name"`
	Segment     string `json:"segment"`
	Country     string `json:"country"`
	Currency    string `json:"currency"`
}

// TransferEvent is the body of every transfer.* event. Each partner gets
// its own copy, on its own subjects, with only its side: Side says which.
type TransferEvent struct {
	TransferID      string    `json:"transfer_id"`
	Status          string    `json:"status"`
	Side            string    `json:"side"`
	SourcePartnerID string    `json:"source_partner_id"`
	TargetPartnerID string    `json:"target_partner_id"`
	NoticeEmail     string    `json:"notice_email"`
	RequestedAt     time.Time `json:"requested_at"`
	// ExpiresAt is when a requested transfer expires (absent when the
	// catalog policy sets no expiry).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Reason is the source partner's reason (rejected) or why nothing
	// moved (failed, expired).
	Reason string `json:"reason,omitempty"`
	// Subscriptions are this side's subscriptions: for the target the new
	// subscriptions it now owns, for the source the subscriptions it
	// submitted (transfer.submitted) or that were cancelled under it
	// because they moved (transfer.completed). A source cancellation emits
	// no refund (TRF-3).
	Subscriptions []TransferSubscriptionView `json:"subscriptions,omitempty"`
	// NotTransferred (source side) are the submitted subscriptions that
	// did not move, each with why; the target only gets their number.
	NotTransferred      []TransferItemRejection `json:"not_transferred,omitempty"`
	NotTransferredCount int                     `json:"not_transferred_count,omitempty"`
	// ChargedMinor (target side, completed) is the total of the
	// billing.charge events of the new subscriptions, in Currency.
	ChargedMinor int64  `json:"charged_minor,omitempty"`
	Currency     string `json:"currency,omitempty"`
}

// TransferSubscriptionView is one subscription on one side of a transfer.
// In the source's transfer.submitted, an ID the source named that is not
// one of its subscriptions carries only subscription_id (why it did not
// move follows in not_transferred).
type TransferSubscriptionView struct {
	SubscriptionID   string `json:"subscription_id"`
	OfferID          string `json:"offer_id,omitempty"`
	OfferName        string `json:"offer_name,omitempty"`
	Quantity         int    `json:"quantity,omitzero"`
	Term             string `json:"term,omitempty"`
	BillingFrequency string `json:"billing_frequency,omitempty"`
	TermEnd          string `json:"term_end,omitempty"`
	// Status is the subscription's status after this step: active (a
	// target's new subscription), cancelled (a source subscription that
	// moved), or the source's current status in transfer.submitted.
	Status string `json:"status,omitempty"`
	// ChargeEventID and ChargeMinor (target side) name the new
	// subscription's billing.charge.
	ChargeEventID string `json:"charge_event_id,omitempty"`
	ChargeMinor   int64  `json:"charge_minor,omitzero"`
}

// TransferItemRejection is why a submitted subscription did not move.
type TransferItemRejection struct {
	SubscriptionID string    `json:"subscription_id"`
	Rejection      Rejection `json:"rejection"`
}
