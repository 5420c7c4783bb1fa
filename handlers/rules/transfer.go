package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Transfers between partners (TRF-1, TRF-2, TRF-3). See
// messages/transfers.go for the flow. Decisions, where the rule catalogue
// and Partner Center are silent:
//
//   - Relationship. customer.relationship.request is answered for an
//     existing customer only; an unknown one is customer_not_found. The
//     answer so reveals whether a customer ID exists, which is acceptable:
//     Partner Center needs the customer's tenant to send a relationship
//     request at all, so the requester knows the customer exists. A
//     partner that already has a relationship (relationship_exists) or a
//     pending request (relationship_already_requested) cannot ask again.
//     A pending request gives no access: the partner has a relationship
//     (PTN-1) only once the customer accepted. It may instead be declined
//     or expire (relationship.go). The request and the answer go to the
//     partner and to the customer portal (messages.CustomerActor); the
//     customer's details (company, segment, country, currency) reach the
//     partner only with the acceptance. The partner that created the
//     customer is not notified.
//   - The customer boundary (customerBoundary): CustomerActor may send
//     customer.relationship.accept and .decline only, and those commands
//     are accepted from CustomerActor only (forbidden, PTN-1, like the
//     system boundary); their role is ROL-1's (customer_admin only).
//   - transfer.request needs the target's relationship (PTN-1), a new
//     transfer ID (duplicate_transfer_id, whatever the old one's status),
//     a source partner other than the target that has a relationship and
//     is partner of record of at least one active or suspended
//     subscription of the customer (source_not_partner_of_record, the same
//     answer for both), a notice e-mail address, and no other requested
//     transfer between the same two partners
//     (transfer_already_requested). It expires after the policy's
//     transfer_request_expiry_days (24-hour days, GEN-1; 0: never).
//   - transfer.reject and transfer.submit come from the source partner
//     only (not_source_partner for the target, transfer_not_found for
//     anyone else, so a partner cannot probe other partners' transfers),
//     while the transfer is requested (transfer_not_open) and not past
//     its expiry (transfer_expired: the expiry timer may not have fired
//     yet when the command is decided). transfer.withdraw is the same
//     from the target's side (not_target_partner for the source): the
//     target takes its request back before the source answered; nothing
//     moves and nothing is billed. A rejection's reason is optional text
//     of at most 500 characters without control characters but line
//     breaks (it is shown to the target as written).
//   - transfer.submit is decided subscription by subscription, like an
//     order's lines (ORD-1): the eligible ones move, the others are listed
//     with why, on the source's side only; the transfer is completed when
//     at least one moved and failed when none did (both final). A
//     malformed submit (no subscriptions, an invalid or duplicate ID) is
//     rejected and leaves the transfer requested.
//   - TRF-2 eligibility: an active new-commerce license-based
//     subscription of the source partner (partner of record), not a
//     trial, not an add-on, not a base with live add-ons (they would be
//     left on a cancelled base), not renewing (REN-4). Suspended ones do
//     not move (reactivate first): a suspension for non-payment or fraud
//     is the source partner's business. Reservations, software,
//     marketplace, legacy and usage-based subscriptions do not move.
//   - TRF-3 on completion, for each moved subscription: a new subscription
//     for the target (ID DerivedID("sub", customer, command ID, index in
//     the submitted list)) with the same offer, plan, quantity, auto-renew
//     setting, term start and term end date, and the same current billing
//     period, so its later periods and renewal fall on the source's dates;
//     its own term_end and billing_period timers. It has no order
//     (order_id empty). It opens no cancellation window and no 168-hour
//     reduction window (CancellableUntil = the transfer time, its licenses
//     reducible until then): the licenses were bought by the source, whose
//     window does not reopen for a transfer; the next renewal opens one as
//     usual. Scheduled changes, resellers and update counts stay with the
//     source. The target is charged from the transfer time: the current
//     period's days are counted as for licenses bought at that time
//     (GEN-2: every started day since the period began is used, at least
//     1; none at 00:00 UTC of the period's first day, see
//     moveSubscription), and the target pays
//     round_half_up(unit price × quantity × unused days / period days)
//     (GEN-3), at the catalog's current price for the plan in the
//     customer's currency (the source's price when the plan is no longer
//     sold) — the target buys at today's price list, as at a renewal. One
//     billing.charge (reason transfer, rule TRF-3, possibly 0) per new
//     subscription, to the target.
//   - The source subscription is cancelled (final, timers deleted,
//     scheduled changes deleted with subscription.schedule.changed, SCH-3)
//     and NO billing.credit is emitted (TRF-3): CAN-7's credit belongs to
//     subscription.cancel. The source learns of it from transfer.completed
//     (its side lists the cancelled subscriptions), not from
//     subscription.cancelled, whose body names a credit.
//   - Events (TRF-3: each step reaches both partners, each with its side):
//     transfer.requested, transfer.rejected, transfer.withdrawn,
//     transfer.expired, transfer.submitted, then transfer.completed or
//     transfer.failed, each
//     once to the target and once to the source. Between submitted and
//     completed: the source's subscription.schedule.changed, then for each
//     new subscription the target's subscription.created and
//     billing.charge. The target never sees the source's subscription IDs;
//     the source never sees the target's new ones.

// TimerTransferExpiry expires a requested transfer (TRF-3). Its
// SubscriptionID is empty; the transfer names it (ExpiryTimerID).
const TimerTransferExpiry = "transfer_expiry"

// Rejection codes of transfers.
const (
	CodeCustomerNotFound         = "customer_not_found"             // TRF-1
	CodeRelationshipExists       = "relationship_exists"            // TRF-1
	CodeRelationshipPending      = "relationship_already_requested" // TRF-1
	CodeNoRelationshipRequest    = "no_relationship_request"        // TRF-1
	CodeDuplicateTransfer        = "duplicate_transfer_id"          // TRF-1
	CodeTransferAlreadyRequested = "transfer_already_requested"     // TRF-1
	CodeSourceNotPartnerOfRecord = "source_not_partner_of_record"   // TRF-1
	CodeTransferNotFound         = "transfer_not_found"             // TRF-1
	CodeNotSourcePartner         = "not_source_partner"             // TRF-1
	CodeNotTargetPartner         = "not_target_partner"             // TRF-3
	CodeTransferNotOpen          = "transfer_not_open"              // TRF-3
	CodeTransferExpired          = "transfer_expired"               // TRF-3
	CodeNotTransferable          = "not_transferable"               // TRF-2
)

// Transfer is a transfer between partners, stored with the customer
// (entity "transfer:<id>"). It is replaced, never changed in place.
type Transfer struct {
	ID               string    `json:"id"`
	TargetPartnerID  string    `json:"target_partner_id"`
	SourcePartnerID  string    `json:"source_partner_id"`
	NoticeEmail      string    `json:"notice_email"`
	Status           string    `json:"status"`
	RequestCommandID string    `json:"request_command_id"`
	RequestedAt      time.Time `json:"requested_at"`
	// ExpiresAt and ExpiryTimerID are set when the policy sets an expiry.
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	ExpiryTimerID string     `json:"expiry_timer_id,omitempty"`
	// SubmittedAt and CompletedAt are the same instant: the submission is
	// decided in one command (completed or failed).
	SubmittedAt  *time.Time `json:"submitted_at,omitempty"`
	CompletedAt  *time.Time `json:"completed_at,omitempty"`
	RejectedAt   *time.Time `json:"rejected_at,omitempty"`
	ExpiredAt    *time.Time `json:"expired_at,omitempty"`
	RejectReason string     `json:"reject_reason,omitempty"`
	WithdrawnAt  *time.Time `json:"withdrawn_at,omitempty"`
	// Items are the submitted subscriptions and what became of them.
	Items []TransferItem `json:"items,omitempty"`
}

// TransferItem is one submitted subscription.
type TransferItem struct {
	SourceSubscriptionID string `json:"source_subscription_id"`
	// TargetSubscriptionID is the new subscription when it moved.
	TargetSubscriptionID string `json:"target_subscription_id,omitempty"`
	// Code is why it did not move.
	Code string `json:"code,omitempty"`
}

// customerBoundary keeps the customer's commands the customer's (TRF-1: the
// customer answers a relationship request): CustomerActor may send
// customerCommands only, and nobody else may send them. A role that may
// not send the command at all is left to roleAllowed (ROL-1). Called from
// systemBoundary.
func (d *decision) customerBoundary() bool {
	fromCustomer := d.in.PartnerID == messages.CustomerActor
	isCustomers := slices.Contains(customerCommands, d.in.Command.Type)
	if fromCustomer == isCustomers || d.in.Role != "" && !slices.Contains(RolesFor(d.in.Command.Type), d.in.Role) {
		return true
	}
	d.reject(reject(CodeForbidden, "PTN-1",
		fmt.Sprintf("%s may not be sent by partner %s; the customer answers relationship requests, through the customer portal only", d.in.Command.Type, d.in.PartnerID),
		map[string]string{"partner_id": d.in.PartnerID, "command_type": string(d.in.Command.Type)}))
	return false
}

// emitTo emits an event to a partner other than the recipient (the other
// side of a transfer, or the customer portal).
func (d *decision) emitTo(partnerID string, t messages.EventType, data any) {
	d.events = append(d.events, EventDraft{Type: t, PartnerID: partnerID, Data: data})
}

// putCustomer replaces the customer record.
func (d *decision) putCustomer(c *Customer) {
	d.state.Customer = c
	d.changed = append(d.changed, fieldCustomer)
}

func (d *decision) putTransfer(t *Transfer) {
	d.state.Transfers[t.ID] = t
	d.changed = append(d.changed, TransferField(t.ID))
}

// relationshipRequest is TRF-1's first step: a partner without a
// relationship asks the customer for one.
func (d *decision) relationshipRequest(*messages.RelationshipRequestData) {
	c := d.state.Customer
	q := d.in.PartnerID
	switch {
	case c == nil:
		d.reject(reject(CodeCustomerNotFound, "TRF-1", fmt.Sprintf("customer %s does not exist", d.in.Command.CustomerID),
			map[string]string{"customer_id": d.in.Command.CustomerID}))
		return
	case c.HasRelationship(q):
		d.reject(reject(CodeRelationshipExists, "TRF-1", fmt.Sprintf("partner %s already has a relationship with customer %s", q, c.ID),
			map[string]string{"partner_id": q, "customer_id": c.ID}))
		return
	case slices.Contains(c.PendingPartners, q):
		d.reject(reject(CodeRelationshipPending, "TRF-1", fmt.Sprintf("partner %s already asked customer %s for a relationship; the customer has not answered yet", q, c.ID),
			map[string]string{"partner_id": q, "customer_id": c.ID}))
		return
	}
	next, r := d.withPendingRequest(c, q)
	d.putCustomer(next)
	ev := &messages.RelationshipRequestedEvent{PartnerID: q, Status: messages.RelationshipPending}
	if r.ExpiresAt != nil {
		ev.ExpiresAt = *r.ExpiresAt
	}
	d.emit(messages.EvtRelationshipRequested, ev)
	d.emitTo(messages.CustomerActor, messages.EvtRelationshipRequested, ev)
}

// relationshipAccept is the customer accepting a pending request (TRF-1).
func (d *decision) relationshipAccept(a *messages.RelationshipAcceptData) {
	c, ok := d.pendingRequestOf(a.PartnerID)
	if !ok {
		return
	}
	next := d.withoutPendingRequest(c, a.PartnerID)
	next.Partners = append(slices.Clone(c.Partners), a.PartnerID)
	d.putCustomer(next)
	ev := &messages.RelationshipAcceptedEvent{PartnerID: a.PartnerID, CompanyName: c.CompanyName, Segment: c.Segment,
		Country: c.Country, Currency: c.Currency}
	d.emitTo(a.PartnerID, messages.EvtRelationshipAccepted, ev)
	d.emit(messages.EvtRelationshipAccepted, ev)
}

var emailPattern = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

// transferRequest is TRF-1: the target partner asks the source partner to
// move subscriptions to it.
func (d *decision) transferRequest(r *messages.TransferRequestData) {
	c, ok := d.customerOfPartner()
	if !ok {
		return
	}
	q := d.in.PartnerID
	switch {
	case !messages.ValidToken(r.TransferID):
		d.reject(invalidField("data.transfer_id", "must be 1-64 letters, digits, '-' or '_'"))
		return
	case !messages.ValidToken(r.SourcePartnerID):
		d.reject(invalidField("data.source_partner_id", "must be 1-64 letters, digits, '-' or '_'"))
		return
	case r.SourcePartnerID == q:
		d.reject(invalidField("data.source_partner_id", "must be another partner than the requesting one"))
		return
	case len(r.NoticeEmail) > 254 || !emailPattern.MatchString(r.NoticeEmail):
		d.reject(invalidField("data.notice_email", "must be an e-mail address (at most 254 characters)"))
		return
	}
	prev, dup := d.state.Transfers[r.TransferID]
	if !dup {
		prev = d.state.tombTransfer(r.TransferID) // archived (archive.go)
		dup = prev != nil
	}
	if dup {
		d.reject(reject(CodeDuplicateTransfer, "TRF-1", fmt.Sprintf("transfer %s was already requested by command %s", r.TransferID, prev.RequestCommandID),
			map[string]string{"transfer_id": r.TransferID}))
		return
	}
	if !c.HasRelationship(r.SourcePartnerID) || !d.hasLiveSubscriptionOf(r.SourcePartnerID) {
		d.reject(reject(CodeSourceNotPartnerOfRecord, "TRF-1",
			fmt.Sprintf("partner %s is not the partner of record of any active or suspended subscription of customer %s", r.SourcePartnerID, c.ID),
			map[string]string{"source_partner_id": r.SourcePartnerID, "customer_id": c.ID}))
		return
	}
	for _, t := range d.sortedTransfers() {
		if t.Status == messages.TransferRequested && t.TargetPartnerID == q && t.SourcePartnerID == r.SourcePartnerID {
			d.reject(reject(CodeTransferAlreadyRequested, "TRF-1",
				fmt.Sprintf("transfer %s from partner %s is already waiting for an answer", t.ID, r.SourcePartnerID),
				map[string]string{"transfer_id": t.ID, "source_partner_id": r.SourcePartnerID}))
			return
		}
	}
	now := d.in.Now
	t := &Transfer{ID: r.TransferID, TargetPartnerID: q, SourcePartnerID: r.SourcePartnerID, NoticeEmail: r.NoticeEmail,
		Status: messages.TransferRequested, RequestCommandID: d.in.Command.ID, RequestedAt: now}
	if days := d.in.Catalog.Policy.TransferRequestExpiryDays; days > 0 {
		due := now.Add(time.Duration(days) * 24 * time.Hour)
		t.ExpiresAt = &due
		t.ExpiryTimerID = fmt.Sprintf("T.%s.%s.%d", TimerTransferExpiry, t.ID, due.UnixNano())
		d.setTimer(&Timer{ID: t.ExpiryTimerID, Kind: TimerTransferExpiry, PartnerID: q, DueAt: due})
	}
	d.putTransfer(t)
	d.emitTransfer(messages.EvtTransferRequested, t, nil, nil)
}

// hasLiveSubscriptionOf reports whether the partner is the partner of
// record of an active or suspended subscription of the customer.
func (d *decision) hasLiveSubscriptionOf(partnerID string) bool {
	for _, s := range d.state.Subscriptions {
		if s.PartnerID == partnerID && (s.Status == StatusActive || s.Status == StatusSuspended) {
			return true
		}
	}
	return false
}

func (d *decision) sortedTransfers() []*Transfer {
	out := make([]*Transfer, 0, len(d.state.Transfers))
	for _, t := range d.state.Transfers {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Transfer) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out
}

// transferEvent is one side's copy of a transfer event.
func transferEvent(t *Transfer, side string) *messages.TransferEvent {
	ev := &messages.TransferEvent{TransferID: t.ID, Status: t.Status, Side: side, SourcePartnerID: t.SourcePartnerID,
		TargetPartnerID: t.TargetPartnerID, NoticeEmail: t.NoticeEmail, RequestedAt: t.RequestedAt}
	if t.ExpiresAt != nil && t.Status == messages.TransferRequested {
		ev.ExpiresAt = *t.ExpiresAt
	}
	return ev
}

// emitTransfer emits a transfer event to the target, then to the source;
// fill completes each side's copy.
func (d *decision) emitTransfer(typ messages.EventType, t *Transfer, fillTarget, fillSource func(*messages.TransferEvent)) {
	for _, side := range []string{messages.TransferSideTarget, messages.TransferSideSource} {
		ev := transferEvent(t, side)
		partner, fill := t.TargetPartnerID, fillTarget
		if side == messages.TransferSideSource {
			partner, fill = t.SourcePartnerID, fillSource
		}
		if fill != nil {
			fill(ev)
		}
		d.emitTo(partner, typ, ev)
	}
}

// openTransferOfSource finds the requested transfer the acting partner is
// the source of (TRF-1: only the source answers).
func (d *decision) openTransferOfSource(id string) (*Transfer, bool) {
	return d.openTransferOf(id, messages.TransferSideSource)
}

// openTransferOf finds the requested transfer the acting partner is side
// of: another party to it gets not_source_partner or not_target_partner,
// anyone else transfer_not_found.
func (d *decision) openTransferOf(id, side string) (*Transfer, bool) {
	if _, ok := d.customerOfPartner(); !ok {
		return nil, false
	}
	if !messages.ValidToken(id) {
		d.reject(invalidField("data.transfer_id", "must be 1-64 letters, digits, '-' or '_'"))
		return nil, false
	}
	t, ok := d.state.Transfers[id]
	if !ok {
		t = d.state.tombTransfer(id) // archived (archive.go): final, so refused below
		ok = t != nil
	}
	switch {
	case !ok || t.SourcePartnerID != d.in.PartnerID && t.TargetPartnerID != d.in.PartnerID:
		d.reject(reject(CodeTransferNotFound, "TRF-1", fmt.Sprintf("customer %s has no transfer %s of partner %s", d.in.Command.CustomerID, id, d.in.PartnerID),
			map[string]string{"transfer_id": id}))
		return nil, false
	case side == messages.TransferSideSource && t.SourcePartnerID != d.in.PartnerID:
		d.reject(reject(CodeNotSourcePartner, "TRF-1", fmt.Sprintf("only the source partner %s answers transfer %s", t.SourcePartnerID, id),
			map[string]string{"transfer_id": id, "source_partner_id": t.SourcePartnerID}))
		return nil, false
	case side == messages.TransferSideTarget && t.TargetPartnerID != d.in.PartnerID:
		d.reject(reject(CodeNotTargetPartner, "TRF-3", fmt.Sprintf("only the target partner %s withdraws transfer %s", t.TargetPartnerID, id),
			map[string]string{"transfer_id": id, "target_partner_id": t.TargetPartnerID}))
		return nil, false
	case t.Status != messages.TransferRequested:
		d.reject(reject(CodeTransferNotOpen, "TRF-3", fmt.Sprintf("transfer %s is %s, not requested", id, t.Status),
			map[string]string{"transfer_id": id, "status": t.Status}))
		return nil, false
	case t.ExpiresAt != nil && !d.in.Now.Before(*t.ExpiresAt):
		d.reject(reject(CodeTransferExpired, "TRF-3", fmt.Sprintf("transfer %s expired at %s", id, t.ExpiresAt.Format(time.RFC3339)),
			map[string]string{"transfer_id": id, "expires_at": t.ExpiresAt.Format(time.RFC3339Nano)}))
		return nil, false
	}
	return t, true
}

// transferReject is the source partner declining (TRF-3: rejected).
func (d *decision) transferReject(r *messages.TransferRejectData) {
	t, ok := d.openTransferOfSource(r.TransferID)
	if !ok {
		return
	}
	if !validReason(r.Reason) {
		d.reject(invalidField("data.reason", "must be text of at most 500 characters, without control characters but line breaks"))
		return
	}
	next := *t
	now := d.in.Now
	next.Status, next.RejectedAt, next.RejectReason = messages.TransferRejected, &now, r.Reason
	d.deleteTimer(t.ExpiryTimerID)
	d.putTransfer(&next)
	reason := func(ev *messages.TransferEvent) { ev.Reason = r.Reason }
	d.emitTransfer(messages.EvtTransferRejected, &next, reason, reason)
}

// transferExpiryDue runs when a transfer's expiry timer fires (TRF-3): a
// transfer still requested expires. Called from timerFired.
func (d *decision) transferExpiryDue(tm *Timer) {
	for _, t := range d.sortedTransfers() {
		if t.ExpiryTimerID != tm.ID || t.Status != messages.TransferRequested {
			continue
		}
		next := *t
		now := d.in.Now
		next.Status, next.ExpiredAt = messages.TransferExpired, &now
		d.putTransfer(&next)
		reason := func(ev *messages.TransferEvent) {
			ev.Reason = fmt.Sprintf("the source partner did not answer within %d days", int(t.ExpiresAt.Sub(t.RequestedAt)/(24*time.Hour)))
		}
		d.emitTransfer(messages.EvtTransferExpired, &next, reason, reason)
	}
}

// transferSubmit is the source partner moving subscriptions (TRF-1..3).
func (d *decision) transferSubmit(r *messages.TransferSubmitData) {
	t, ok := d.openTransferOfSource(r.TransferID)
	if !ok {
		return
	}
	if len(r.SubscriptionIDs) == 0 {
		d.reject(invalidField("data.subscription_ids", "name at least one subscription"))
		return
	}
	seen := map[string]bool{}
	for i, id := range r.SubscriptionIDs {
		field := "data.subscription_ids[" + strconv.Itoa(i) + "]"
		if !messages.ValidToken(id) {
			d.reject(invalidField(field, "must be 1-64 letters, digits, '-' or '_'"))
			return
		}
		if seen[id] {
			d.reject(invalidField(field, "duplicate of an earlier subscription ID"))
			return
		}
		seen[id] = true
	}
	now := d.in.Now
	next := *t
	next.SubmittedAt, next.CompletedAt = &now, &now
	next.Items = nil
	d.deleteTimer(t.ExpiryTimerID)

	var submitted []messages.TransferSubscriptionView
	for _, id := range r.SubscriptionIDs {
		v := messages.TransferSubscriptionView{SubscriptionID: id}
		if s, ok := d.state.Subscriptions[id]; ok && s.PartnerID == t.SourcePartnerID {
			v = subscriptionView(s)
		}
		submitted = append(submitted, v)
	}
	submittedCopy := next
	submittedCopy.Status = messages.TransferSubmitted
	d.emitTransfer(messages.EvtTransferSubmitted, &submittedCopy, nil,
		func(ev *messages.TransferEvent) { ev.Subscriptions = submitted })

	var moved, cancelled []messages.TransferSubscriptionView
	var refused []messages.TransferItemRejection
	var charged int64
	for i, id := range r.SubscriptionIDs {
		s, rej := d.transferable(t, id)
		if rej != nil {
			refused = append(refused, messages.TransferItemRejection{SubscriptionID: id, Rejection: *rej})
			next.Items = append(next.Items, TransferItem{SourceSubscriptionID: id, Code: rej.Code})
			continue
		}
		if d.derivedIDTaken(i, "TRF-3") {
			return
		}
		n, view := d.moveSubscription(t, s, i)
		charged += view.ChargeMinor
		moved = append(moved, view)
		src := d.state.Subscriptions[s.ID]
		cv := subscriptionView(src)
		cancelled = append(cancelled, cv)
		next.Items = append(next.Items, TransferItem{SourceSubscriptionID: s.ID, TargetSubscriptionID: n.ID})
	}
	typ := messages.EvtTransferCompleted
	next.Status = messages.TransferCompleted
	reason := ""
	if len(moved) == 0 {
		typ, next.Status = messages.EvtTransferFailed, messages.TransferFailed
		reason = "none of the submitted subscriptions can be transferred (TRF-2)"
	}
	d.putTransfer(&next)
	currency := ""
	if c := d.state.Customer; c != nil {
		currency = c.Currency
	}
	d.emitTransfer(typ, &next,
		func(ev *messages.TransferEvent) {
			ev.Subscriptions, ev.NotTransferredCount, ev.Reason = moved, len(refused), reason
			if len(moved) > 0 {
				ev.ChargedMinor, ev.Currency = charged, currency
			}
		},
		func(ev *messages.TransferEvent) {
			ev.Subscriptions, ev.NotTransferred, ev.Reason = cancelled, refused, reason
		})
}

func subscriptionView(s *Subscription) messages.TransferSubscriptionView {
	return messages.TransferSubscriptionView{SubscriptionID: s.ID, OfferID: s.OfferID, OfferName: s.OfferName,
		Quantity: s.Quantity, Term: s.Term, BillingFrequency: s.BillingFrequency, TermEnd: formatDate(s.TermEnd), Status: s.Status}
}

// transferable is TRF-2 (and PTN-1, REN-4) for one submitted subscription.
func (d *decision) transferable(t *Transfer, id string) (*Subscription, *messages.Rejection) {
	s, ok := d.state.Subscriptions[id]
	data := map[string]string{"subscription_id": id}
	if !ok {
		return nil, reject(CodeSubscriptionNotFound, "PTN-1", fmt.Sprintf("customer %s has no subscription %s", d.in.Command.CustomerID, id), data)
	}
	if s.PartnerID != t.SourcePartnerID {
		return nil, reject(CodeNotPartnerOfRecord, "PTN-1",
			fmt.Sprintf("partner %s is not the partner of record of subscription %s", t.SourcePartnerID, id), data)
	}
	not := func(reason, why string) *messages.Rejection {
		data["reason"] = reason
		return reject(CodeNotTransferable, "TRF-2", fmt.Sprintf("subscription %s cannot be transferred: %s", id, why), data)
	}
	offer, _ := d.in.Catalog.Offer(s.OfferID)
	switch {
	case s.Status == StatusCancelled:
		return nil, reject(CodeSubscriptionCancelled, "CAN-2", fmt.Sprintf("subscription %s was cancelled", id), data)
	case s.Status == StatusExpired:
		return nil, reject(CodeSubscriptionExpired, "SUS-3", fmt.Sprintf("subscription %s has expired", id), data)
	case s.CommerceType != catalog.CommerceTypeNew || s.Reservation != nil || s.Software != nil || s.Marketplace != nil:
		return nil, not("commerce_type", fmt.Sprintf("it is %s; only new-commerce license-based subscriptions transfer", s.CommerceType))
	case s.BillingType != catalog.BillingTypeLicense:
		return nil, not("billing_type", "it is usage-based; only license-based subscriptions transfer")
	case s.Trial:
		return nil, not("trial", "it is a trial")
	case s.BaseSubscriptionID != "" || offer != nil && offer.Addon != nil:
		return nil, not("addon", "it is an add-on")
	case d.hasLiveAddons(s.ID):
		return nil, not("has_addons", "add-ons are attached to it and would be left on a cancelled base")
	case s.Status == StatusSuspended:
		return nil, not("suspended", "it is suspended; reactivate it first")
	case s.RenewalPendingSince != nil || d.hasParked(s.ID):
		return nil, reject(CodeRenewalPending, "REN-4", fmt.Sprintf("subscription %s is renewing; submit it once the renewal completed", id), data)
	}
	return s, nil
}

func (d *decision) hasLiveAddons(baseID string) bool {
	for _, s := range d.state.Subscriptions {
		if s.BaseSubscriptionID == baseID && s.Status != StatusCancelled && s.Status != StatusExpired {
			return true
		}
	}
	return false
}

// moveSubscription is TRF-3 for one subscription: the target's new
// subscription (same offer, quantity and term end, charged from now, no
// cancellation window), and the source's cancelled without a refund.
//
// The charge is the current price × quantity for the days of the current
// billing period not used before the transfer (GEN-2, GEN-3):
//
//	used   = increaseUsedDays(now): 0 at 00:00 UTC of the period's first
//	         day, else ceil((now - began) / 24h), at least 1 (GEN-2)
//	charge = round_half_up(price × quantity × (period_days - used) / period_days)
//
// Decision: the target buys the licenses at now for the rest of the
// period, so the transfer counts days exactly as QTY-1 counts them for
// licenses bought at now (increaseUsedDays): the day the transfer falls in
// has started and is not charged again, also at the purchase or renewal
// instant itself; only at 00:00 UTC of the period's first day, when
// nothing of it has elapsed, is the whole period charged. The moved lot is
// marked as bought during the period, so a later credit gives back only
// what it was charged. The simulator's model (simulator/model, Transfer)
// decides the same.
func (d *decision) moveSubscription(t *Transfer, s *Subscription, idx int) (*Subscription, messages.TransferSubscriptionView) {
	now := d.in.Now
	price := d.currentPrice(s)
	p := periodDays(s)
	used := min(increaseUsedDays(s, now), p)
	base := price * int64(s.Quantity)
	amount := prorate(base, p-used, p)
	n := &Subscription{
		ID:        messages.DerivedID("sub", d.in.Command.CustomerID, d.in.Command.ID, idx),
		PartnerID: t.TargetPartnerID, OfferID: s.OfferID, OfferName: s.OfferName,
		CommerceType: s.CommerceType, BillingType: s.BillingType,
		Quantity: s.Quantity, Term: s.Term, BillingFrequency: s.BillingFrequency,
		Status: StatusActive, AutoRenew: s.AutoRenew,
		TermStart: s.TermStart, TermEnd: s.TermEnd, // TRF-3: the term end date is kept
		WindowOpenedAt: now, CancellableUntil: now,
		Currency: s.Currency, TaxInclusive: s.TaxInclusive, UnitPrice: price,
		PeriodStart: s.PeriodStart, PeriodEnd: s.PeriodEnd, PeriodIndex: s.PeriodIndex,
		// Later prorations count this period's days from when it began,
		// as the source's did (see upgrade.go's partial_new).
		PeriodStartedAt: s.PeriodStartedAt, PeriodCharge: amount,
		CancelWindowHours: s.CancelWindowHours,
		Lots:              []Lot{{Quantity: s.Quantity, AddedAt: now, ReducibleUntil: now, Increase: true}},
	}
	d.carryResellersToPartner(n, s, t.TargetPartnerID) // PTN-3, PTN-4 (derived_resellers.go)
	d.putSubscription(n)
	d.scheduleTermTimers(n)

	src := s.clone()
	d.endSubscription(&src, endCancelled, string(messages.CmdTransferSubmit)) // SCH-3 told to the source (the actor)

	d.emitTo(t.TargetPartnerID, messages.EvtSubscriptionCreated, &messages.SubscriptionCreatedEvent{
		SubscriptionID: n.ID, OfferID: n.OfferID, OfferName: n.OfferName,
		Quantity: n.Quantity, Term: n.Term, BillingFrequency: n.BillingFrequency,
		TermStart: formatDate(n.TermStart), TermEnd: formatDate(n.TermEnd),
		AutoRenew: n.AutoRenew, CancellableUntil: n.CancellableUntil,
	})
	chargeID := d.nextEventID()
	charge := billingEvent(n, messages.BillingReasonTransfer, "TRF-3", amount)
	charge.OrderID, charge.UnitPriceMinor = "", price // a transfer names no order
	charge.Proration = &messages.Proration{BaseMinor: base, UsedDays: used, UnusedDays: p - used, PeriodDays: p}
	d.emitTo(t.TargetPartnerID, messages.EvtBillingCharge, charge)
	v := subscriptionView(n)
	v.ChargeEventID, v.ChargeMinor = chargeID, amount
	return n, v
}
