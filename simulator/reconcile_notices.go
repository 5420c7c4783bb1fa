package simulator

import (
	"fmt"
	"sort"
	"time"

	"github.com/cspreseller/csp-processor/simulator/model"
)

// noticeBook is what the runner keeps between steps to check refund window
// notices: the previous step's instant and the windows whose closed
// notice came (a closing notice after it is out of order).
type noticeBook struct {
	last   time.Time
	closed map[string]time.Time // window key -> closes
	counts NoticeCounts
}

// NoticeCounts are the refund window notices the runner checked against
// the model.
type NoticeCounts struct {
	// Checked counts the notices that agreed with the model, Closing and
	// Closed split them, ByRule by the window's rule; Missing counts the
	// notices the model expected that never came (each a mismatch).
	Checked, Closing, Closed, Missing int64
	ByRule                            map[string]int64
}

// noticeStep is what the model says of one step's notices, taken before
// the step's calendar and commands: the windows whose notices may fall in
// it (by subscription), and the notices that must.
type noticeStep struct {
	from    time.Time // the previous step's instant
	windows map[string][]model.RefundWindow
	due     map[string]dueNotice // notice key -> what must come
}

// dueNotice is a notice the model expects in a step.
type dueNotice struct {
	customer string
	at       time.Time
}

// noticeWindows snapshots, before the step's calendar and commands, the
// model's refund windows whose notices fall in this step: a closed notice
// since the previous step, a closing one up to the lead before. They are
// the windows as the processor saw them when the timers fired (the step's
// commands come after the timers due by then). Of them, the notices due
// in the step before the subscription's term ends (a renewal replaces
// the windows) must come: a closed one at its window's end, a closing one
// the lead before, unless the window opened after that.
func (r *Runner) noticeWindows(customers []*model.Customer, now time.Time) noticeStep {
	from := r.notices.last
	r.notices.last = now
	lead := r.Model.NoticeLead()
	step := noticeStep{from: from, windows: map[string][]model.RefundWindow{}, due: map[string]dueNotice{}}
	for _, c := range customers {
		if !c.Created || r.diverged[c.ID] {
			continue
		}
		// A customer on a test clock lives a step behind (timeOf): its
		// notices of this step came when its clock last moved, on its time.
		cfrom, cnow := r.timeOf(c, from), r.timeOf(c, now)
		inStep := func(w model.RefundWindow, at time.Time) bool {
			return at.After(cfrom) && !at.After(cnow) && (w.Ends.IsZero() || at.Before(w.Ends))
		}
		for _, s := range c.Subs {
			if s.ID == "" {
				continue
			}
			ws := s.RefundWindows(cfrom, cnow.Add(lead))
			if len(ws) == 0 {
				continue
			}
			step.windows[s.ID] = ws
			for _, w := range ws {
				if inStep(w, w.Closes) {
					step.due[noticeKey(s.ID, w.Rule, w.Closes, w.Added, true)] = dueNotice{c.ID, w.Closes}
				}
				if closing := w.Closes.Add(-lead); lead > 0 && closing.After(w.Opened) && inStep(w, closing) {
					step.due[noticeKey(s.ID, w.Rule, w.Closes, w.Added, false)] = dueNotice{c.ID, closing}
				}
			}
		}
	}
	return step
}

// addCalendarWindows adds to step, once the model has applied the step's
// calendar (renewals, trial conversions), the windows the calendar opened
// whose notices fall in the step: with steps longer than a short window
// (a marketplace month's 24 hours), a renewal's window opens and closes
// inside one step, after the snapshot before the calendar. A notice of
// such a window is checked like any; it is not required (the notices due
// are those of the windows the snapshot had).
func (r *Runner) addCalendarWindows(step noticeStep, customers []*model.Customer, now time.Time) {
	lead := r.Model.NoticeLead()
	for _, c := range customers {
		if !c.Created || r.diverged[c.ID] {
			continue
		}
		cfrom, cnow := r.timeOf(c, step.from), r.timeOf(c, now)
		for _, s := range c.Subs {
			if s.ID == "" {
				continue
			}
			for _, w := range s.RefundWindows(cfrom, cnow.Add(lead)) {
				if !hasWindow(step.windows[s.ID], w) {
					step.windows[s.ID] = append(step.windows[s.ID], w)
				}
			}
		}
	}
}

func hasWindow(ws []model.RefundWindow, w model.RefundWindow) bool {
	for _, have := range ws {
		if have.Rule == w.Rule && have.Closes.Equal(w.Closes) && have.Added.Equal(w.Added) {
			return true
		}
	}
	return false
}

// windowKey names one window of a subscription; noticeKey one of its two
// notices.
func windowKey(sub, rule string, closes, added time.Time) string {
	k := fmt.Sprintf("%s/%s/%d", sub, rule, closes.UnixNano())
	if !added.IsZero() {
		k += fmt.Sprintf("/%d", added.UnixNano())
	}
	return k
}

func noticeKey(sub, rule string, closes, added time.Time, closed bool) string {
	if closed {
		return windowKey(sub, rule, closes, added) + "/closed"
	}
	return windowKey(sub, rule, closes, added) + "/closing"
}

// reconcileNotices checks every notice received in the step against the
// model's own lots and cancellation windows (a different derivation than
// the processor's timers): it is due at its window's end (closed) or the
// policy's lead before (closing), names a window the model has, with the
// licences the model counts in it, and no closing notice follows its
// window's closed one. Then every notice the model expected in the step
// must have come.
func (r *Runner) reconcileNotices(step noticeStep, now time.Time) {
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
		var added time.Time
		if d.LotAddedAt != nil {
			added = *d.LotAddedAt
		}
		key := windowKey(d.SubscriptionID, d.Window, d.ClosesAt, added)
		delete(step.due, noticeKey(d.SubscriptionID, d.Window, d.ClosesAt, added, n.Closed))
		if !n.At.Equal(due) {
			r.mismatchID(n.CustomerID, "%s notice %s of %s window %s at %s, due at %s", kind, n.EventID, d.Window, key, n.At, due)
			continue
		}
		var w *model.RefundWindow
		for i, cand := range step.windows[d.SubscriptionID] {
			if cand.Rule == d.Window && cand.Closes.Equal(d.ClosesAt) && (!cand.Lot() || d.LotAddedAt != nil && cand.Added.Equal(*d.LotAddedAt)) {
				w = &step.windows[d.SubscriptionID][i]
				break
			}
		}
		switch {
		case w == nil:
			r.mismatchID(n.CustomerID, "%s notice %s names %s window %s, which the model does not have (it has %s)", kind, n.EventID, d.Window, key,
				describeWindows(step.windows[d.SubscriptionID]))
			continue
		case w.Quantity != d.Quantity:
			r.mismatchID(n.CustomerID, "%s notice %s of %s window %s names %d licences, the model counts %d", kind, n.EventID, d.Window, key, d.Quantity, w.Quantity)
			continue
		}
		counts := &r.notices.counts
		if n.Closed {
			r.notices.closed[key] = d.ClosesAt
			counts.Closed++
		} else {
			if _, after := r.notices.closed[key]; after {
				r.mismatchID(n.CustomerID, "closing notice %s of %s window %s came after its closed notice", n.EventID, d.Window, key)
				continue
			}
			counts.Closing++
		}
		counts.Checked++
		if counts.ByRule == nil {
			counts.ByRule = map[string]int64{}
		}
		counts.ByRule[d.Window]++
	}
	missing := make([]string, 0, len(step.due))
	for k := range step.due {
		missing = append(missing, k)
	}
	sort.Strings(missing) // the report lists them in one order every run
	for _, k := range missing {
		if d := step.due[k]; !r.diverged[d.customer] {
			r.notices.counts.Missing++
			r.mismatchID(d.customer, "no notice %s, due at %s", k, d.at)
		}
	}
	for k, closes := range r.notices.closed { // no closing notice can follow any more
		if closes.Before(now.Add(-lead)) {
			delete(r.notices.closed, k)
		}
	}
}

// NoticesChecked is how many refund window notices were checked against
// the model.
func (r *Runner) NoticesChecked() NoticeCounts { return r.notices.counts }

// String is the counts as one line of the report's notes, rules in order.
func (c NoticeCounts) String() string {
	rules := make([]string, 0, len(c.ByRule))
	for rule := range c.ByRule {
		rules = append(rules, rule)
	}
	sort.Strings(rules)
	by := ""
	for i, rule := range rules {
		if i > 0 {
			by += ", "
		}
		by += fmt.Sprintf("%s %d", rule, c.ByRule[rule])
	}
	return fmt.Sprintf("refund window notices checked against the model's windows: %d (%d closing, %d closed; %s); expected but missing: %d",
		c.Checked, c.Closing, c.Closed, by, c.Missing)
}

// describeWindows lists windows for a mismatch's text.
func describeWindows(ws []model.RefundWindow) string {
	if len(ws) == 0 {
		return "none in the step"
	}
	out := ""
	for i, w := range ws {
		if i > 0 {
			out += "; "
		}
		out += fmt.Sprintf("%s closing %s (%d), %d licences", w.Rule, w.Closes.Format(time.RFC3339Nano), w.Closes.UnixNano(), w.Quantity)
	}
	return out
}
