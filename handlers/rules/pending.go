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

// notPendingRenewal is REN-4: while a renewal is pending, a command whose
// row in commandRules is read-only (auto-renew, suspend, reactivate,
// schedules, an upgrade at renewal) is rejected, and one that conflicts
// (quantity, cancel, an immediate upgrade or conversion) is parked and
// applied when the renewal completes (see park.go), or rejected with
// conflict when the policy keeps no parked commands.
func (d *decision) notPendingRenewal(s *Subscription) bool {
	if s.RenewalPendingSince == nil {
		return true
	}
	conflict := commandRules[d.in.Command.Type].renewal.parks(d.in.Command.Data)
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
