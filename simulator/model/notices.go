package model

import "time"

// A window is named by the rule whose refund it bounds, as the billing
// events name the rules (rules.go, types.go, reservations.go): RuleCancel,
// RuleMarketplaceCancel, RuleSoftwareCancel, RuleReservationCancel (the
// full-refund days) and RuleDecrease (a lot).

// RefundWindow is one refund window of a subscription as the model's own
// bookkeeping has it: the cancellation window (CAN-1, CAN-3: CancelUntil,
// covering every licence; CAN-4: a software purchase's window; CAN-5: a
// reservation's full-refund days) or one lot's reduction window (QTY-2:
// the daybook's lots bought at Added, with their licences left). The
// runner checks the processor's window notices against these.
type RefundWindow struct {
	Rule     string
	Added    time.Time // the lot's purchase; zero for a cancellation window
	Closes   time.Time
	Quantity int
	// Opened is when the window opened: a closing notice is due only when
	// its instant comes after it (a window shorter than the lead has none).
	Opened time.Time
	// Ends is when the subscription's term ends (zero: never). The window
	// is as the model has it only before then: the renewal replaces its
	// lots and windows.
	Ends time.Time
}

// Lot tells a QTY-2 lot's window from a cancellation window.
func (w RefundWindow) Lot() bool { return w.Rule == RuleDecrease }

// RefundWindows are s's windows that close after from and at or before
// to. Lots bought at the same instant with the same window are one window.
func (s *Sub) RefundWindows(from, to time.Time) []RefundWindow {
	in := func(t time.Time) bool { return t.After(from) && !t.After(to) }
	if !s.Live() || s.Trial {
		return nil
	}
	// The runner asks for every live subscription at every step, and few
	// have a window in the step: the term's end (a date computation) is
	// worked out only for a window found.
	ends := func() time.Time {
		if s.Ext == nil || !s.Ext.Perpetual {
			return s.termEndsAt()
		}
		return time.Time{}
	}
	switch {
	case s.Res != nil: // no lots, no CAN-1 window: CAN-5's full-refund days
		if closes := s.FullRefundEnds(); in(closes) {
			return []RefundWindow{{Rule: RuleReservationCancel, Closes: closes, Quantity: s.Qty, Opened: s.Res.Bought, Ends: ends()}}
		}
		return nil
	case s.Ext != nil && s.Ext.Type == TypeSoftware: // no lots, CAN-4's window from the purchase
		if s.Ext.Exception == "" && in(s.Ext.SoftwareUntil) {
			return []RefundWindow{{Rule: RuleSoftwareCancel, Closes: s.Ext.SoftwareUntil, Quantity: s.Qty, Ends: ends(),
				Opened: s.Ext.SoftwareBought}}
		}
		return nil
	}
	var out []RefundWindow
	if in(s.CancelUntil) {
		rule := RuleCancel
		if s.Ext != nil && s.Ext.Type == TypeMarketplace {
			rule = RuleMarketplaceCancel
		}
		out = append(out, RefundWindow{Rule: rule, Closes: s.CancelUntil, Quantity: s.Qty, Ends: ends(),
			Opened: s.CancelUntil.Add(-time.Duration(s.WindowHours) * time.Hour)})
	}
	if s.book == nil || s.Status == Suspended { // a suspended subscription's licences cannot be removed: no lot is announced
		return out
	}
	lots := len(out) // the lots' windows start here
	for _, l := range s.book.lots {
		if l.n <= 0 || !in(l.reducibleUntil) {
			continue
		}
		if i := sameLotWindow(out[lots:], l); i >= 0 {
			out[lots+i].Quantity += l.n
			continue
		}
		out = append(out, RefundWindow{Rule: RuleDecrease, Added: l.added, Closes: l.reducibleUntil, Quantity: l.n,
			Opened: l.added, Ends: ends()})
	}
	return out
}

// sameLotWindow is the index of the window in ws of lots bought at the
// same instant as l with the same window, or -1. A step finds a lot window
// or two in a subscription: a scan, not a map made for every call.
func sameLotWindow(ws []RefundWindow, l *lot) int {
	for i, w := range ws {
		if w.Added.Equal(l.added) && w.Closes.Equal(l.reducibleUntil) {
			return i
		}
	}
	return -1
}

// NoticeLead is the catalog policy's lead of a window's closing notice.
func (m *Model) NoticeLead() time.Duration { return m.cat.Policy.RefundWindowNoticeLead() }
