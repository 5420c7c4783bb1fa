package rules

import (
	"sort"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// Window notices (CAN-1, CAN-3, CAN-4, CAN-5, QTY-2): a partner is told,
// the catalog policy's lead before a refund window closes, that it is
// closing, and when it closes, that it closed. The windows are a
// subscription's cancellation window (CAN-1; CAN-3 for marketplace; CAN-4
// for software, counted from the purchase only; CAN-5's full-refund days
// for an Azure reservation, after which a cancellation pays the early
// termination fee) and each QTY-2 lot's reduction window. Windows closing
// at the same instant share one pair of timers, so a purchase or renewal
// (whose first lot closes with the cancellation window) plans two timers
// and every mid-term increase or trial conversion into it two more.
const (
	TimerWindowClosing = "refund_window_closing"
	TimerWindowClosed  = "refund_window_closed"
)

// planWindowNotices sets the notice timers of every open refund window of
// s that has none yet. It is called when a window opens (purchase,
// renewal, an increase or a trial conversion adding a lot); a timer already set is kept as is,
// so calling it again plans nothing twice. A closing notice whose instant
// has passed already (a window shorter than the lead) is not planned.
func (d *decision) planWindowNotices(s *Subscription) {
	now := d.in.Now
	lead := d.in.Catalog.Policy.RefundWindowNoticeLead()
	for _, closes := range windowCloseInstants(s, now) {
		if lead > 0 && closes.Add(-lead).After(now) {
			d.newNoticeTimer(TimerWindowClosing, s, closes.Add(-lead), closes)
		}
		d.newNoticeTimer(TimerWindowClosed, s, closes, closes)
	}
}

func (d *decision) newNoticeTimer(kind string, s *Subscription, due, closes time.Time) {
	id := timerID(kind, s.ID, due)
	if _, ok := d.state.Timers[id]; ok {
		return
	}
	d.setTimer(&Timer{ID: id, Kind: kind, SubscriptionID: s.ID, PartnerID: s.PartnerID, DueAt: due, ClosesAt: &closes})
}

// windowCloseInstants are the distinct instants after now at which a
// refund window of s closes, earliest first.
func windowCloseInstants(s *Subscription, now time.Time) []time.Time {
	seen := map[int64]bool{}
	var out []time.Time
	add := func(t time.Time) {
		if t.After(now) && !seen[t.UnixNano()] {
			seen[t.UnixNano()] = true
			out = append(out, t)
		}
	}
	if rule, closes := cancelWindow(s); rule != "" {
		add(closes)
	}
	if lotsNoticed(s) {
		for _, l := range normalizedLots(s) {
			if l.Quantity > 0 {
				add(l.ReducibleUntil)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// cancelWindow is the rule of s's refund cancellation window and the
// instant it closes (exclusive), or "" when s has none a notice could
// name: usage-based subscriptions cancel at any time, a trial cannot be
// cancelled (TRI-3), software with a cancel exception never can (CAN-4).
// A reservation can always be cancelled; its window is the full-refund
// days, after which CAN-5's fee applies.
func cancelWindow(s *Subscription) (rule string, closes time.Time) {
	switch {
	case s.Reservation != nil:
		return messages.WindowReservationFullRefund, s.Reservation.fullRefundUntil()
	case s.Software != nil && s.Software.CancelException == "":
		return messages.WindowSoftwareCancel, s.Software.CancellableUntil
	case s.Software != nil, s.Trial, s.BillingType == "usage":
		return "", time.Time{}
	case isMarketplace(s):
		return messages.WindowMarketplaceCancel, s.CancellableUntil
	}
	return messages.WindowCancel, s.CancellableUntil
}

// lotsNoticed tells whether s's lots have QTY-2 windows a notice names:
// those of a subscription whose count a partner may reduce at all.
func lotsNoticed(s *Subscription) bool {
	return s.Reservation == nil && s.Software == nil && quantityLocked(s) == ""
}

// windowNoticeDue emits the notices of a window notice timer: one per
// window of s that closes at the timer's instant and still exists (a
// cancelled or expired subscription has no timers left; a lot reduced to
// nothing, or merged away, is not named). A timer whose windows are all
// gone emits nothing.
func (d *decision) windowNoticeDue(s *Subscription, t *Timer) {
	if t.ClosesAt == nil {
		return
	}
	closes := *t.ClosesAt
	typ := messages.EvtRefundWindowClosing
	if t.Kind == TimerWindowClosed {
		typ = messages.EvtRefundWindowClosed
	}
	if rule, until := cancelWindow(s); rule != "" && until.Equal(closes) {
		n := &messages.RefundWindowNoticeEvent{SubscriptionID: s.ID, Window: rule, ClosesAt: closes, Quantity: s.Quantity}
		if s.Software != nil {
			n.OrderID = s.OrderID // software is cancelled per order (CAN-4)
		}
		d.emit(typ, n)
	}
	if !lotsNoticed(s) {
		return
	}
	// Lots added at the same instant are one lot to the partner: a
	// renewal's lot and an increase parked during the renewal (REN-4)
	// that applies when it completes.
	var added []time.Time
	qty := map[int64]int{}
	for _, l := range normalizedLots(s) {
		if l.Quantity <= 0 || !l.ReducibleUntil.Equal(closes) {
			continue
		}
		k := l.AddedAt.UnixNano()
		if _, ok := qty[k]; !ok {
			added = append(added, l.AddedAt)
		}
		qty[k] += l.Quantity
	}
	for _, at := range added {
		d.emit(typ, &messages.RefundWindowNoticeEvent{SubscriptionID: s.ID, Window: messages.WindowLotReduction,
			ClosesAt: closes, Quantity: qty[at.UnixNano()], LotAddedAt: &at})
	}
}
