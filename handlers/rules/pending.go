package rules

import (
	"fmt"
	"time"
)

// Codes of REN-4.
const (
	CodeRenewalPending = "renewal_pending"
	CodeConflict       = "conflict"
)

// notPendingRenewal is REN-4: while a renewal is pending, auto-renew,
// suspend and reactivate are read-only (rejected), and quantity and cancel
// conflict: they are parked and applied when the renewal completes (see
// park.go), or rejected with conflict when the policy keeps no parked
// commands.
func (d *decision) notPendingRenewal(s *Subscription, conflict bool) bool {
	if s.RenewalPendingSince == nil {
		return true
	}
	data := map[string]string{"subscription_id": s.ID, "renewal_pending_since": s.RenewalPendingSince.Format(time.RFC3339Nano)}
	if conflict && d.retryBound() > 0 {
		d.park(s)
		return false
	}
	if conflict {
		d.reject(reject(CodeConflict, "REN-4",
			fmt.Sprintf("subscription %s is renewing; retry after the renewal completes", s.ID), data))
	} else {
		d.reject(reject(CodeRenewalPending, "REN-4",
			fmt.Sprintf("subscription %s is renewing; this setting is read-only until the renewal completes", s.ID), data))
	}
	return false
}
