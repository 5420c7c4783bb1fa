package simulator

import (
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// Notice is one refund window notice the ledger received
// (subscription.refund_window_closing or _closed). It carries no money:
// the runner checks it against the model's windows (reconcile_notices.go).
type Notice struct {
	EventID    string
	CustomerID string
	Closed     bool
	At         time.Time // occurred_at
	Data       messages.RefundWindowNoticeEvent
}

// bookNotice keeps a notice for the step's reconciliation; the caller
// holds the lock.
func (l *Ledger) bookNotice(ev messages.Event, d *messages.RefundWindowNoticeEvent) {
	l.notices = append(l.notices, Notice{EventID: ev.ID, CustomerID: ev.CustomerID,
		Closed: ev.Type == messages.EvtRefundWindowClosed, At: ev.OccurredAt, Data: *d})
}

// takeNotices hands the notices received so far to the reconciliation and
// forgets them.
func (l *Ledger) takeNotices() []Notice {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.notices
	l.notices = nil
	return out
}
