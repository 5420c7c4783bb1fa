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
}

// Outcome is the model's prediction for one command.
type Outcome struct {
	// Rejected is the expected rejection code, empty when the command
	// must be accepted.
	Rejected string
	Bills    []Bill
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
	Began           time.Time // the instant the current period began to be used
	Lots            []Lot
	// RenewingUntil is when a pending renewal completes (zero: none).
	RenewingUntil time.Time
}

// Lot is licenses bought together (QTY-2).
type Lot struct {
	N              int
	AddedAt        time.Time
	ReducibleUntil time.Time
	// Bought marks licenses bought during a billing period (an increase,
	// a transfer's target), charged only for the days from their purchase
	// on; the others came with the period and were charged for all of it.
	Bought bool
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

func (s *Sub) periodDays() int64 { return dayCount(s.PeriodStart, s.PeriodEnd.AddDate(0, 0, 1)) }

// Live is active or suspended.
func (s *Sub) Live() bool { return s.Status == Active || s.Status == Suspended }

// Changeable tells whether the generator may send a quantity change,
// suspend, upgrade or cancel for s at now: live, known to the generator, not
// a trial and not inside a pending renewal (REN-4 conflicts are not
// modelled).
func (s *Sub) Changeable(now time.Time) bool {
	return s.Live() && s.ID != "" && !s.Trial && (s.RenewingUntil.IsZero() || !now.Before(s.RenewingUntil)) &&
		now.Before(s.termEndsAt())
}

// InWindow tells whether a cancellation at now is inside the window.
func (s *Sub) InWindow(now time.Time) bool { return now.Before(s.CancelUntil) }

// Reducible is how many licenses can be removed at now (QTY-2).
func (s *Sub) Reducible(now time.Time) int {
	n := 0
	for _, l := range s.Lots {
		if now.Before(l.ReducibleUntil) {
			n += l.N
		}
	}
	return n
}

// usedBefore is how many days of the current period count as used before
// licenses bought at instant at (QTY-1, TRF-3): none at 00:00 UTC of the
// period's first day, when nothing of it has elapsed; otherwise every
// started day since the period began to be used, at least 1 (GEN-2) — so
// licenses bought at the purchase or renewal instant itself (later than
// 00:00) are not charged for that day, which has started.
func (s *Sub) usedBefore(at time.Time) int64 {
	if !at.After(s.PeriodStart) {
		return 0
	}
	return min(startedDays(at.Sub(s.Began)), s.periodDays())
}

// lotUnused is the days of the current period a lot's licenses were paid
// for and will not use when they go at now: a lot bought during the
// period (Bought) was not charged for the days before it, a lot that came
// with the period was charged for all of them; the days it was held
// (every started one) are used.
func (s *Sub) lotUnused(l Lot, now time.Time) int64 {
	p := s.periodDays()
	from := l.AddedAt
	if s.Began.After(from) {
		from = s.Began
	}
	var before int64
	if l.Bought {
		before = s.usedBefore(l.AddedAt)
	}
	used := min(before+startedDays(now.Sub(from)), p)
	return p - used
}

func bill(kind Kind, reason string, s *Sub, amount int64, cause string) Bill {
	return Bill{Kind: kind, Reason: reason, Sub: s, Currency: s.Currency, Amount: amount, PeriodStart: s.PeriodStart, Cause: cause}
}
