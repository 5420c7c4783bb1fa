package rules

import (
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// Retention: when a closed entity may leave the customer's hot state.
//
// Every command decodes the whole state hash, so closed history there
// costs every later command. An entity leaves (is archived, archive.go)
// once nothing can act on it any more: it is closed and its horizon, the
// end of the longest window that can still refer to it, has passed. The
// horizons, all taken from the entity and the catalog's policy:
//
//   - Subscription (cancelled or expired; closed at CancelledAt or
//     ExpiredAt): the latest of
//   - its close;
//   - its cancellation window, CancellableUntil (CAN-1; a marketplace
//     subscription's CAN-3 window and a reservation's CAN-5 window
//     are kept in the same field);
//   - a software subscription's window, Software.CancellableUntil
//     (CAN-4, the policy's software cancel window from purchase, 60
//     days): software.cancel names the order, and the order's answer
//     reads its software;
//   - a legacy subscription's close + the policy's longest data
//     retention, LegacyDataRetentionMaxDays (SUS-2, 120 days);
//   - a reservation's close + RefundCapWindowDays (the 365-day refund
//     cap window). The cap itself reads the refunds ledger, never the
//     subscription; the horizon keeps the reservation visible to the
//     rules for as long as its refunds count;
//   - the due time of every live timer that names it.
//     Not archived while: it is a trial (TRI-1: one trial per offer per
//     customer, ever, is answered from the trial subscriptions, so they
//     stay; there is at most one per trial offer); a live subscription
//     names it as its base (ORD-9, SUS-5) or as the target of a trial
//     conversion (TRI-6), unless that one leaves in the same sweep; a
//     parked command names it (REN-4); an open transfer names it (TRF-3);
//     it is software of an order still live (software.cancel reads the
//     order's software subscriptions, so they leave with the order).
//   - Order: every line is final (fulfilled or rejected, which every line
//     is once the order is processed), its software subscriptions are
//     closed, and the policy's software cancel window from its placement
//     has passed (CAN-4: software.cancel names an order ID).
//   - Transfer (completed, failed, rejected, expired or withdrawn; closed at
//     its last status time): the close + the policy's transfer request
//     expiry (TRF-3, 30 days), the longest a transfer's answers refer to
//     it.
//
// A closed entity not yet past its horizon has an archive timer due at
// the horizon (TimerArchive), so a customer who sends nothing still sheds
// its history; the sweep in Decide also archives whatever it finds past
// its horizon, which migrates state written before entities left.

// TimerArchive fires at an entity's archive horizon. It changes nothing
// itself: the sweep that runs in every decision archives what is due.
const TimerArchive = "archive"

// subscriptionHorizon is when a closed subscription may leave; ok is false
// while it is open or must stay (a trial).
func subscriptionHorizon(s *Subscription, pol catalog.Policy) (time.Time, bool) {
	if s.Status != StatusCancelled && s.Status != StatusExpired || s.Trial {
		return time.Time{}, false
	}
	closed := closedAt(s)
	h := later(closed, s.CancellableUntil)
	if s.Software != nil {
		h = later(h, s.Software.CancellableUntil)
	}
	if isLegacy(s) {
		h = later(h, closed.AddDate(0, 0, pol.LegacyDataRetentionMaxDays))
	}
	if s.Reservation != nil {
		h = later(h, closed.AddDate(0, 0, pol.Reservations.RefundCapWindowDays))
	}
	return h, true
}

// orderHorizon is when an order may leave: its lines are final and the
// software cancel window from its placement is over. Whether its software
// subscriptions are closed is the sweep's (it needs the state).
func orderHorizon(o *Order, pol catalog.Policy) (time.Time, bool) {
	for _, l := range o.Lines {
		if l.Status != messages.LineFulfilled && l.Status != messages.LineRejected {
			return time.Time{}, false
		}
	}
	return o.PlacedAt.AddDate(0, 0, pol.Software.CancelWindowDays), true
}

// transferHorizon is when a finished transfer may leave.
func transferHorizon(t *Transfer, pol catalog.Policy) (time.Time, bool) {
	closed, ok := transferClosedAt(t)
	if !ok {
		return time.Time{}, false
	}
	return closed.Add(time.Duration(pol.TransferRequestExpiryDays) * 24 * time.Hour), true
}

// transferClosedAt is when a transfer reached its final status; ok is
// false while it is requested.
func transferClosedAt(t *Transfer) (time.Time, bool) {
	switch t.Status {
	case messages.TransferCompleted, messages.TransferFailed, messages.TransferRejected, messages.TransferExpired, messages.TransferWithdrawn:
	default:
		return time.Time{}, false
	}
	for _, at := range []*time.Time{t.CompletedAt, t.RejectedAt, t.ExpiredAt, t.WithdrawnAt, t.SubmittedAt} {
		if at != nil {
			return *at, true
		}
	}
	return t.RequestedAt, true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
