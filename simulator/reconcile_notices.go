package simulator

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/model"
)

// noticeBook is what the runner keeps between steps to check refund window
// notices: the previous step's instant and the windows whose closed
// notice came (a closing notice after it is out of order).
type noticeBook struct {
	last   time.Time
	closed map[string]time.Time // window key -> closes
	// Checked counts the notices compared with the model, Closing and
	// Closed split them.
	Checked, Closing, Closed int64
}

// noticeWindows snapshots, before the step's calendar and commands, the
// model's refund windows whose notices fall in this step: a closed notice
// since the previous step, a closing one up to the lead before. They are
// the windows as the processor saw them when the timers fired (the step's
// commands come after the timers due by then).
func (r *Runner) noticeWindows(customers []*model.Customer, now time.Time) map[string][]model.RefundWindow {
	from := r.notices.last
	r.notices.last = now
	out := map[string][]model.RefundWindow{}
	for _, c := range customers {
		if !c.Created || r.diverged[c.ID] {
			continue
		}
		// A customer on a test clock lives a step behind (timeOf): its
		// notices of this step came when its clock last moved, on its time.
		cfrom, cto := r.timeOf(c, from), r.timeOf(c, now).Add(r.Model.NoticeLead())
		for _, s := range c.Subs {
			if s.ID == "" {
				continue
			}
			if ws := s.RefundWindows(cfrom, cto); len(ws) > 0 {
				out[s.ID] = ws
			}
		}
	}
	return out
}

// reconcileNotices checks every notice received in the step against the
// model's own lots and cancellation windows (a different derivation than
// the processor's timers): it is due at its window's end (closed) or the
// policy's lead before (closing), names a window the model has, with the
// licences the model counts in it, and no closing notice follows its
// window's closed one.
func (r *Runner) reconcileNotices(windows map[string][]model.RefundWindow, now time.Time) {
	lead := r.Model.NoticeLead()
	if r.notices.closed == nil {
		r.notices.closed = map[string]time.Time{}
	}
	for _, n := range r.Ledger.takeNotices() {
		if r.diverged[n.CustomerID] {
			continue
		}
		d := n.Data
		kind := "closing"
		due := d.ClosesAt.Add(-lead)
		if n.Closed {
			kind, due = "closed", d.ClosesAt
		}
		lot := d.Window == messages.WindowLotReduction
		key := fmt.Sprintf("%s/%s/%d", d.SubscriptionID, d.Window, d.ClosesAt.UnixNano())
		if d.LotAddedAt != nil {
			key += fmt.Sprintf("/%d", d.LotAddedAt.UnixNano())
		}
		if !n.At.Equal(due) {
			r.mismatchID(n.CustomerID, "%s notice %s of %s window %s at %s, due at %s", kind, n.EventID, d.Window, key, n.At, due)
			continue
		}
		var w *model.RefundWindow
		for i, cand := range windows[d.SubscriptionID] {
			if cand.Lot == lot && cand.Closes.Equal(d.ClosesAt) && (!lot || d.LotAddedAt != nil && cand.Added.Equal(*d.LotAddedAt)) {
				w = &windows[d.SubscriptionID][i]
				break
			}
		}
		switch {
		case w == nil:
			r.mismatchID(n.CustomerID, "%s notice %s names %s window %s, which the model does not have", kind, n.EventID, d.Window, key)
			continue
		case w.Quantity != d.Quantity:
			r.mismatchID(n.CustomerID, "%s notice %s of %s window %s names %d licences, the model counts %d", kind, n.EventID, d.Window, key, d.Quantity, w.Quantity)
			continue
		}
		if n.Closed {
			r.notices.closed[key] = d.ClosesAt
			r.notices.Closed++
		} else {
			if _, after := r.notices.closed[key]; after {
				r.mismatchID(n.CustomerID, "closing notice %s of %s window %s came after its closed notice", n.EventID, d.Window, key)
				continue
			}
			r.notices.Closing++
		}
		r.notices.Checked++
	}
	for k, closes := range r.notices.closed { // no closing notice can follow any more
		if closes.Before(now.Add(-lead)) {
			delete(r.notices.closed, k)
		}
	}
}

// NoticesChecked is how many refund window notices were checked against
// the model, and of them closing and closed.
func (r *Runner) NoticesChecked() (all, closing, closed int64) {
	return r.notices.Checked, r.notices.Closing, r.notices.Closed
}
