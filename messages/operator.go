package messages

import "time"

// The operator service: read-only views of the processor's state and the
// operations on dead letters, for an operator's tool (cmd/cspctl). Every
// processor replica serves it as a NATS micro service (nats.go micro:
// `nats micro ls` finds it, `nats micro info csp-operator` lists the
// endpoints), one replica answering each request (a queue group).
//
//	csp.ops.<endpoint>   request, a JSON body; the reply goes to the request's inbox
//
// Unlike a query (queries.go), a request names no partner: the operator
// sees every partner's data. The shipped NATS permissions give these
// subjects to the operator user only (deployments/nats/accounts.conf).
//
// A reply is the endpoint's JSON answer, or a micro error: the headers
// Nats-Service-Error-Code (an HTTP-like status: 400 the request is wrong,
// 404 no such thing, 409 not now, 500 the processor's fault, 503 retry
// later) and Nats-Service-Error (what went wrong), and an OperatorError body
// that adds a specific code.
const (
	OperatorServiceName    = "csp-operator"
	OperatorServiceVersion = "1.0.0"
	OperatorSubjectPrefix  = "csp.ops"
)

// The endpoints' subjects.
const (
	OpsSubjectCustomer      = OperatorSubjectPrefix + ".customer"      // OpsCustomerRequest -> the decoded state (JSON)
	OpsSubjectSubscriptions = OperatorSubjectPrefix + ".subscriptions" // OpsCustomerRequest -> OpsSubscriptions
	OpsSubjectReducible     = OperatorSubjectPrefix + ".reducible"     // OpsReducibleRequest -> ReducibleQuantity
	OpsSubjectOrders        = OperatorSubjectPrefix + ".orders"        // OpsOrdersRequest -> OrderHistory
	OpsSubjectExport        = OperatorSubjectPrefix + ".export"        // OpsCustomerRequest -> SubscriptionsCSV
	OpsSubjectTimers        = OperatorSubjectPrefix + ".timers"        // OpsTimersRequest -> OpsTimers
	OpsSubjectOutbox        = OperatorSubjectPrefix + ".outbox"        // OpsOutboxRequest -> OpsOutbox
	OpsSubjectPartitions    = OperatorSubjectPrefix + ".partitions"    // {} -> OpsPartitions
	OpsSubjectClock         = OperatorSubjectPrefix + ".clock"         // {} -> OpsClock (simulation mode only)
	OpsSubjectDLQList       = OperatorSubjectPrefix + ".dlq.list"      // DeadLetterListRequest -> DeadLetterList
	OpsSubjectDLQShow       = OperatorSubjectPrefix + ".dlq.show"      // DeadLetterRequest -> DeadLetterDetail
	OpsSubjectDLQReplay     = OperatorSubjectPrefix + ".dlq.replay"    // DeadLetterRequest -> DeadLetterReplay
	OpsSubjectDLQPurge      = OperatorSubjectPrefix + ".dlq.purge"     // DeadLetterPurgeRequest -> DeadLetterPurge
)

// OperatorError is the body of the service's micro errors.
type OperatorError struct {
	// Status is the micro error code (Nats-Service-Error-Code): "400",
	// "404", "409", "500" or "503".
	Status string `json:"status"`
	// Code says what went wrong, e.g. not_found, invalid_request,
	// not_replayable, confirmation_required, unavailable.
	Code        string `json:"code"`
	Description string `json:"description"`
}

func (e *OperatorError) Error() string { return e.Code + " (" + e.Status + "): " + e.Description }

// OpsCustomerRequest names a customer (customer, subscriptions, export).
type OpsCustomerRequest struct {
	CustomerID string `json:"customer_id"`
}

// OpsReducibleRequest asks QTY-3's reducible quantity of a subscription,
// as its partner of record would see it.
type OpsReducibleRequest struct {
	CustomerID     string `json:"customer_id"`
	SubscriptionID string `json:"subscription_id"`
	// At (RFC 3339) as in ReducibleQuantityRequest: simulation mode only.
	At string `json:"at,omitempty"`
}

// OpsOrdersRequest asks a customer's order history (EXP-2), every
// partner's orders, optionally placed in [from, to).
type OpsOrdersRequest struct {
	CustomerID string `json:"customer_id"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
}

// OpsSubscriptions lists a customer's subscriptions of every partner, by
// ID: one line each with what an operator scans for; the whole stored
// entity is in the customer endpoint's answer.
type OpsSubscriptions struct {
	CustomerID    string            `json:"customer_id"`
	Subscriptions []OpsSubscription `json:"subscriptions"`
}

// OpsSubscription is one line of OpsSubscriptions.
type OpsSubscription struct {
	ID               string    `json:"id"`
	PartnerID        string    `json:"partner_id"`
	OfferID          string    `json:"offer_id"`
	OfferName        string    `json:"offer_name"`
	CommerceType     string    `json:"commerce_type"`
	Quantity         int       `json:"quantity"`
	Status           string    `json:"status"`
	AutoRenew        bool      `json:"auto_renew"`
	Term             string    `json:"term"`
	BillingFrequency string    `json:"billing_frequency"`
	TermEnd          time.Time `json:"term_end"`
	CancellableUntil time.Time `json:"cancellable_until"`
}

// OpsTimersRequest asks pending timers: with CustomerID, the timers in
// that customer's state; without, the earliest of the timer index of
// every slot. Before (RFC 3339) keeps those due before it; Limit bounds
// the answer (default 50, at most 1000).
type OpsTimersRequest struct {
	CustomerID string `json:"customer_id,omitempty"`
	Before     string `json:"before,omitempty"`
	Limit      int    `json:"limit,omitempty"`
}

// OpsTimers answers OpsTimersRequest, earliest first.
type OpsTimers struct {
	// Source is "state" (the customer's stored timers) or "index" (the
	// per-slot timer index: a superset, where an entry whose timer is
	// gone fires as a no-op).
	Source string     `json:"source"`
	Timers []OpsTimer `json:"timers"`
	// Truncated is true when more timers matched than Limit.
	Truncated bool `json:"truncated"`
}

// OpsTimer is one pending timer.
type OpsTimer struct {
	CustomerID     string    `json:"customer_id"`
	TimerID        string    `json:"timer_id"`
	Kind           string    `json:"kind"`
	SubscriptionID string    `json:"subscription_id,omitempty"`
	DueAt          time.Time `json:"due_at"`
	// Partition is the command partition whose owner fires it.
	Partition int `json:"partition"`
}

// OpsOutboxRequest asks the events waiting in outboxes (committed, not yet
// confirmed published): one customer's, or every customer's. Limit bounds
// the entries (default 100, at most 1000).
type OpsOutboxRequest struct {
	CustomerID string `json:"customer_id,omitempty"`
	Limit      int    `json:"limit,omitempty"`
}

// OpsOutbox answers OpsOutboxRequest, oldest first.
type OpsOutbox struct {
	Entries []OpsOutboxEntry `json:"entries"`
	// Customers is how many customers have entries.
	Customers int  `json:"customers"`
	Truncated bool `json:"truncated"`
}

// OpsOutboxEntry is one event waiting in an outbox.
type OpsOutboxEntry struct {
	CustomerID string    `json:"customer_id"`
	EventID    string    `json:"event_id"`
	Subject    string    `json:"subject"`
	WrittenAt  time.Time `json:"written_at"`
	Bytes      int       `json:"bytes"`
}

// OpsPartitions is the state of every command partition's consumer.
type OpsPartitions struct {
	Stream     string `json:"stream"`
	Partitions int    `json:"partitions"`
	// Ownership is "leases" (each partition worked by its lease holder)
	// or "static" (PARTITION_OWNERSHIP=all: every replica works all).
	Ownership string         `json:"ownership"`
	Consumers []OpsPartition `json:"consumers"`
}

// OpsPartition is one partition's durable consumer and lease.
type OpsPartition struct {
	Partition int    `json:"partition"`
	Consumer  string `json:"consumer"`
	FirstSlot int    `json:"first_slot"`
	LastSlot  int    `json:"last_slot"`
	// Pending: stored commands not delivered yet; Unacked: delivered and
	// not acknowledged (in flight); Redelivered: of those, delivered more
	// than once; Waiting: pull requests waiting (0: nobody consumes).
	Pending     uint64 `json:"pending"`
	Unacked     int    `json:"unacked"`
	Redelivered int    `json:"redelivered"`
	Waiting     int    `json:"waiting"`
	AckFloor    uint64 `json:"ack_floor"`
	// LeaseHolder is the replica holding the partition's lease ("" when
	// nobody does, or without leases), with the lease's fence and since
	// when it is held.
	LeaseHolder string     `json:"lease_holder,omitempty"`
	LeaseFence  uint64     `json:"lease_fence,omitempty"`
	LeaseSince  *time.Time `json:"lease_since,omitempty"`
	// Error says why the consumer could not be read.
	Error string `json:"error,omitempty"`
}

// OpsClock is the simulated clock (simulation mode only).
type OpsClock struct {
	// Now is the simulated time; zero when no clock move set it yet.
	Now time.Time `json:"now"`
	Set bool      `json:"set"`
}

// DeadLetterListRequest pages through the dead letters in stream order:
// those with a sequence above After, at most Limit (default 50, at most
// 500), only code Code when given.
type DeadLetterListRequest struct {
	After uint64 `json:"after,omitempty"`
	Limit int    `json:"limit,omitempty"`
	Code  string `json:"code,omitempty"`
}

// DeadLetterList is a page of dead letters; Next is the After of the next
// page (0: this was the last).
type DeadLetterList struct {
	DeadLetters []DeadLetterSummary `json:"dead_letters"`
	Next        uint64              `json:"next,omitempty"`
}

// Command statuses of a dead letter's command, as the customer's Redis
// records say now.
const (
	// DeadCommandApplied: the command is in the inbox (a replay applied it).
	DeadCommandApplied = "applied"
	// DeadCommandSetAside: the processor gave up on it (internal_error)
	// and it was not replayed since.
	DeadCommandSetAside = "set_aside"
	// DeadCommandNotApplied: neither (a decode failure, or a replay not
	// applied yet).
	DeadCommandNotApplied = "not_applied"
)

// DeadLetterSummary is one dead letter: where it came from and why.
type DeadLetterSummary struct {
	Seq uint64 `json:"seq"`
	// StoredAt is when it was dead-lettered; CommandStoredAt when its
	// command was stored in the command stream (its effective time).
	StoredAt        time.Time `json:"stored_at"`
	CommandStoredAt time.Time `json:"command_stored_at,omitzero"`
	Code            string    `json:"code"`
	Reason          string    `json:"reason"`
	OriginalSubject string    `json:"original_subject"`
	PartnerID       string    `json:"partner_id,omitempty"`
	Role            string    `json:"role,omitempty"`
	CustomerID      string    `json:"customer_id,omitempty"`
	CommandType     string    `json:"command_type,omitempty"`
	// CommandID is set when the body decodes as a command.
	CommandID string `json:"command_id,omitempty"`
	Attempts  int    `json:"attempts,omitempty"`
	// CommandStatus: DeadCommandApplied, DeadCommandSetAside or
	// DeadCommandNotApplied; empty without a command ID.
	CommandStatus string `json:"command_status,omitempty"`
}

// DeadLetterRequest names a dead letter by its stream sequence.
type DeadLetterRequest struct {
	Seq uint64 `json:"seq"`
}

// DeadLetterDetail is one dead letter whole.
type DeadLetterDetail struct {
	DeadLetterSummary
	Headers map[string][]string `json:"headers"`
	// Body is the stored body when it is UTF-8, else BodyBase64.
	Body       string `json:"body,omitempty"`
	BodyBase64 string `json:"body_base64,omitempty"`
	// Replayable says whether replay would publish it; NotReplayable why
	// not.
	Replayable    bool   `json:"replayable"`
	NotReplayable string `json:"not_replayable,omitempty"`
}

// Outcomes of a replay.
const (
	// ReplayPublished: the command stream stored the replay; it is applied
	// once, in its customer's order.
	ReplayPublished = "published"
	// ReplayAlreadyApplied: the command is in its customer's inbox;
	// nothing was published.
	ReplayAlreadyApplied = "already_applied"
	// ReplayDuplicate: JetStream dropped the replay as a duplicate of an
	// earlier replay within its duplicate window; that one is applied.
	ReplayDuplicate = "duplicate"
)

// DeadLetterReplay says what a replay did.
type DeadLetterReplay struct {
	Seq uint64 `json:"seq"`
	// Subject and MsgID are what the command was (or would be) published
	// with: its original csp.cmd subject and Nats-Msg-Id.
	Subject    string `json:"subject"`
	MsgID      string `json:"msg_id"`
	CustomerID string `json:"customer_id"`
	CommandID  string `json:"command_id"`
	Outcome    string `json:"outcome"`
	// StreamSeq is the replay's sequence in the command stream
	// (published).
	StreamSeq uint64 `json:"stream_seq,omitempty"`
}

// DeadLetterPurgeRequest removes dead letters: the one with sequence Seq,
// or every one stored before OlderThan (RFC 3339). Confirm must be true;
// without it nothing is removed and the error says what would be.
type DeadLetterPurgeRequest struct {
	Seq       uint64 `json:"seq,omitempty"`
	OlderThan string `json:"older_than,omitempty"`
	Confirm   bool   `json:"confirm"`
}

// DeadLetterPurge says what was removed.
type DeadLetterPurge struct {
	Purged uint64 `json:"purged"`
	// Below: every dead letter with a lower sequence was removed (a purge
	// by time).
	Below uint64 `json:"below,omitempty"`
}
