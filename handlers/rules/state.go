package rules

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// Subscription statuses.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
)

// Customer is a customer record, owned by the partner that created it.
type Customer struct {
	ID          string    `json:"id"`
	PartnerID   string    `json:"partner_id"`
	CompanyName string    `json:"company_name"`
	Segment     string    `json:"segment"`
	Country     string    `json:"country"`
	Currency    string    `json:"currency"`
	CreatedAt   time.Time `json:"created_at"`
	// Partners are the other partners with an accepted relationship
	// (TRF-1: a target partner's relationship is requested and accepted by
	// the customer); PartnerID is the partner that created the customer.
	Partners []string `json:"partners,omitempty"`
	// PendingPartners asked for a relationship that the customer has not
	// accepted yet (TRF-1, transfer.go); they have no relationship.
	PendingPartners []string `json:"pending_partners,omitempty"`
	// PendingRequests are when each pending partner asked and when its
	// request expires (TRF-3, relationship.go), by partner. A request
	// stored before requests expired has no entry and does not expire.
	PendingRequests map[string]RelationshipRequest `json:"pending_requests,omitempty"`
	// FirstBillingDate is the date of the customer's first billing, when
	// known (SUS-2: the days from account opening to it lengthen a
	// suspended legacy subscription's data retention).
	FirstBillingDate *time.Time `json:"first_billing_date,omitempty"`
	// TestClockID is the test clock the customer lives on (TCK-2): its
	// commands are decided at that clock's time.
	TestClockID string `json:"test_clock_id,omitempty"`
}

// HasRelationship is PTN-1: whether the partner has an accepted
// relationship with the customer.
func (c *Customer) HasRelationship(partnerID string) bool {
	return c != nil && (c.PartnerID == partnerID || slices.Contains(c.Partners, partnerID))
}

// Subscription is one subscription of a customer.
type Subscription struct {
	ID        string `json:"id"`
	PartnerID string `json:"partner_id"` // partner of record (PTN-1)
	OrderID   string `json:"order_id"`
	LineID    string `json:"line_id"`
	OfferID   string `json:"offer_id"`
	OfferName string `json:"offer_name"`
	// CommerceType and BillingType are copied from the offer at purchase so
	// a later catalog change cannot change the rules an existing
	// subscription lives under.
	CommerceType     string `json:"commerce_type"`
	BillingType      string `json:"billing_type"`
	Quantity         int    `json:"quantity"`
	Term             string `json:"term"`
	BillingFrequency string `json:"billing_frequency"`
	Status           string `json:"status"`
	AutoRenew        bool   `json:"auto_renew"`
	// TermStart and TermEnd are dates; TermEnd is included (GEN-4).
	TermStart time.Time `json:"term_start"`
	TermEnd   time.Time `json:"term_end"`
	// WindowOpenedAt is the instant of purchase or of the last renewal;
	// CancellableUntil = WindowOpenedAt + the offer's window (CAN-1).
	WindowOpenedAt   time.Time `json:"window_opened_at"`
	CancellableUntil time.Time `json:"cancellable_until"`
	Currency         string    `json:"currency"`
	TaxInclusive     bool      `json:"tax_inclusive"`
	// UnitPrice is the price of one license for one billing period.
	UnitPrice int64 `json:"unit_price"`
	// The current billing period: its dates (end included), the instant it
	// started to be used, and what was charged for it.
	PeriodStart     time.Time `json:"period_start"`
	PeriodEnd       time.Time `json:"period_end"`
	PeriodStartedAt time.Time `json:"period_started_at"`
	PeriodCharge    int64     `json:"period_charge"`
	// PeriodIndex counts billing periods from the term start; period k
	// starts on TermStart + k billing months (clamped), so month-end
	// anchors do not drift (GEN-4).
	PeriodIndex int `json:"period_index"`
	// CancelWindowHours is the offer's window at purchase, kept for
	// renewals (CAN-1).
	CancelWindowHours int `json:"cancel_window_hours"`

	SuspendedAt   *time.Time `json:"suspended_at,omitempty"`
	SuspendReason string     `json:"suspend_reason,omitempty"`
	CancelledAt   *time.Time `json:"cancelled_at,omitempty"`
	ExpiredAt     *time.Time `json:"expired_at,omitempty"`

	// Lots are the licenses by when they were added: each lot may be
	// reduced for 168 hours after it was added (QTY-2). Their quantities
	// add up to Quantity.
	Lots []Lot `json:"lots,omitempty"`
	// UpdateCount counts updates against QTY-4's limit.
	UpdateCount int `json:"update_count,omitempty"`
	// Scheduled are the changes to apply at the next renewal (SCH-1).
	Scheduled *ScheduledChange `json:"scheduled,omitempty"`

	// Trial is set on a trial subscription (TRI-1); TrialConversion is a
	// conversion scheduled for the trial's end (TRI-6).
	Trial           bool             `json:"trial,omitempty"`
	TrialConversion *TrialConversion `json:"trial_conversion,omitempty"`

	// BaseSubscriptionID links an add-on to its base (ORD-9, SUS-5);
	// SuspendedWithBase marks an add-on suspended by its base's suspension,
	// so that reactivating the base reactivates only those (SUS-5).
	BaseSubscriptionID string `json:"base_subscription_id,omitempty"`
	SuspendedWithBase  bool   `json:"suspended_with_base,omitempty"`

	// Marketplace, Software and Reservation hold what subscriptions of
	// those commerce types need beyond the common fields (see
	// marketplace.go, software.go, reservation.go). They are replaced, never
	// changed in place: clone copies the pointer.
	Marketplace *MarketplaceState `json:"marketplace,omitempty"`
	Software    *SoftwareState    `json:"software,omitempty"`
	Reservation *ReservationState `json:"reservation,omitempty"`

	// ResellerID is the indirect reseller an indirect provider sold the
	// subscription through (PTN-3), empty for a direct sale;
	// AdditionalResellerIDs are the EU/EFTA additional resellers declared
	// with it (PTN-4). See partners.go.
	ResellerID            string   `json:"reseller_id,omitempty"`
	AdditionalResellerIDs []string `json:"additional_reseller_ids,omitempty"`

	// Renewals counts completed renewals (REN-2).
	Renewals int `json:"renewals,omitempty"`
	// RenewalPendingSince is set while a renewal is being processed: from
	// 00:00 UTC the day after the term end until it completes (REN-2,
	// REN-4).
	RenewalPendingSince *time.Time `json:"renewal_pending_since,omitempty"`
}

// Lot is a number of licenses added at one instant (QTY-2).
type Lot struct {
	Quantity int       `json:"quantity"`
	AddedAt  time.Time `json:"added_at"`
	// ReducibleUntil is AddedAt + the cancellation window, exclusive.
	ReducibleUntil time.Time `json:"reducible_until"`
	// Increase marks licenses added by a quantity increase (QTY-1), charged
	// for the rest of the billing period they were added in. Without it a
	// lot added at the instant its period began came with the period (a
	// purchase or a renewal) and was charged the whole period; a lot stored
	// before the mark existed is read that way too, as it was charged.
	Increase bool `json:"increase,omitempty"`
}

// ScheduledChange is what a renewal applies (SCH-1). Zero fields keep the
// subscription's current value.
type ScheduledChange struct {
	OfferID          string `json:"offer_id,omitempty"`
	Quantity         int    `json:"quantity,omitempty"`
	Term             string `json:"term,omitempty"`
	BillingFrequency string `json:"billing_frequency,omitempty"`
}

// TrialConversion is a conversion scheduled for a trial's end (TRI-6).
type TrialConversion struct {
	TargetOfferID        string `json:"target_offer_id"`
	TargetSubscriptionID string `json:"target_subscription_id,omitempty"`
	Quantity             int    `json:"quantity"`
	Term                 string `json:"term"`
	BillingFrequency     string `json:"billing_frequency"`
}

// clone copies a subscription deeply (its slices and pointers too): a
// decision changes the copy and never the state it was given.
func (s *Subscription) clone() Subscription {
	c := *s
	c.Lots = slices.Clone(s.Lots)
	c.AdditionalResellerIDs = slices.Clone(s.AdditionalResellerIDs)
	if s.Scheduled != nil {
		v := *s.Scheduled
		c.Scheduled = &v
	}
	if s.TrialConversion != nil {
		v := *s.TrialConversion
		c.TrialConversion = &v
	}
	return c
}

// termEndsAt is the instant the term is over: 00:00 UTC the day after the
// end date (GEN-4).
func (s *Subscription) termEndsAt() time.Time { return s.TermEnd.AddDate(0, 0, 1) }

// Order is the record of a placed order and its lines' fulfilment (ORD-1).
type Order struct {
	ID        string `json:"id"`
	CommandID string `json:"command_id"`
	// PartnerID placed the order; order history shows a partner only its
	// own orders (PTN-1, TRF: a partner added later does not see the
	// others'). Empty on orders stored before it was recorded: those are
	// the customer's creating partner's.
	PartnerID string            `json:"partner_id,omitempty"`
	PlacedAt  time.Time         `json:"placed_at"`
	Status    string            `json:"status"`
	Lines     []OrderLineRecord `json:"lines"`
}

// OrderLineRecord is one line's outcome.
type OrderLineRecord struct {
	LineID         string `json:"line_id"`
	OfferID        string `json:"offer_id"`
	Status         string `json:"status"`
	SubscriptionID string `json:"subscription_id,omitempty"`
	Code           string `json:"code,omitempty"`
}

// Timer kinds (guarantee G7, README). A timer fires as a timer.fired command
// whose ID is the timer's ID, through the same ordered, deduplicated path as
// every other command.
const (
	// TimerTermEnd fires at 00:00 UTC the day after a term's end date: the
	// subscription renews, or expires (REN-2, REN-3, SUS-3).
	TimerTermEnd = "term_end"
	// TimerRenewalComplete ends a pending renewal (REN-2, REN-4).
	TimerRenewalComplete = "renewal_complete"
	// TimerBillingPeriod starts the next billing period inside a term
	// (monthly billing of an annual term) and charges it.
	TimerBillingPeriod = "billing_period"
)

// Timer is a durable timer, stored with the customer's state and written in
// the same atomic step as the decision that set it.
type Timer struct {
	ID             string    `json:"id"`
	Kind           string    `json:"kind"`
	SubscriptionID string    `json:"subscription_id"`
	PartnerID      string    `json:"partner_id"`
	DueAt          time.Time `json:"due_at"`
	// Attempt numbers the retries of parked commands (REN-4).
	Attempt int `json:"attempt,omitempty"`
	// ClosesAt is when the refund windows a window notice timer is about
	// close (notices.go): the policy's lead may change before it fires.
	ClosesAt *time.Time `json:"closes_at,omitempty"`
}

// CustomerState is everything stored for one customer: the unit of
// ordering and atomicity.
type CustomerState struct {
	Customer      *Customer
	Subscriptions map[string]*Subscription
	Orders        map[string]*Order
	Timers        map[string]*Timer
	// Parked are commands waiting for a pending renewal, in arrival order
	// (REN-4).
	Parked []ParkedCommand
	// Refunds is the customer's reservation refund ledger by UTC day, the
	// days of the cap's window only (refund_ledger.go).
	Refunds []RefundDay
	// LegacyActivity is the software activity log as earlier versions kept
	// it in the state (field activity, headed by a log_trimmed marker when
	// trimmed). The log now lives outside the state (activity_log.go):
	// Decide moves this one there with its next commit.
	LegacyActivity []ActivityEntry
	// Transfers are the customer's transfers between partners, by
	// transfer ID (TRF-1, transfer.go).
	Transfers map[string]*Transfer
	// Tombstones are the archived entities the command being decided
	// names (Referenced), by field; only those are loaded, so the state a
	// command decodes does not grow with history (archive.go).
	Tombstones map[string]*Tombstone
}

// Entity field names in the stored state.
const (
	fieldCustomer    = "customer"
	fieldSubPrefix   = "sub:"
	fieldOrderPrefix = "order:"
	fieldTimerPrefix = "timer:"
	fieldParked      = "parked"
	fieldRefunds     = "refunds"
	fieldActivity    = "activity"
)

// SubscriptionField and OrderField name the stored entity of a
// subscription or order.
func SubscriptionField(id string) string { return fieldSubPrefix + id }
func OrderField(id string) string        { return fieldOrderPrefix + id }

// fieldTransferPrefix prefixes a transfer's stored entity (TRF-1).
const fieldTransferPrefix = "transfer:"

// TransferField names the stored entity of a transfer (TRF-1).
func TransferField(id string) string { return fieldTransferPrefix + id }

// TimerField names the stored entity of a timer.
func TimerField(id string) string { return fieldTimerPrefix + id }

// DecodeState builds a CustomerState from stored entity fields.
//
// It reads with the JSON v2 decoder, about twice as fast as encoding/json on
// this data, which it reads for every command. The fields are written by
// EncodeFields with encoding/json; TestDecodeStateReadsWhatEncodingJSONWrote
// holds the two to the same result for every field of every entity.
func DecodeState(fields map[string][]byte) (CustomerState, error) {
	return decodeState(fields, func(b []byte, v any) error { return jsonv2.Unmarshal(b, v) })
}

// decodeState is DecodeState with the JSON decoder given.
func decodeState(fields map[string][]byte, unmarshal func([]byte, any) error) (CustomerState, error) {
	st := CustomerState{Subscriptions: map[string]*Subscription{}, Orders: map[string]*Order{}, Timers: map[string]*Timer{}, Transfers: map[string]*Transfer{}}
	for k, v := range fields {
		var err error
		switch {
		case k == fieldCustomer:
			st.Customer = &Customer{}
			err = unmarshal(v, st.Customer)
		case strings.HasPrefix(k, fieldSubPrefix):
			s := &Subscription{}
			err = unmarshal(v, s)
			st.Subscriptions[s.ID] = s
		case strings.HasPrefix(k, fieldOrderPrefix):
			o := &Order{}
			err = unmarshal(v, o)
			st.Orders[o.ID] = o
		case strings.HasPrefix(k, fieldTimerPrefix):
			tm := &Timer{}
			err = unmarshal(v, tm)
			st.Timers[tm.ID] = tm
		case strings.HasPrefix(k, fieldTransferPrefix):
			tr := &Transfer{}
			err = unmarshal(v, tr)
			st.Transfers[tr.ID] = tr
		case k == fieldParked:
			err = unmarshal(v, &st.Parked)
		case k == fieldRefunds:
			st.Refunds, err = decodeRefunds(v, unmarshal)
		case k == fieldActivity:
			err = unmarshal(v, &st.LegacyActivity)
		default:
			err = fmt.Errorf("unknown entity field")
		}
		if err != nil {
			return CustomerState{}, fmt.Errorf("state field %q: %w", k, err)
		}
	}
	return st, nil
}

// EncodeFields encodes the named entities of a state.
func (st CustomerState) EncodeFields(names []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(names))
	for _, k := range names {
		var v any
		switch {
		case k == fieldCustomer:
			v = st.Customer
		case strings.HasPrefix(k, fieldSubPrefix):
			v = st.Subscriptions[strings.TrimPrefix(k, fieldSubPrefix)]
		case strings.HasPrefix(k, fieldOrderPrefix):
			v = st.Orders[strings.TrimPrefix(k, fieldOrderPrefix)]
		case strings.HasPrefix(k, fieldTimerPrefix):
			v = st.Timers[strings.TrimPrefix(k, fieldTimerPrefix)]
		case strings.HasPrefix(k, fieldTransferPrefix):
			v = st.Transfers[strings.TrimPrefix(k, fieldTransferPrefix)]
		case k == fieldParked:
			v = st.Parked
		case k == fieldRefunds:
			v = st.Refunds
		case k == fieldActivity:
			v = st.LegacyActivity
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %q: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}

// clone copies the state deeply enough that a decision never mutates its
// input: entities are replaced, never edited in place.
func (st CustomerState) clone() CustomerState {
	out := CustomerState{Customer: st.Customer, Tombstones: st.Tombstones, // tombstones are never changed in place
		Subscriptions: make(map[string]*Subscription, len(st.Subscriptions)),
		Orders:        make(map[string]*Order, len(st.Orders)),
		Timers:        make(map[string]*Timer, len(st.Timers))}
	for k, v := range st.Subscriptions {
		out.Subscriptions[k] = v
	}
	for k, v := range st.Orders {
		out.Orders[k] = v
	}
	for k, v := range st.Timers {
		out.Timers[k] = v
	}
	out.Transfers = make(map[string]*Transfer, len(st.Transfers))
	for k, v := range st.Transfers {
		out.Transfers[k] = v
	}
	out.Parked = slices.Clone(st.Parked)
	out.Refunds = slices.Clone(st.Refunds)
	out.LegacyActivity = slices.Clone(st.LegacyActivity)
	return out
}

// sortedSubscriptions returns the subscriptions ordered by ID, so that
// decisions never depend on map iteration order.
func (st CustomerState) sortedSubscriptions() []*Subscription {
	out := make([]*Subscription, 0, len(st.Subscriptions))
	for _, s := range st.Subscriptions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
