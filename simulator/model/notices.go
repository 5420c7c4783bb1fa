package model

import "time"

// RefundWindow is one refund window of a subscription as the model's own
// bookkeeping has it: the cancellation window (CAN-1, CAN-3: CancelUntil,
// covering every licence) or one lot's reduction window (QTY-2: the
// daybook's lots bought at Added, with their licences left). The runner
// checks the processor's window notices against these.
type RefundWindow struct {
	Lot      bool
	Added    time.Time // the lot's purchase; zero for the cancellation window
	Closes   time.Time
	Quantity int
}

// RefundWindows are s's windows that close after from and at or before
// to. Lots bought at the same instant with the same window are one window.
func (s *Sub) RefundWindows(from, to time.Time) []RefundWindow {
	in := func(t time.Time) bool { return t.After(from) && !t.After(to) }
	var out []RefundWindow
	if !s.Live() {
		return nil
	}
	if in(s.CancelUntil) {
		out = append(out, RefundWindow{Closes: s.CancelUntil, Quantity: s.Qty})
	}
	if s.book == nil {
		return out
	}
	idx := map[[2]int64]int{}
	for _, l := range s.book.lots {
		if l.n <= 0 || !in(l.reducibleUntil) {
			continue
		}
		k := [2]int64{l.added.UnixNano(), l.reducibleUntil.UnixNano()}
		if i, ok := idx[k]; ok {
			out[i].Quantity += l.n
			continue
		}
		idx[k] = len(out)
		out = append(out, RefundWindow{Lot: true, Added: l.added, Closes: l.reducibleUntil, Quantity: l.n})
	}
	return out
}

// NoticeLead is the catalog policy's lead of a window's closing notice.
func (m *Model) NoticeLead() time.Duration { return m.cat.Policy.RefundWindowNoticeLead() }
