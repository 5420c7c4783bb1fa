package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// OperatorService serves the operator endpoints (messages/operator.go) as a
// NATS micro service named csp-operator. Every replica registers it at
// start; the endpoints share one queue group, so one replica answers each
// request, while `nats micro ls` lists every replica's instance.
//
// What it reads, it reads where the processor keeps it: customers' state
// in Redis through the partners' query code (loadCustomerState, the
// export and reducible-quantity views), the timer index and outboxes in
// Redis, the consumers and leases in JetStream, the dead letters by
// sequence. Only the dead-letter endpoints change anything: replay
// publishes a command, purge removes dead letters (operator_replay.go,
// operator_deadletters.go). The operator user may call nothing else
// (deployments/nats/accounts.conf), so a replay goes through here and
// the processor's checks, never straight into the command stream.
//
// Each endpoint answers one request at a time (micro runs a handler on
// its subscription's goroutine), each bounded by opsTimeout.
type OperatorService struct {
	// Queries is the partners' query service, whose store, clock and
	// views the operator endpoints share.
	Queries *QueryService
	JS      jetstream.JetStream
	Streams bus.StreamsConfig
	// ConsumerPrefix names the command consumers (bus.ConsumerName).
	ConsumerPrefix string
	// LeaseBucket is the partition lease bucket; empty without leases
	// (every replica works every partition).
	LeaseBucket string
	Logger      watermill.LoggerAdapter

	svc    micro.Service
	ctx    context.Context
	cancel context.CancelFunc
}

// opsTimeout bounds the answer to one operator request.
const opsTimeout = 10 * time.Second

// opsHandler answers one endpoint's request body.
type opsHandler func(ctx context.Context, body []byte) (any, *messages.OperatorError)

// Start registers the service and its endpoints.
func (o *OperatorService) Start() error {
	if o.Logger == nil {
		o.Logger = watermill.NopLogger{}
	}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	svc, err := micro.AddService(o.Queries.NATS, micro.Config{
		Name:        messages.OperatorServiceName,
		Version:     messages.OperatorServiceVersion,
		Description: "CSP processor operator endpoints: customers' state, timers, outboxes, partitions, dead letters (cmd/cspctl)",
		QueueGroup:  messages.OperatorServiceName,
	})
	if err != nil {
		o.cancel()
		return fmt.Errorf("operator service: %w", err)
	}
	o.svc = svc
	for subject, h := range map[string]opsHandler{
		messages.OpsSubjectCustomer:      o.customer,
		messages.OpsSubjectSubscriptions: o.subscriptions,
		messages.OpsSubjectReducible:     o.reducible,
		messages.OpsSubjectOrders:        o.orders,
		messages.OpsSubjectExport:        o.export,
		messages.OpsSubjectTimers:        o.timers,
		messages.OpsSubjectOutbox:        o.outbox,
		messages.OpsSubjectPartitions:    o.partitions,
		messages.OpsSubjectClock:         o.clock,
		messages.OpsSubjectDLQList:       o.deadLetterList,
		messages.OpsSubjectDLQShow:       o.deadLetterShow,
		messages.OpsSubjectDLQReplay:     o.deadLetterReplay,
		messages.OpsSubjectDLQPurge:      o.deadLetterPurge,
	} {
		name := strings.ReplaceAll(strings.TrimPrefix(subject, messages.OperatorSubjectPrefix+"."), ".", "_")
		if err := svc.AddEndpoint(name, o.serve(subject, h), micro.WithEndpointSubject(subject)); err != nil {
			o.cancel()
			return errors.Join(fmt.Errorf("operator service: endpoint %s: %w", subject, err), svc.Stop())
		}
	}
	return nil
}

// Shutdown stops taking requests (micro drains the subscriptions) and
// cancels the reads of those being answered.
func (o *OperatorService) Shutdown(ctx context.Context) error {
	if o.svc == nil {
		return nil
	}
	err := o.svc.Stop()
	o.cancel()
	return err
}

// serve answers a request with h's answer as JSON, or its error as a micro
// error whose body is the OperatorError.
func (o *OperatorService) serve(subject string, h opsHandler) micro.Handler {
	return micro.HandlerFunc(func(r micro.Request) {
		ctx, cancel := context.WithTimeout(o.ctx, opsTimeout)
		defer cancel()
		answer, oe := h(ctx, r.Data())
		var err error
		if oe != nil {
			body, _ := json.Marshal(oe)
			err = r.Error(oe.Status, oe.Description, body)
		} else {
			err = r.RespondJSON(answer)
		}
		if err != nil {
			o.Logger.Error("Answering an operator request failed", err, watermill.LogFields{"subject": subject})
		}
	})
}

// Statuses of the operator's micro errors (messages.OperatorError).
const (
	opsBadRequest  = "400"
	opsNotFound    = "404"
	opsConflict    = "409"
	opsInternal    = "500"
	opsUnavailable = "503"
)

func opsErr(status, code, format string, args ...any) *messages.OperatorError {
	return &messages.OperatorError{Status: status, Code: code, Description: fmt.Sprintf(format, args...)}
}

// opsFailed is a read or write of Redis or NATS that failed: the operator
// may retry. It is logged, as the partners' queries log theirs.
func (o *OperatorService) opsFailed(what string, err error) *messages.OperatorError {
	o.Logger.Error("Operator request failed", err, watermill.LogFields{"what": what})
	return opsErr(opsUnavailable, "unavailable", "%s failed; retry: %v", what, err)
}

// fromRejection turns a query's rejection (GEN-6 shape) into the
// operator's error, keeping its code.
func fromRejection(r *messages.Rejection) *messages.OperatorError {
	status := opsBadRequest
	switch r.Code {
	case CodeQueryUnavailable:
		status = opsUnavailable
	case "subscription_not_found", "not_found":
		status = opsNotFound
	}
	return opsErr(status, r.Code, "%s", r.Description)
}

// decodeOps decodes an operator request strictly, as a query's (size cap,
// unknown fields refused); an empty body is {}.
func decodeOps(body []byte, into any, shape string) *messages.OperatorError {
	if rej := decodeQueryRequest(body, into, "the request must be "+shape, true); rej != nil {
		return opsErr(opsBadRequest, "invalid_request", "%s", rej.Description)
	}
	return nil
}

// pageLimit is a request's limit: def when 0, refused outside 1..most.
func pageLimit(n, def, most int) (int, *messages.OperatorError) {
	switch {
	case n == 0:
		return def, nil
	case n < 0 || n > most:
		return 0, opsErr(opsBadRequest, "invalid_request", "limit: must be 1..%d, got %d", most, n)
	}
	return n, nil
}
