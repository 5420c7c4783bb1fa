package rules

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// How a pending relationship request ends without a relationship (TRF-1,
// TRF-3). Decisions:
//
//   - The customer declines it (customer.relationship.decline, from the
//     customer portal only, like the acceptance): the partner may ask
//     again later, as after an expiry.
//   - It expires unanswered after the policy's
//     relationship_request_expiry_days (24-hour days, GEN-1; 0: never),
//     through a durable timer like a transfer request's. An acceptance or
//     a decline at or after the expiry instant finds it expired: the
//     timer due then fires first (G7), so the answer is
//     no_relationship_request.
//   - customer.relationship.declined and customer.relationship.expired go
//     to the partner that asked and to the customer portal, nobody else:
//     the customer's creator is not told of another partner's request.

// TimerRelationshipExpiry expires a pending relationship request (TRF-3).
// Its SubscriptionID is empty; its PartnerID is the partner that asked.
const TimerRelationshipExpiry = "relationship_expiry"

// RelationshipRequest is when a pending partner asked and when its request
// expires (Customer.PendingRequests).
type RelationshipRequest struct {
	RequestedAt time.Time `json:"requested_at"`
	// ExpiresAt and ExpiryTimerID are set when the policy sets an expiry.
	ExpiresAt     *time.Time `json:"expires_at,omitempty"`
	ExpiryTimerID string     `json:"expiry_timer_id,omitempty"`
}

// customerCommands are the commands only the customer portal sends
// (customerBoundary).
var customerCommands = []messages.CommandType{messages.CmdRelationshipAccept, messages.CmdRelationshipDecline}

// withPendingRequest is c with partnerID's request pending from now,
// setting its expiry timer when the policy sets an expiry.
func (d *decision) withPendingRequest(c *Customer, partnerID string) (*Customer, *RelationshipRequest) {
	next := *c
	next.PendingPartners = append(slices.Clone(c.PendingPartners), partnerID)
	r := RelationshipRequest{RequestedAt: d.in.Now}
	if days := d.in.Catalog.Policy.RelationshipRequestExpiryDays; days > 0 {
		due := d.in.Now.Add(time.Duration(days) * 24 * time.Hour)
		r.ExpiresAt = &due
		r.ExpiryTimerID = fmt.Sprintf("T.%s.%s.%d", TimerRelationshipExpiry, partnerID, due.UnixNano())
		d.setTimer(&Timer{ID: r.ExpiryTimerID, Kind: TimerRelationshipExpiry, PartnerID: partnerID, DueAt: due})
	}
	next.PendingRequests = maps.Clone(c.PendingRequests)
	if next.PendingRequests == nil {
		next.PendingRequests = map[string]RelationshipRequest{}
	}
	next.PendingRequests[partnerID] = r
	return &next, &r
}

// withoutPendingRequest is c without partnerID's pending request, its
// expiry timer deleted.
func (d *decision) withoutPendingRequest(c *Customer, partnerID string) *Customer {
	next := *c
	next.PendingPartners = slices.DeleteFunc(slices.Clone(c.PendingPartners), func(p string) bool { return p == partnerID })
	if len(next.PendingPartners) == 0 {
		next.PendingPartners = nil
	}
	if r, ok := c.PendingRequests[partnerID]; ok {
		d.deleteTimer(r.ExpiryTimerID)
		next.PendingRequests = maps.Clone(c.PendingRequests)
		delete(next.PendingRequests, partnerID)
		if len(next.PendingRequests) == 0 {
			next.PendingRequests = nil
		}
	}
	return &next
}

// pendingRequestOf is the customer and the partner's pending request the
// customer answers (accept or decline), or a rejection.
func (d *decision) pendingRequestOf(partnerID string) (*Customer, bool) {
	c := d.state.Customer
	if c == nil {
		d.reject(reject(CodeCustomerNotFound, "TRF-1", fmt.Sprintf("customer %s does not exist", d.in.Command.CustomerID),
			map[string]string{"customer_id": d.in.Command.CustomerID}))
		return nil, false
	}
	if !messages.ValidToken(partnerID) {
		d.reject(invalidField("data.partner_id", "must be 1-64 letters, digits, '-' or '_'"))
		return nil, false
	}
	if !slices.Contains(c.PendingPartners, partnerID) {
		d.reject(reject(CodeNoRelationshipRequest, "TRF-1", fmt.Sprintf("partner %s has no pending relationship request with customer %s", partnerID, c.ID),
			map[string]string{"partner_id": partnerID, "customer_id": c.ID}))
		return nil, false
	}
	return c, true
}

// relationshipDecline is the customer declining a pending request
// (TRF-3: declined).
func (d *decision) relationshipDecline(a *messages.RelationshipDeclineData) {
	c, ok := d.pendingRequestOf(a.PartnerID)
	if !ok {
		return
	}
	requested := c.PendingRequests[a.PartnerID].RequestedAt
	d.putCustomer(d.withoutPendingRequest(c, a.PartnerID))
	ev := &messages.RelationshipClosedEvent{PartnerID: a.PartnerID, Status: messages.RelationshipDeclined, RequestedAt: requested}
	d.emitTo(a.PartnerID, messages.EvtRelationshipDeclined, ev)
	d.emit(messages.EvtRelationshipDeclined, ev)
}

// relationshipExpiryDue runs when a request's expiry timer fires (TRF-3):
// a request still pending, with this timer, expires. Called from
// timerFired.
func (d *decision) relationshipExpiryDue(tm *Timer) {
	c := d.state.Customer
	if c == nil {
		return
	}
	r, ok := c.PendingRequests[tm.PartnerID]
	if !ok || r.ExpiryTimerID != tm.ID || !slices.Contains(c.PendingPartners, tm.PartnerID) {
		return
	}
	d.putCustomer(d.withoutPendingRequest(c, tm.PartnerID))
	ev := &messages.RelationshipClosedEvent{PartnerID: tm.PartnerID, Status: messages.RelationshipExpired, RequestedAt: r.RequestedAt,
		Reason: fmt.Sprintf("the customer did not answer within %d days", int(r.ExpiresAt.Sub(r.RequestedAt)/(24*time.Hour)))}
	d.emitTo(tm.PartnerID, messages.EvtRelationshipExpired, ev)
	d.emitTo(messages.CustomerActor, messages.EvtRelationshipExpired, ev)
}
