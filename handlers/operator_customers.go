package handlers

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// The operator's views of one customer. They answer from the same code as
// the partners' queries (loadCustomerState, OrderHistory, SubscriptionsCSV,
// rules.QueryReducibleQuantity) but for every partner at once: the
// operator names no partner, and the views show every partner's
// subscriptions and orders. A customer nothing was applied to is
// not_found (a partner gets no_relationship instead, PTN-1, so that it
// cannot probe which customers exist; the operator sees them all anyway).

// operatorCustomer is the customer endpoint's answer: the decoded stored
// state, each kind of entity in ID order, and the commands set aside.
type operatorCustomer struct {
	CustomerID    string                `json:"customer_id"`
	Version       int64                 `json:"version"`
	Customer      *rules.Customer       `json:"customer"`
	Subscriptions []*rules.Subscription `json:"subscriptions"`
	Orders        []*rules.Order        `json:"orders"`
	Timers        []*rules.Timer        `json:"timers"`
	Transfers     []*rules.Transfer     `json:"transfers"`
	Parked        []rules.ParkedCommand `json:"parked"`
	Refunds       []rules.RefundDay     `json:"refunds"`
	// Activity is the software activity log (SW-2): a log still kept in
	// the state by an earlier version, then the stored one, oldest first;
	// ActivityTrimmedThrough the newest time of an entry dropped from it.
	Activity               []rules.ActivityEntry `json:"activity"`
	ActivityTrimmedThrough *time.Time            `json:"activity_trimmed_through,omitempty"`
	// DeadLettered are the commands set aside (internal_error) and not
	// replayed since, with when.
	DeadLettered map[string]time.Time `json:"dead_lettered"`
}

// byID lists a map's values in key order.
func byID[T any](m map[string]*T) []*T {
	out := make([]*T, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

// loadCustomer reads a customer's state for an operator endpoint. A state
// that does not decode is reported with the decoder's error (it names the
// entity), which the operator needs and a partner must not see.
func (o *OperatorService) loadCustomer(ctx context.Context, customerID string) (state.Snapshot, rules.CustomerState, *messages.OperatorError) {
	if !messages.ValidToken(customerID) {
		return state.Snapshot{}, rules.CustomerState{}, opsErr(opsBadRequest, "invalid_request",
			"customer_id: %q is not a customer ID (1-64 letters, digits, '-' or '_')", customerID)
	}
	snap, st, err := loadCustomerState(ctx, o.Queries.Store, customerID)
	var undecodable *stateUndecodable
	switch {
	case errors.As(err, &undecodable):
		return snap, st, opsErr(opsInternal, "state_undecodable", "the stored state does not decode: %v", err)
	case err != nil:
		return snap, st, o.opsFailed("reading customer "+customerID, err)
	case snap.Version == 0 && len(snap.Fields) == 0:
		return snap, st, opsErr(opsNotFound, "not_found", "customer %s has no stored state: no command of it was applied", customerID)
	}
	return snap, st, nil
}

// requestedCustomer decodes an OpsCustomerRequest and loads its customer.
// withArchive adds the customer's archived entities to its state, for
// the history views (handlers/history.go).
func (o *OperatorService) withArchive(ctx context.Context, customerID string, st rules.CustomerState) (rules.CustomerState, *messages.OperatorError) {
	st, err := withArchive(ctx, o.Queries.Store, customerID, st)
	if err != nil {
		return st, o.opsFailed("reading customer "+customerID+"'s archive", err)
	}
	return st, nil
}

func (o *OperatorService) requestedCustomer(ctx context.Context, body []byte) (messages.OpsCustomerRequest, state.Snapshot, rules.CustomerState, *messages.OperatorError) {
	var req messages.OpsCustomerRequest
	if oe := decodeOps(body, &req, `{"customer_id": "..."}`); oe != nil {
		return req, state.Snapshot{}, rules.CustomerState{}, oe
	}
	snap, st, oe := o.loadCustomer(ctx, req.CustomerID)
	return req, snap, st, oe
}

func (o *OperatorService) customer(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	req, _, _, oe := o.requestedCustomer(ctx, body)
	if oe != nil {
		return nil, oe
	}
	// Read again with the activity log, at one version (SW-2).
	snap, st, log, err := loadCustomerActivity(ctx, o.Queries.Store, req.CustomerID)
	if err != nil {
		return nil, o.opsFailed("reading customer "+req.CustomerID+"'s activity log", err)
	}
	dead, err := o.Queries.Store.DeadLetteredCommands(ctx, req.CustomerID)
	if err != nil {
		return nil, o.opsFailed("reading customer "+req.CustomerID+"'s dead-lettered commands", err)
	}
	return operatorCustomer{CustomerID: req.CustomerID, Version: snap.Version, Customer: st.Customer,
		Subscriptions: byID(st.Subscriptions), Orders: byID(st.Orders), Timers: byID(st.Timers), Transfers: byID(st.Transfers),
		Parked: st.Parked, Refunds: st.Refunds, Activity: append(st.LegacyActivity, log.Entries...), ActivityTrimmedThrough: log.TrimmedThrough,
		DeadLettered: dead}, nil
}

func (o *OperatorService) subscriptions(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	req, _, st, oe := o.requestedCustomer(ctx, body)
	if oe != nil {
		return nil, oe
	}
	if st, oe = o.withArchive(ctx, req.CustomerID, st); oe != nil {
		return nil, oe
	}
	out := messages.OpsSubscriptions{CustomerID: req.CustomerID, Subscriptions: []messages.OpsSubscription{}}
	for _, s := range byID(st.Subscriptions) {
		out.Subscriptions = append(out.Subscriptions, messages.OpsSubscription{ID: s.ID, PartnerID: s.PartnerID,
			OfferID: s.OfferID, OfferName: s.OfferName, CommerceType: s.CommerceType, Quantity: s.Quantity, Status: s.Status,
			AutoRenew: s.AutoRenew, Term: s.Term, BillingFrequency: s.BillingFrequency, TermEnd: s.TermEnd,
			CancellableUntil: s.CancellableUntil})
	}
	return out, nil
}

// reducible answers QTY-3's view of a subscription as its partner of
// record asks it.
func (o *OperatorService) reducible(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req messages.OpsReducibleRequest
	if oe := decodeOps(body, &req, `{"customer_id": "...", "subscription_id": "...", "at": "<RFC 3339, simulation mode only>"}`); oe != nil {
		return nil, oe
	}
	now, rej := o.Queries.instant(ctx, req.At)
	if rej != nil {
		return nil, fromRejection(rej)
	}
	_, st, oe := o.loadCustomer(ctx, req.CustomerID)
	if oe != nil {
		return nil, oe
	}
	sub, ok := st.Subscriptions[req.SubscriptionID]
	if !ok {
		return nil, opsErr(opsNotFound, "subscription_not_found", "customer %s has no subscription %q", req.CustomerID, req.SubscriptionID)
	}
	v, rej := rules.QueryReducibleQuantity(st, sub.PartnerID, req.CustomerID, req.SubscriptionID, now)
	if rej != nil {
		return nil, fromRejection(rej)
	}
	return v, nil
}

// orders answers EXP-2's order history with every partner's orders.
func (o *OperatorService) orders(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	var req messages.OpsOrdersRequest
	if oe := decodeOps(body, &req, `{"customer_id": "...", "from": "<RFC 3339>", "to": "<RFC 3339>"}`); oe != nil {
		return nil, oe
	}
	from, to, rej := orderWindow(req.From, req.To)
	if rej != nil {
		return nil, fromRejection(rej)
	}
	_, st, oe := o.loadCustomer(ctx, req.CustomerID)
	if oe != nil {
		return nil, oe
	}
	if st, oe = o.withArchive(ctx, req.CustomerID, st); oe != nil {
		return nil, oe
	}
	return OrderHistory(req.CustomerID, st.Orders, from, to), nil
}

// export answers EXP-1's CSV with every partner's subscriptions.
func (o *OperatorService) export(ctx context.Context, body []byte) (any, *messages.OperatorError) {
	req, _, st, oe := o.requestedCustomer(ctx, body)
	if oe != nil {
		return nil, oe
	}
	if st, oe = o.withArchive(ctx, req.CustomerID, st); oe != nil {
		return nil, oe
	}
	doc, err := SubscriptionsCSV(byID(st.Subscriptions))
	if err != nil {
		return nil, opsErr(opsInternal, "export_failed", "writing the CSV failed: %v", err)
	}
	return messages.SubscriptionsCSV{ContentType: messages.ContentTypeCSV, CSV: doc}, nil
}
