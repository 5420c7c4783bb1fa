package rules

import (
	"fmt"

	"github.com/cspreseller/csp-processor/messages"
)

// customerOfPartner is PTN-1 for the customer: the acting partner must have
// a relationship with it. An unknown customer and another partner's
// customer get the same answer, so a partner cannot probe which customer IDs
// exist elsewhere.
func (d *decision) customerOfPartner() (*Customer, bool) {
	c := d.state.Customer
	if !c.HasRelationship(d.in.PartnerID) {
		d.reject(reject(CodeNoRelationship, "PTN-1",
			fmt.Sprintf("partner %s has no relationship with customer %s", d.in.PartnerID, d.in.Command.CustomerID),
			map[string]string{"partner_id": d.in.PartnerID, "customer_id": d.in.Command.CustomerID}))
		return nil, false
	}
	return c, true
}

// subscriptionOfPartner is PTN-1 for a subscription: it must exist under
// the customer and the acting partner must be its partner of record.
func (d *decision) subscriptionOfPartner(id string) (*Subscription, bool) {
	if _, ok := d.customerOfPartner(); !ok {
		return nil, false
	}
	if !messages.ValidToken(id) {
		d.reject(invalidField("data.subscription_id", "must be 1-64 letters, digits, '-' or '_'"))
		return nil, false
	}
	s, ok := d.state.Subscriptions[id]
	if !ok {
		// An archived subscription is answered from its tombstone, as
		// when it was live (archive.go); it is closed, so every caller
		// rejects it (CAN-2, SUS-3) and none changes it.
		s = d.state.tombSubscription(id)
		ok = s != nil
	}
	if !ok {
		d.reject(reject(CodeSubscriptionNotFound, "PTN-1",
			fmt.Sprintf("customer %s has no subscription %s", d.in.Command.CustomerID, id),
			map[string]string{"subscription_id": id}))
		return nil, false
	}
	if s.PartnerID != d.in.PartnerID {
		d.reject(reject(CodeNotPartnerOfRecord, "PTN-1",
			fmt.Sprintf("partner %s is not the partner of record of subscription %s", d.in.PartnerID, id),
			map[string]string{"subscription_id": id}))
		return nil, false
	}
	return s, true
}

// subscriptionOrTomb is the subscription a command names, live or
// archived (its tombstone's view, archive.go).
func (d *decision) subscriptionOrTomb(id string) (*Subscription, bool) {
	if s, ok := d.state.Subscriptions[id]; ok {
		return s, true
	}
	s := d.state.tombSubscription(id)
	return s, s != nil
}

// notFinal is CAN-2 and REN-3: a cancelled or expired subscription cannot
// change any more.
func (d *decision) notFinal(s *Subscription) bool {
	switch s.Status {
	case StatusCancelled:
		d.reject(reject(CodeSubscriptionCancelled, "CAN-2",
			fmt.Sprintf("subscription %s was cancelled; cancellation is final", s.ID),
			map[string]string{"subscription_id": s.ID, "cancelled_at": fmtTime(s.CancelledAt)}))
		return false
	case StatusExpired:
		d.reject(reject(CodeSubscriptionExpired, "SUS-3",
			fmt.Sprintf("subscription %s has expired", s.ID),
			map[string]string{"subscription_id": s.ID, "term_end": formatDate(s.TermEnd)}))
		return false
	}
	return true
}

// systemBoundary keeps timers the processor's own: timer.fired is accepted
// only from SystemPartner, and SystemPartner may send nothing else (G4, G7:
// no sender can fire a timer or act in the processor's name).
func (d *decision) systemBoundary() bool {
	if !d.customerBoundary() { // TRF-1: the customer's own command (transfer.go)
		return false
	}
	fromSystem := d.in.PartnerID == messages.SystemPartner
	isTimer := d.in.Command.Type == messages.CmdTimerFired
	if fromSystem == isTimer {
		return true
	}
	d.reject(reject(CodeForbidden, "PTN-1",
		fmt.Sprintf("%s may not be sent by partner %s", d.in.Command.Type, d.in.PartnerID),
		map[string]string{"partner_id": d.in.PartnerID, "command_type": string(d.in.Command.Type)}))
	return false
}
