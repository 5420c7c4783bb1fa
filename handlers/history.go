package handlers

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// withArchive is a customer's state with its archived subscriptions,
// orders and transfers added back (rules archive.go): the history
// queries (EXP-1's export, EXP-2's order history and the operator's views
// of them) list closed entities until the archive retention trims their
// records. The live entity wins over an archived one of the same ID.
func withArchive(ctx context.Context, store *state.Store, customerID string, st rules.CustomerState) (rules.CustomerState, error) {
	fields, err := store.Archive(ctx, customerID)
	if err != nil || len(fields) == 0 {
		return st, err
	}
	old, err := rules.DecodeState(fields)
	if err != nil {
		return st, &stateUndecodable{fmt.Errorf("customer %s archive: %w", customerID, err)}
	}
	out := st
	out.Subscriptions = merged(st.Subscriptions, old.Subscriptions)
	out.Orders = merged(st.Orders, old.Orders)
	out.Transfers = merged(st.Transfers, old.Transfers)
	return out, nil
}

func merged[V any](live, archived map[string]V) map[string]V {
	out := make(map[string]V, len(live)+len(archived))
	for k, v := range archived {
		out[k] = v
	}
	for k, v := range live {
		out[k] = v
	}
	return out
}

// history is withArchive for the partners' queries: a failure to read is
// answered like one to read the state.
func (q *QueryService) history(ctx context.Context, customerID string, st rules.CustomerState) (rules.CustomerState, *messages.Rejection) {
	st, err := withArchive(ctx, q.Store, customerID, st)
	if err != nil {
		q.Logger.Error("Query could not read the archive", err, watermill.LogFields{"customer": customerID})
		return st, &messages.Rejection{Code: CodeQueryUnavailable, Rule: "GEN-6", Source: rules.Source,
			Description: "the customer's history could not be read; retry"}
	}
	return st, nil
}
