package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/state"
)

// QueryQueueGroup is the queue group of the query subscribers: each request
// is answered by one processor replica.
const QueryQueueGroup = "processor"

// Query error codes beyond the rules' (GEN-6 shape).
const (
	// CodeQueryMalformed: the request body is not the expected JSON.
	CodeQueryMalformed = "malformed"
	// CodeQueryUnavailable: the state could not be read; retry.
	CodeQueryUnavailable = "unavailable"
)

// maxQueryBody bounds a request body, like a command's (64 KiB).
const maxQueryBody = 64 << 10

// QueryService answers read-only queries over NATS request/reply from the
// stored state (QTY-3's reducible quantity). It never writes: a query
// changes nothing, bumps no version and is not in any stream.
//
// The acting partner is the subject's partner token, as for commands, and
// PTN-1 applies with the same answers: an unknown customer and another
// partner's customer both get no_relationship.
//
// Time: a query is answered as of the wall clock (time.Now), not a broker
// timestamp; there is no message to timestamp and the answer is not stored.
// With Simulated, the request's "at" (RFC 3339) sets the instant, and
// without it the simulated clock (the scheduler's, kept in Redis) is used
// once it has been set; a service not in simulation mode refuses "at".
type QueryService struct {
	Store *state.Store
	NATS  *nats.Conn
	// Simulated honours the request's "at" and the simulated clock.
	Simulated bool
	// MaxInFlight bounds the requests answered at once; 64 when 0.
	MaxInFlight int
	// Now is the wall clock; time.Now when nil.
	Now    func() time.Time
	Logger watermill.LoggerAdapter

	mu       sync.Mutex
	closed   bool
	sub      *nats.Subscription
	inflight sync.WaitGroup
	sem      chan struct{}
	ctx      context.Context
	cancel   context.CancelFunc
}

// Start subscribes to the query subjects.
func (q *QueryService) Start() error {
	if q.Store == nil || q.NATS == nil {
		return errors.New("query service: Store and NATS are required")
	}
	if q.Now == nil {
		q.Now = time.Now
	}
	if q.Logger == nil {
		q.Logger = watermill.NopLogger{}
	}
	if q.MaxInFlight <= 0 {
		q.MaxInFlight = 64
	}
	q.sem = make(chan struct{}, q.MaxInFlight)
	q.ctx, q.cancel = context.WithCancel(context.Background())
	sub, err := q.NATS.QueueSubscribe(messages.QuerySubjects, QueryQueueGroup, q.dispatch)
	if err != nil {
		q.cancel()
		return fmt.Errorf("query service: subscribe %s: %w", messages.QuerySubjects, err)
	}
	q.sub = sub
	return nil
}

// Shutdown stops taking requests and waits for those being answered (until
// ctx ends, when their reads are cancelled).
func (q *QueryService) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if q.closed || q.sub == nil {
		q.closed = true
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	q.mu.Unlock()
	err := q.sub.Unsubscribe()
	done := make(chan struct{})
	go func() { q.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		q.cancel()
		<-done
		err = errors.Join(err, ctx.Err())
	}
	q.cancel()
	return err
}

// dispatch runs on the subscription's goroutine: it hands the request to a
// goroutine of its own, blocking while MaxInFlight are being answered.
func (q *QueryService) dispatch(m *nats.Msg) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.inflight.Add(1)
	q.mu.Unlock()
	q.sem <- struct{}{}
	go func() {
		defer func() { <-q.sem; q.inflight.Done() }()
		q.answer(m)
	}()
}

func (q *QueryService) answer(m *nats.Msg) {
	if m.Reply == "" {
		return // nobody to answer
	}
	var reply any
	route, err := messages.ParseQuerySubject(m.Subject)
	h, ok := queryHandlers[route.Query]
	switch {
	case err != nil || !ok:
		reply = messages.QueryReply[struct{}]{Error: &messages.Rejection{Code: "unknown_query", Rule: "GEN-6", Source: rules.Source,
			Description: fmt.Sprintf("%s is not a query this processor answers", m.Subject)}}
	case !slices.Contains(h.roles, route.Role): // ROL-1
		reply = messages.QueryReply[struct{}]{Error: &messages.Rejection{Code: rules.CodeForbidden, Rule: "ROL-1", Source: rules.Source,
			Description: fmt.Sprintf("role %s may not ask %s", route.Role, route.Query), Data: map[string]string{"role": string(route.Role)}}}
	default:
		reply = h.answer(q.ctx, q, m.Subject, m.Data)
	}
	b, err := json.Marshal(reply)
	if err == nil {
		err = m.Respond(b)
	}
	if err != nil {
		q.Logger.Error("Answering a query failed", err, watermill.LogFields{"subject": m.Subject})
	}
}

// queryHandlers answer the queries by name (the subject's last token).
// Files of this package for other product areas add theirs with
// registerQuery from an init function.
var queryHandlers = map[string]queryHandler{
	messages.QueryReducibleQuantity: {
		roles: rules.RolesFor(messages.CmdQuantityChange),
		answer: func(ctx context.Context, q *QueryService, subject string, body []byte) any {
			return q.reducibleQuantity(ctx, subject, body)
		},
	},
}

// queryHandler answers one query for the roles that may ask it (ROL-1).
type queryHandler struct {
	roles  []messages.Role
	answer func(ctx context.Context, q *QueryService, subject string, body []byte) any
}

func registerQuery(name string, roles []messages.Role, answer func(ctx context.Context, q *QueryService, subject string, body []byte) any) {
	if _, dup := queryHandlers[name]; dup {
		panic("handlers: query registered twice: " + name)
	}
	queryHandlers[name] = queryHandler{roles: roles, answer: answer}
}

// reducibleQuantity answers csp.query.<partner>.<customer>.reducible_quantity.
func (q *QueryService) reducibleQuantity(ctx context.Context, subject string, body []byte) messages.QueryReply[messages.ReducibleQuantity] {
	fail := func(r *messages.Rejection) messages.QueryReply[messages.ReducibleQuantity] {
		return messages.QueryReply[messages.ReducibleQuantity]{Error: r}
	}
	var req messages.ReducibleQuantityRequest
	if rej := decodeQueryRequest(body, &req, `the request must be {"subscription_id": "..."}`, false); rej != nil {
		return fail(rej)
	}
	now, rej := q.instant(ctx, req.At)
	if rej != nil {
		return fail(rej)
	}
	route, st, rej := q.customerState(ctx, subject)
	if rej != nil {
		return fail(rej)
	}
	v, rej := rules.QueryReducibleQuantity(st, route.PartnerID, route.CustomerID, req.SubscriptionID, now)
	if rej != nil {
		return fail(rej)
	}
	return messages.QueryReply[messages.ReducibleQuantity]{Result: v}
}

// instant is the time a query is answered for (see QueryService).
func (q *QueryService) instant(ctx context.Context, at string) (time.Time, *messages.Rejection) {
	if at == "" {
		if q.Simulated {
			if t, err := q.Store.SimClock(ctx); err == nil && !t.IsZero() {
				return t.UTC(), nil
			}
		}
		return q.Now().UTC(), nil
	}
	if !q.Simulated {
		return time.Time{}, &messages.Rejection{Code: rules.CodeInvalidField, Rule: "GEN-6", Source: rules.Source,
			Description: "at: only a processor in simulation mode answers for another instant",
			Data:        map[string]string{"field": "at"}}
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return time.Time{}, &messages.Rejection{Code: rules.CodeInvalidField, Rule: "GEN-6", Source: rules.Source,
			Description: fmt.Sprintf("at: %q is not an RFC 3339 time", at), Data: map[string]string{"field": "at"}}
	}
	return t.UTC(), nil
}

func malformed(why string) *messages.Rejection {
	return &messages.Rejection{Code: CodeQueryMalformed, Rule: "GEN-6", Source: rules.Source, Description: why}
}

// customerState loads the customer's state for a query and applies PTN-1
// at the customer level: an unknown customer and another partner's get the
// same no_relationship answer.
func (q *QueryService) customerState(ctx context.Context, subject string) (messages.QueryRoute, rules.CustomerState, *messages.Rejection) {
	route, st, _, rej := q.customerRead(ctx, subject, false)
	return route, st, rej
}

// customerActivity is customerState with the customer's software activity
// log (SW-2), read at the same version (loadCustomerActivity).
func (q *QueryService) customerActivity(ctx context.Context, subject string) (messages.QueryRoute, rules.CustomerState, rules.ActivityLog, *messages.Rejection) {
	return q.customerRead(ctx, subject, true)
}

func (q *QueryService) customerRead(ctx context.Context, subject string, activity bool) (messages.QueryRoute, rules.CustomerState, rules.ActivityLog, *messages.Rejection) {
	route, err := messages.ParseQuerySubject(subject)
	if err != nil {
		return route, rules.CustomerState{}, rules.ActivityLog{}, &messages.Rejection{Code: rules.CodeNoRelationship, Rule: "PTN-1", Source: rules.Source,
			Description: "no relationship with that customer"}
	}
	var st rules.CustomerState
	var log rules.ActivityLog
	if activity {
		_, st, log, err = loadCustomerActivity(ctx, q.Store, route.CustomerID)
	} else {
		_, st, err = loadCustomerState(ctx, q.Store, route.CustomerID)
	}
	if err != nil {
		q.Logger.Error("Query could not read state", err, watermill.LogFields{"customer": route.CustomerID})
		return route, rules.CustomerState{}, rules.ActivityLog{}, &messages.Rejection{Code: CodeQueryUnavailable, Rule: "GEN-6", Source: rules.Source,
			Description: "the customer's state could not be read; retry"}
	}
	if !st.Customer.HasRelationship(route.PartnerID) {
		return route, rules.CustomerState{}, rules.ActivityLog{}, &messages.Rejection{Code: rules.CodeNoRelationship, Rule: "PTN-1", Source: rules.Source,
			Description: fmt.Sprintf("partner %s has no relationship with customer %s", route.PartnerID, route.CustomerID),
			Data:        map[string]string{"partner_id": route.PartnerID, "customer_id": route.CustomerID}}
	}
	return route, st, log, nil
}

// stateUndecodable wraps the error of a customer's stored state that does
// not decode (a bug or a damaged record, not an outage).
type stateUndecodable struct{ err error }

func (e *stateUndecodable) Error() string { return e.err.Error() }
func (e *stateUndecodable) Unwrap() error { return e.err }

// loadCustomerState reads and decodes a customer's stored state, for the
// partners' queries and the operator service alike: a failure to read is
// returned as it is, a state that does not decode as *stateUndecodable.
// An unknown customer has an empty state (Customer nil, version 0).
func loadCustomerState(ctx context.Context, store *state.Store, customerID string) (state.Snapshot, rules.CustomerState, error) {
	snap, err := store.Load(ctx, customerID, "")
	if err != nil {
		return snap, rules.CustomerState{}, err
	}
	st, err := rules.DecodeState(snap.Fields)
	if err != nil {
		return snap, rules.CustomerState{}, &stateUndecodable{fmt.Errorf("customer %s: %w", customerID, err)}
	}
	return snap, st, nil
}

// decodeQueryRequest decodes a request body strictly (unknown fields and
// trailing data refused, size capped); with allowEmpty an empty body is {}.
func decodeQueryRequest(body []byte, into any, shape string, allowEmpty bool) *messages.Rejection {
	if len(body) > maxQueryBody {
		return malformed(fmt.Sprintf("the request is over %d bytes", maxQueryBody))
	}
	if allowEmpty && len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil || dec.More() {
		return malformed(shape)
	}
	return nil
}
