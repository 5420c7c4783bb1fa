package model

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
)

// Kind is charge or credit.
type Kind string

const (
	Charge Kind = "charge"
	Credit Kind = "credit"
)

// Billing reasons as they appear on the wire (messages/README.md). The
// model spells them out itself rather than importing the processor's
// constants: a renamed reason is a contract change the check must see.
const (
	ReasonPurchase     = "purchase"
	ReasonCancellation = "cancellation"
	ReasonRenewal      = "renewal"
	ReasonPeriod       = "billing_period"
	ReasonIncrease     = "quantity_increase"
	ReasonDecrease     = "quantity_decrease"
	ReasonUpgrade      = "upgrade"
	ReasonConversion   = "trial_conversion"
	ReasonTransfer     = "transfer"
)

// Rejection codes the generator provokes on purpose.
const (
	RejectCancelWindowClosed   = "cancellation_window_closed"
	RejectQuantityNotReducible = "quantity_not_reducible"
)

// Bill is one billing event the model expects.
type Bill struct {
	Kind     Kind
	Reason   string
	Sub      *Sub
	Currency string
	Amount   int64
	// PeriodStart is the billing period's first day; timer-caused bills
	// are matched on it.
	PeriodStart time.Time
	// Cause says what made the bill, for the mismatch report.
	Cause string
	// Rule is the rule the amount comes from, as the processor's billing
	// event names it (its Rule field): a different rule is a mismatch.
	Rule string
	// Also are the other money rules the amount shows (see rules.go):
	// GEN-2 and GEN-3 for every prorated amount, SUS-3 for a billing
	// period charged while suspended.
	Also []string
}

// Outcome is the model's prediction for one command.
type Outcome struct {
	// Rejected is the expected rejection code, empty when the command
	// must be accepted.
	Rejected string
	Bills    []Bill
	// Free is the rule that makes an accepted command bill nothing (ORD-10
	// for a trial), counted when the processor bills nothing either.
	Free string
	// RejectData are facts the rejection must state (its data), e.g. the
	// refund cap's headroom (CAN-5); nil: not checked.
	RejectData map[string]string
	// Deferred: the command lands inside a pending renewal and is parked
	// (REN-4, renewal.go): its first event is command.deferred, and Parked
	// says what it does when the renewal completes.
	Deferred bool
	Parked   *Parked
}

// Status of a subscription.
type Status string

const (
	Active    Status = "active"
	Suspended Status = "suspended"
	Cancelled Status = "cancelled"
	Expired   Status = "expired"
)

// Customer is one customer as the billing system sees it.
type Customer struct {
	ID, Partner, Country, Currency string
	Created                        bool
	Subs                           []*Sub
	// TrialsTaken are trial offers already bought (one each).
	TrialsTaken map[string]bool
	// Refunds are the reservation refunds paid out, for the cap (CAN-5,
	// reservations.go).
	Refunds []Refund
	// settled are parked commands settled by the calendar and not yet
	// handed to the runner (renewal.go).
	settled []*Parked
	// FirstBillingGap is how many days after the account opens its first
	// billing comes (customer.created's first_billing_date; 0: not
	// stated). It lengthens a legacy suspension's data retention (SUS-2).
	FirstBillingGap int
	// Asks and Requests are the relationship requests (by partner) and
	// transfers (by ID) of the customer (transfers.go).
	Asks     map[string]*Ask
	Requests map[string]*TransferReq
	// TestClock is the test clock the customer lives on (customer.created's
	// test_clock_id; empty: the global simulated clock). The model keeps
	// no clock: the runner hands it the customer's own time.
	TestClock string
	// Fired counts the timers the calendar fired for the customer
	// (AdvanceTo): a customer whose count did not move has the
	// subscriptions, lots and windows it had before.
	Fired int64
}

// Sub is one subscription in the model.
type Sub struct {
	// ID is the processor's subscription ID, learned from its
	// subscription.created event.
	ID string
	// Customer is the customer's ID.
	Customer string
	// Partner is the partner of record, which sends its commands; a
	// transfer moves the subscription to another (TRF-1).
	Partner         string
	OrderID, LineID string
	Offer           string
	Term, Freq      string
	Currency        string
	Qty             int
	Unit            int64
	Status          Status
	AutoRenew       bool
	Trial           bool
	WindowHours     int
	TermStart       time.Time // date
	TermEnd         time.Time // date, included (GEN-4)
	CancelUntil     time.Time // the cancellation window's end, exclusive (CAN-1)
	PeriodStart     time.Time // date
	PeriodEnd       time.Time // date, included
	// book is the current billing period's licence-day ledger
	// (daybook.go): its lots, what each paid for, their windows.
	book *book
	// RenewingUntil is when a pending renewal completes (zero: none).
	RenewingUntil time.Time
	// Scheduled are the changes stored for the next renewal (SCH-1,
	// schedule.go); nil: none.
	Scheduled *Schedule
	// scheduleDropped: SCH-3 deleted scheduled changes during this term.
	scheduleDropped bool
	// Conversion is a trial's conversion scheduled for its end (TRI-6,
	// trials.go); nil: the default one (TRI-1).
	Conversion *Conversion
	// Res is set on an Azure reservation (reservations.go).
	Res *Reservation
	// parked are the commands waiting for the pending renewal, in
	// arrival order (REN-4, renewal.go).
	parked []*Parked
	// Ext is what a subscription of another commerce type than new
	// commerce, an add-on or a base carrying add-ons holds besides
	// (types.go); nil for a plain new-commerce subscription.
	Ext *Ext
	// cust is the customer holding it, whose licences ORD-7 and ORD-8
	// count when base licences are removed (addon_follow.go).
	cust *Customer
}

// hold adds a new subscription to the customer's.
func (c *Customer) hold(s *Sub) {
	s.cust = c
	c.Subs = append(c.Subs, s)
}

// Model holds the catalog's data the money rules read.
type Model struct {
	cat *catalog.Catalog
}

// New returns a model over a catalog.
func New(cat *catalog.Catalog) *Model { return &Model{cat: cat} }

// Price is the catalog's price of one license for one billing period.
func (m *Model) Price(offer, term, freq, currency string) (int64, bool) {
	o, ok := m.cat.Offer(offer)
	if !ok {
		return 0, false
	}
	p, ok := o.Plan(term, freq)
	if !ok {
		return 0, false
	}
	v, ok := p.Prices[currency]
	return v, ok
}

func (m *Model) windowHours(offer string) int {
	if o, ok := m.cat.Offer(offer); ok {
		return o.CancelWindowHours
	}
	return 0
}

func (s *Sub) String() string {
	if s.ID != "" {
		return s.ID
	}
	return fmt.Sprintf("order %s line %s", s.OrderID, s.LineID)
}

// termEndsAt is 00:00 UTC the day after the end date (GEN-4, REN-2).
func (s *Sub) termEndsAt() time.Time { return s.TermEnd.AddDate(0, 0, 1) }

// Live is active or suspended.
func (s *Sub) Live() bool { return s.Status == Active || s.Status == Suspended }

// Changeable tells whether the generator may send a quantity change,
// suspend, upgrade or cancel for s at now: live, known to the generator, not
// a trial, not an Azure reservation (its commands are its own,
// reservations.go), and inside its term or its pending renewal. A command
// inside a pending renewal is parked or rejected (REN-4): every model
// function of a command on a changeable subscription must predict that
// (renewal.go, conflicting and readOnly).
func (s *Sub) Changeable(now time.Time) bool {
	return s.Live() && s.ID != "" && !s.Trial && s.Res == nil && (now.Before(s.termEndsAt()) || s.Renewing())
}

// InWindow tells whether a cancellation at now is inside the window.
func (s *Sub) InWindow(now time.Time) bool { return now.Before(s.CancelUntil) }

// Reducible is how many licenses can be removed at now (QTY-2).
func (s *Sub) Reducible(now time.Time) int {
	if s.book == nil {
		return 0
	}
	return s.book.reducible(now)
}

func bill(kind Kind, reason, rule string, s *Sub, amount int64, cause string) Bill {
	return Bill{Kind: kind, Reason: reason, Rule: rule, Sub: s, Currency: s.Currency, Amount: amount, PeriodStart: s.PeriodStart, Cause: cause}
}

// prorated is a bill for part of a billing period's days: it also shows
// GEN-2 (which days count as used) and GEN-3 (one rounding).
func prorated(b Bill) Bill {
	b.Also = append(b.Also, RuleUsedDays, RuleRounding)
	return b
}
