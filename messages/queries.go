package messages

import (
	"fmt"
	"strings"
	"time"
)

// Queries are read-only NATS request/reply calls answered by the processor
// from the stored state. Like commands, the acting partner and role are the
// subject's tokens (never body fields), so NATS permissions confine a user
// to "csp.query.<its partner ID>.<its role>.>" (PTN-1, ROL-1,
// guarantee G6, README).
//
//	csp.query.<partner>.<role>.<customer>.<query name>   request; the reply goes to the request's inbox
//
// A query changes nothing, is not stored in any stream and is not
// deduplicated: asking twice gives the answer of the state at that time.
const QuerySubjectPrefix = "csp.query"

// QueryReducibleQuantity is the name of the reducible-quantity query
// (QTY-3).
const QueryReducibleQuantity = "reducible_quantity"

// ReducibleQuantitySubjects matches every partner's and customer's
// reducible-quantity requests; the processor subscribes to it.
const ReducibleQuantitySubjects = QuerySubjectPrefix + ".*.*.*." + QueryReducibleQuantity

// QuerySubjects matches every query; the processor subscribes to it.
const QuerySubjects = QuerySubjectPrefix + ".*.*.*.*"

// QuerySubject is the subject a partner's user sends a query to.
func QuerySubject(partnerID string, role Role, customerID, query string) string {
	return QuerySubjectPrefix + "." + partnerID + "." + string(role) + "." + customerID + "." + query
}

// ReducibleQuantitySubject is
// csp.query.<partner>.<role>.<customer>.reducible_quantity.
func ReducibleQuantitySubject(partnerID string, role Role, customerID string) string {
	return QuerySubject(partnerID, role, customerID, QueryReducibleQuantity)
}

// QueryRoute is what a query subject says: who asks, about which customer,
// and what.
type QueryRoute struct {
	PartnerID  string
	Role       Role
	CustomerID string
	Query      string
}

// ParseQuerySubject reads csp.query.<partner>.<role>.<customer>.<query>;
// partner and customer must be valid identifiers (ValidToken), role a known
// role.
func ParseQuerySubject(subject string) (QueryRoute, error) {
	rest, ok := strings.CutPrefix(subject, QuerySubjectPrefix+".")
	if !ok {
		return QueryRoute{}, fmt.Errorf("subject %q is not a query subject", subject)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 4 {
		return QueryRoute{}, fmt.Errorf("subject %q is not csp.query.<partner>.<role>.<customer>.<query>", subject)
	}
	if !ValidToken(parts[0]) || !ValidToken(parts[2]) {
		return QueryRoute{}, fmt.Errorf("subject %q: partner or customer is not a valid identifier", subject)
	}
	if !Role(parts[1]).Known() {
		return QueryRoute{}, fmt.Errorf("subject %q: %q is not a role", subject, parts[1])
	}
	return QueryRoute{PartnerID: parts[0], Role: Role(parts[1]), CustomerID: parts[2], Query: parts[3]}, nil
}

// ReducibleQuantityRequest is the body of a reducible-quantity request.
type ReducibleQuantityRequest struct {
	SubscriptionID string `json:"subscription_id"`
	// At (RFC 3339) evaluates the query at a simulated instant. It is
	// honoured only by a processor in simulation mode and refused
	// (invalid_field) otherwise: a normal processor answers as of its wall
	// clock.
	At string `json:"at,omitempty"`
}

// ReducibleQuantity is QTY-3's view: how many licenses of a subscription
// can be removed now (QTY-2), and per lot how many and until when.
type ReducibleQuantity struct {
	SubscriptionID string `json:"subscription_id"`
	// Quantity is the subscription's current license count.
	Quantity int `json:"quantity"`
	// Total is the number of licenses a decrease may remove now. The new
	// count must still be within the offer's minimum (removing every
	// license is a cancellation, CAN-1).
	Total int `json:"total"`
	// Lots are the reducible lots, newest first (the order a decrease
	// takes them in); each is reducible until its ReducibleUntil
	// (exclusive).
	Lots []LotView `json:"lots"`
	// AsOf is the instant the view was computed for.
	AsOf time.Time `json:"as_of"`
	// Message says why nothing is reducible, when Total is 0 (Partner
	// Center: "a message appears").
	Message string `json:"message,omitempty"`
}

// QueryReply is the reply to a query: exactly one of Result and Error.
// Error has the shape of a rejection (code, description, rule, data,
// source; GEN-6).
type QueryReply[T any] struct {
	Result *T         `json:"result,omitempty"`
	Error  *Rejection `json:"error,omitempty"`
}
