package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// The software activity log (SW-2) over NATS request/reply:
//
//	csp.query.<partner>.<role>.<customer>.software_activity  {"from": RFC 3339, "to": RFC 3339}
//
// answers the key accesses and downloads with from <= at < to, oldest
// first. ROL-1: Global admin, Account admin, Referral admin and Marketing
// content admin (as Partner Center says). PTN-1 as for every query.
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
	var req messages.SoftwareActivityRequest
	if rej := decodeQueryRequest(body, &req, `the request must be {"from": "<RFC 3339>", "to": "<RFC 3339>"}`, false); rej != nil {
		return fail(rej)
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
	route, st, log, rej := q.customerActivity(ctx, subject)
	if rej != nil {
		return fail(rej)
	}
	v, rej := rules.QuerySoftwareActivity(st, log, route.PartnerID, route.CustomerID, from, to)
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
