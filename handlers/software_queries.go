package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// The software activity log (SW-2) over NATS request/reply:
//
//	csp.query.<partner>.<role>.<customer>.software_activity  {"from": RFC 3339, "to": RFC 3339}
//
// answers the key accesses and downloads with from <= at < to, oldest
// first. ROL-1: Global admin, Account admin, Referral admin and Marketing
// content admin (seed 002). PTN-1 as for every query.
func init() {
	registerQuery(messages.QuerySoftwareActivity, rules.SoftwareActivityRoles(),
		func(ctx context.Context, q *QueryService, subject string, body []byte) any {
			return q.softwareActivity(ctx, subject, body)
		})
}

func (q *QueryService) softwareActivity(ctx context.Context, subject string, body []byte) messages.QueryReply[messages.SoftwareActivity] {
	fail := func(r *messages.Rejection) messages.QueryReply[messages.SoftwareActivity] {
		return messages.QueryReply[messages.SoftwareActivity]{Error: r}
	}
	route, err := messages.ParseQuerySubject(subject)
	if err != nil {
		return fail(&messages.Rejection{Code: rules.CodeNoRelationship, Rule: "PTN-1", Source: rules.Source,
			Description: "no relationship with that customer"})
	}
	if len(body) > maxQueryBody {
		return fail(malformed(fmt.Sprintf("the request is over %d bytes", maxQueryBody)))
	}
	var req messages.SoftwareActivityRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return fail(malformed(`the request must be {"from": "<RFC 3339>", "to": "<RFC 3339>"}`))
	}
	from, rej := activityInstant("from", req.From)
	if rej != nil {
		return fail(rej)
	}
	to, rej := activityInstant("to", req.To)
	if rej != nil {
		return fail(rej)
	}
	if !from.Before(to) {
		return fail(&messages.Rejection{Code: rules.CodeInvalidField, Rule: "GEN-6", Source: rules.Source,
			Description: "to: must be after from", Data: map[string]string{"field": "to"}})
	}
	snap, err := q.Store.Load(ctx, route.CustomerID, "")
	if err != nil {
		q.Logger.Error("Query could not load state", err, watermill.LogFields{"customer": route.CustomerID})
		return fail(&messages.Rejection{Code: CodeQueryUnavailable, Rule: "GEN-6", Source: rules.Source,
			Description: "the customer's state could not be read; retry"})
	}
	st, err := rules.DecodeState(snap.Fields)
	if err != nil {
		q.Logger.Error("Query could not decode state", err, watermill.LogFields{"customer": route.CustomerID})
		return fail(&messages.Rejection{Code: CodeQueryUnavailable, Rule: "GEN-6", Source: rules.Source,
			Description: "the customer's state could not be read; retry"})
	}
	v, rej := rules.QuerySoftwareActivity(st, route.PartnerID, route.CustomerID, from, to)
	if rej != nil {
		return fail(rej)
	}
	return messages.QueryReply[messages.SoftwareActivity]{Result: v}
}

// activityInstant parses a required RFC 3339 instant of the request.
func activityInstant(field, s string) (time.Time, *messages.Rejection) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &messages.Rejection{Code: rules.CodeInvalidField, Rule: "GEN-6", Source: rules.Source,
			Description: fmt.Sprintf("%s: %q is not an RFC 3339 time", field, s), Data: map[string]string{"field": field}}
	}
	return t.UTC(), nil
}
