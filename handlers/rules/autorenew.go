package rules

import (
	"fmt"

	"github.com/cspreseller/csp-processor/messages"
)

// autoRenewSet is REN-1: new-commerce subscriptions renew automatically by
// default and auto-renew can be switched. A suspended subscription cannot
// have it turned back on (SUS-4: it expires at term end unless reactivated
// first); switching to the value it already has is accepted and changes
// nothing but is still confirmed, so the sender always gets an answer.
func (d *decision) autoRenewSet(c *messages.AutoRenewSetData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) {
		return
	}
	if !d.notPendingRenewal(s) {
		return
	}
	if c.Enabled == nil {
		d.reject(invalidField("data.enabled", "is required (true or false)"))
		return
	}
	on := *c.Enabled
	if !d.autoRenewUnlocked(s, on) { // REN-1: a legacy subscription's auto-renew cannot be turned off
		return
	}
	if on && s.Status == StatusSuspended {
		d.reject(reject(CodeSubscriptionSuspended, "SUS-4",
			fmt.Sprintf("subscription %s is suspended; reactivate it before turning auto-renew on", s.ID),
			map[string]string{"subscription_id": s.ID}))
		return
	}
	if s.AutoRenew != on {
		next := s.clone()
		next.AutoRenew = on
		if !on {
			d.clearScheduled(&next, string(messages.CmdAutoRenewSet)) // SCH-3
			next.TrialConversion = nil                                // TRI-6 needs auto-renew on
		}
		d.putSubscription(&next)
	}
	ev := &messages.AutoRenewChangedEvent{SubscriptionID: s.ID, Enabled: on}
	if on {
		ev.RenewsOn = formatDate(s.termEndsAt())
	}
	d.emit(messages.EvtAutoRenewChanged, ev)
}
