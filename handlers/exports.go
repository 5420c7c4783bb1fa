package handlers

import (
	"context"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// Exports of a customer's subscriptions (EXP-1) and orders (EXP-2),
// answered as queries (csp.query.<partner>.<role>.<customer>.<name>) by the
// roles that manage subscriptions (ROL-1). Decisions, where Partner Center
// and the rule catalogue are silent:
//
//   - PTN-1: the asking partner must have the relationship with the
//     customer; an unknown customer and another partner's customer get
//     the same no_relationship answer, as for commands.
//   - subscriptions_csv lists the subscriptions the asking partner is the
//     partner of record of, in every status (a cancelled or expired one
//     too: Partner Center's export lists them), ordered by subscription
//     ID so that two exports of the same state are byte-identical.
//   - The CSV is RFC 4180: a header row, CRLF line ends, a field quoted
//     when it holds a comma, a double quote (doubled), CR/LF or a leading
//     space. Columns, exactly and in this order (Partner Center's):
//     Subscription ID, Name (the product name at purchase), Quantity
//     (licenses; empty for a usage-based subscription, which has none),
//     Status, Billing cycle (the billing frequency: monthly, annual,
//     triennial, one_time), Promotion (the promotion ID, else "none";
//     promotions are not modelled yet, so always "none"), Reseller ID (the
//     indirect reseller an indirect provider named for the subscription,
//     PTN-3, else empty).
//   - Status is the status with the auto-renew state and, when it renews,
//     the renewal date (the day after the term end date, GEN-4): "active
//     (auto-renew on, renews 2027-03-10)", "suspended (auto-renew off)";
//     a final status alone: "cancelled", "expired".
//   - order_history lists every order of the customer (only the partner
//     with the relationship places orders, PTN-1), newest first (equal
//     instants by order ID), each with its status and every line's
//     fulfilment status, subscription ID and rejection code (ORD-1). The
//     optional {from, to} (RFC 3339) keep the orders placed at or after
//     from and before to.
//   - Both are answered from the stored state as of the request; they
//     depend on no clock.
func init() {
	roles := rules.RolesFor(messages.CmdSubscriptionCancel)
	registerQuery(messages.QuerySubscriptionsCSV, roles, func(ctx context.Context, q *QueryService, subject string, body []byte) any {
		return q.subscriptionsCSV(ctx, subject, body)
	})
	registerQuery(messages.QueryOrderHistory, roles, func(ctx context.Context, q *QueryService, subject string, body []byte) any {
		return q.orderHistory(ctx, subject, body)
	})
}

// ExportColumns are EXP-1's columns, in order.
var ExportColumns = []string{"Subscription ID", "Name", "Quantity", "Status", "Billing cycle", "Promotion", "Reseller ID"}

// subscriptionsCSV answers subscriptions_csv (EXP-1).
func (q *QueryService) subscriptionsCSV(ctx context.Context, subject string, body []byte) messages.QueryReply[messages.SubscriptionsCSV] {
	fail := func(r *messages.Rejection) messages.QueryReply[messages.SubscriptionsCSV] {
		return messages.QueryReply[messages.SubscriptionsCSV]{Error: r}
	}
	var req struct{}
	if rej := decodeQueryRequest(body, &req, `the request must be empty or {}`, true); rej != nil {
		return fail(rej)
	}
	route, st, rej := q.customerState(ctx, subject)
	if rej != nil {
		return fail(rej)
	}
	if st, rej = q.history(ctx, route.CustomerID, st); rej != nil { // closed entities until the archive trims them
		return fail(rej)
	}
	var subs []*rules.Subscription
	for _, s := range st.Subscriptions {
		if s.PartnerID == route.PartnerID {
			subs = append(subs, s)
		}
	}
	doc, err := SubscriptionsCSV(subs)
	if err != nil { // writing to memory does not fail
		q.Logger.Error("Export could not write the CSV", err, watermill.LogFields{"customer": route.CustomerID})
		return fail(&messages.Rejection{Code: CodeQueryUnavailable, Rule: "GEN-6", Source: rules.Source, Description: "the export failed; retry"})
	}
	return messages.QueryReply[messages.SubscriptionsCSV]{Result: &messages.SubscriptionsCSV{ContentType: messages.ContentTypeCSV, CSV: doc}}
}

// SubscriptionsCSV writes EXP-1's CSV of the subscriptions, ordered by ID
// (see the decisions above).
func SubscriptionsCSV(subs []*rules.Subscription) (string, error) {
	sorted := append([]*rules.Subscription(nil), subs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.Write(ExportColumns); err != nil {
		return "", err
	}
	for _, s := range sorted {
		quantity := strconv.Itoa(s.Quantity)
		if s.BillingType == "usage" {
			quantity = ""
		}
		if err := w.Write([]string{s.ID, s.OfferName, quantity, ExportStatus(s), s.BillingFrequency, "none", s.ResellerID}); err != nil {
			return "", err
		}
	}
	w.Flush()
	return b.String(), w.Error()
}

// ExportStatus is EXP-1's status column: the status, the auto-renew state
// and, when the subscription renews, its renewal date.
func ExportStatus(s *rules.Subscription) string {
	switch s.Status {
	case rules.StatusCancelled, rules.StatusExpired:
		return s.Status
	}
	if !s.AutoRenew {
		return s.Status + " (auto-renew off)"
	}
	return s.Status + " (auto-renew on, renews " + s.TermEnd.AddDate(0, 0, 1).Format(time.DateOnly) + ")"
}

// orderHistory answers order_history (EXP-2).
func (q *QueryService) orderHistory(ctx context.Context, subject string, body []byte) messages.QueryReply[messages.OrderHistory] {
	fail := func(r *messages.Rejection) messages.QueryReply[messages.OrderHistory] {
		return messages.QueryReply[messages.OrderHistory]{Error: r}
	}
	var req messages.OrderHistoryRequest
	if rej := decodeQueryRequest(body, &req, `the request must be empty, {} or {"from": "<RFC 3339>", "to": "<RFC 3339>"}`, true); rej != nil {
		return fail(rej)
	}
	from, to, rej := orderWindow(req.From, req.To)
	if rej != nil {
		return fail(rej)
	}
	route, st, rej := q.customerState(ctx, subject)
	if rej != nil {
		return fail(rej)
	}
	if st, rej = q.history(ctx, route.CustomerID, st); rej != nil { // closed entities until the archive trims them
		return fail(rej)
	}
	return messages.QueryReply[messages.OrderHistory]{Result: OrderHistory(route.CustomerID, ordersOf(st, route.PartnerID), from, to)}
}

// ordersOf is the orders a partner placed for the customer (PTN-1: after a
// transfer relationship the new partner does not see the others' orders).
func ordersOf(st rules.CustomerState, partnerID string) map[string]*rules.Order {
	out := map[string]*rules.Order{}
	for id, o := range st.Orders {
		placedBy := o.PartnerID
		if placedBy == "" && st.Customer != nil {
			placedBy = st.Customer.PartnerID
		}
		if placedBy == partnerID {
			out[id] = o
		}
	}
	return out
}

// OrderHistory is EXP-2's view of a customer's orders placed in [from, to)
// (a zero bound is open), newest first.
func OrderHistory(customerID string, orders map[string]*rules.Order, from, to time.Time) *messages.OrderHistory {
	h := &messages.OrderHistory{CustomerID: customerID, Orders: []messages.OrderView{}}
	for _, o := range orders {
		if !from.IsZero() && o.PlacedAt.Before(from) || !to.IsZero() && !o.PlacedAt.Before(to) {
			continue
		}
		v := messages.OrderView{OrderID: o.ID, PlacedAt: o.PlacedAt.UTC(), Status: o.Status, Lines: []messages.OrderLineView{}}
		for _, l := range o.Lines {
			v.Lines = append(v.Lines, messages.OrderLineView{LineID: l.LineID, OfferID: l.OfferID, Status: l.Status,
				SubscriptionID: l.SubscriptionID, Code: l.Code})
		}
		h.Orders = append(h.Orders, v)
	}
	sort.Slice(h.Orders, func(i, j int) bool {
		a, b := h.Orders[i], h.Orders[j]
		if !a.PlacedAt.Equal(b.PlacedAt) {
			return a.PlacedAt.After(b.PlacedAt)
		}
		return a.OrderID < b.OrderID
	})
	return h
}

// orderWindow parses order_history's optional [from, to) bounds.
func orderWindow(fromText, toText string) (from, to time.Time, _ *messages.Rejection) {
	from, rej := exportInstant("from", fromText)
	if rej != nil {
		return from, to, rej
	}
	if to, rej = exportInstant("to", toText); rej != nil {
		return from, to, rej
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return from, to, &messages.Rejection{Code: rules.CodeInvalidField, Rule: "GEN-6", Source: rules.Source,
			Description: "to: must be after from", Data: map[string]string{"field": "to"}}
	}
	return from, to, nil
}

// exportInstant parses an optional RFC 3339 bound of order_history.
func exportInstant(field, v string) (time.Time, *messages.Rejection) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &messages.Rejection{Code: rules.CodeInvalidField, Rule: "GEN-6", Source: rules.Source,
			Description: fmt.Sprintf("%s: %q is not an RFC 3339 time", field, v), Data: map[string]string{"field": field}}
	}
	return t.UTC(), nil
}
