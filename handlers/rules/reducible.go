package rules

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// reducibleLots counts the licenses in lots whose window is still open at
// now (QTY-2) and returns those lots newest first, the order a decrease
// takes them in.
func reducibleLots(lots []Lot, now time.Time) (int, []Lot) {
	total := 0
	var open []Lot
	for i := len(lots) - 1; i >= 0; i-- {
		if lots[i].Quantity > 0 && lots[i].ReducibleUntil.After(now) {
			total += lots[i].Quantity
			open = append(open, lots[i])
		}
	}
	return total, open
}

// ReducibleQuantity is QTY-3's view of a subscription at now: how many
// licenses a subscription.quantity.change could remove at that instant, and
// per lot how many until when (newest first). It agrees with what the
// command accepts: a subscription whose count cannot change now (final,
// usage-based, trial, suspended, renewing) shows nothing reducible and a
// Message saying why, as does one whose licenses are all older than their
// window (Partner Center: "if the license count can't be reduced, a message
// appears"). Two limits are not applied here and are checked by the
// command: the offer's minimum quantity (removing every license is a
// cancellation) and the policy's update limit (QTY-4), both catalog data
// this view does not take.
func ReducibleQuantity(s *Subscription, now time.Time) messages.ReducibleQuantity {
	now = now.UTC()
	v := messages.ReducibleQuantity{SubscriptionID: s.ID, Quantity: s.Quantity, AsOf: now, Lots: []messages.LotView{}}
	if msg := quantityLocked(s); msg != "" {
		v.Message = msg
		return v
	}
	total, open := reducibleLots(normalizedLots(s), now)
	v.Total = total
	for _, l := range open {
		v.Lots = append(v.Lots, lotView(l))
	}
	if total == 0 {
		v.Message = fmt.Sprintf("No licenses of subscription %s can be reduced now: licenses can be reduced only within %d hours of being added, at purchase, at renewal or mid-term (QTY-2).",
			s.ID, s.CancelWindowHours)
		if s.AutoRenew {
			v.Message += fmt.Sprintf(" The next chance is the window of the renewal that starts on %s at 00:00 UTC.", formatDate(s.termEndsAt()))
		} else {
			v.Message += fmt.Sprintf(" Auto-renew is off: the term ends on %s.", formatDate(s.TermEnd))
		}
	}
	return v
}

// quantityLocked says why a subscription's license count cannot change at
// all right now, or "" when it can.
func quantityLocked(s *Subscription) string {
	switch {
	case s.Status == StatusCancelled:
		return fmt.Sprintf("Subscription %s was cancelled; cancellation is final (CAN-2).", s.ID)
	case s.Status == StatusExpired:
		return fmt.Sprintf("Subscription %s expired at the end of its term on %s.", s.ID, formatDate(s.TermEnd))
	case s.BillingType == "usage":
		return fmt.Sprintf("Subscription %s is usage-based and has no licenses (ORD-6).", s.ID)
	case s.Trial:
		return fmt.Sprintf("Subscription %s is a trial; its license count cannot change until it is converted (TRI-3).", s.ID)
	case s.Status == StatusSuspended:
		return fmt.Sprintf("Subscription %s is suspended; reactivate it before changing its license count.", s.ID)
	case s.RenewalPendingSince != nil:
		return fmt.Sprintf("Subscription %s is renewing since %s; when the renewal completes, every license can be reduced for %d hours (REN-4).",
			s.ID, s.RenewalPendingSince.UTC().Format(time.RFC3339), s.CancelWindowHours)
	}
	return ""
}

// QueryReducibleQuantity answers QTY-3's query for the acting partner:
// PTN-1 first, with the same answers as a command gets (no_relationship for
// an unknown customer and another partner's alike, subscription_not_found,
// not_partner_of_record), then the view at now. It reads the state and
// changes nothing.
func QueryReducibleQuantity(st CustomerState, partnerID, customerID, subscriptionID string, now time.Time) (*messages.ReducibleQuantity, *messages.Rejection) {
	d := decision{in: Input{PartnerID: partnerID, Command: messages.Command{CustomerID: customerID}, Now: now.UTC()}, state: st}
	s, ok := d.subscriptionOfPartner(subscriptionID)
	if !ok {
		return nil, d.rejected
	}
	v := ReducibleQuantity(s, now)
	return &v, nil
}
