package rules

import (
	"fmt"

	"github.com/cspreseller/csp-processor/messages"
)

// commandRules is the one table of the command types this package
// decides: for each, the roles that may send it (ROL-1), the subscription
// it acts on (REN-4 parks later commands for a subscription behind its
// parked ones; GEN-5 keeps software and reservation subscriptions away
// from the generic commands), how it behaves while that subscription's
// renewal is pending (REN-4), and its rules. decide dispatches through it
// and nothing else lists command types: a type the codec knows without a
// row here fails TestCommandRulesCoverEveryCommandType.
var commandRules map[messages.CommandType]commandRule

// init only assigns the table: a package-level initializer would form an
// initialization cycle (the rules of timer.fired decide parked commands,
// which reads the table). Nothing else registers rules.
func init() {
	commandRules = map[messages.CommandType]commandRule{
		messages.CmdCustomerCreated: rule(subscriptionRoles, renewalNotAffected, nil, (*decision).customerCreated),
		messages.CmdOrderPlaced:     rule(subscriptionRoles, renewalNotAffected, nil, (*decision).orderPlaced),
		messages.CmdSubscriptionSuspend: rule(subscriptionRoles, renewalReadOnly,
			func(c *messages.SuspendData) string { return c.SubscriptionID }, (*decision).suspend),
		messages.CmdSubscriptionReactivate: rule(subscriptionRoles, renewalReadOnly,
			func(c *messages.ReactivateData) string { return c.SubscriptionID }, (*decision).reactivate),
		messages.CmdSubscriptionCancel: rule(subscriptionRoles, renewalParked,
			func(c *messages.CancelData) string { return c.SubscriptionID }, (*decision).cancel),
		messages.CmdAutoRenewSet: rule(subscriptionRoles, renewalReadOnly,
			func(c *messages.AutoRenewSetData) string { return c.SubscriptionID }, (*decision).autoRenewSet),
		messages.CmdQuantityChange: rule(subscriptionRoles, renewalParked,
			func(c *messages.QuantityChangeData) string { return c.SubscriptionID }, (*decision).quantityChange),
		messages.CmdUpgrade: rule(subscriptionRoles, renewalParkedUnlessAtRenewal,
			func(c *messages.UpgradeData) string { return c.SubscriptionID }, (*decision).upgrade),
		messages.CmdScheduleSet: rule(subscriptionRoles, renewalReadOnly,
			func(c *messages.ScheduleSetData) string { return c.SubscriptionID }, (*decision).scheduleSet),
		messages.CmdScheduleDelete: rule(subscriptionRoles, renewalReadOnly,
			func(c *messages.ScheduleDeleteData) string { return c.SubscriptionID }, (*decision).scheduleDelete),
		// A trial does not renew; the paid subscription an immediate
		// conversion adds licenses to may, and the conversion is then parked.
		messages.CmdTrialConvert: rule(subscriptionRoles, renewalParked,
			func(c *messages.TrialConvertData) string { return c.SubscriptionID }, (*decision).trialConvert),
		messages.CmdTimerFired: rule(systemRoles, renewalNotAffected, nil, (*decision).timerFired),

		messages.CmdReservationScopeChange: rule(reservationRoles, renewalNotAffected, nil, (*decision).reservationScopeChange),
		messages.CmdReservationCancel:      rule(reservationRoles, renewalNotAffected, nil, (*decision).reservationCancel),
		messages.CmdReservationExchange:    rule(reservationRoles, renewalNotAffected, nil, (*decision).reservationExchange),

		messages.CmdSoftwareCancel:              rule(softwareRoles, renewalNotAffected, nil, (*decision).softwareCancel),
		messages.CmdSoftwareDownloadLinkRequest: rule(softwareRoles, renewalNotAffected, nil, (*decision).softwareLinkRequest),
		messages.CmdSoftwareKeyAccess:           rule(softwareRoles, renewalNotAffected, nil, (*decision).softwareKeyAccess),
		messages.CmdSoftwareDownload:            rule(softwareRoles, renewalNotAffected, nil, (*decision).softwareDownload),

		messages.CmdRelationshipRequest: rule(subscriptionRoles, renewalNotAffected, nil, (*decision).relationshipRequest),
		messages.CmdRelationshipAccept:  rule(customerRoles, renewalNotAffected, nil, (*decision).relationshipAccept),
		messages.CmdTransferRequest:     rule(subscriptionRoles, renewalNotAffected, nil, (*decision).transferRequest),
		messages.CmdTransferReject:      rule(subscriptionRoles, renewalNotAffected, nil, (*decision).transferReject),
		messages.CmdTransferSubmit:      rule(subscriptionRoles, renewalNotAffected, nil, (*decision).transferSubmit),
		messages.CmdRelationshipDecline: rule(customerRoles, renewalNotAffected, nil, (*decision).relationshipDecline),
		messages.CmdTransferWithdraw:    rule(subscriptionRoles, renewalNotAffected, nil, (*decision).transferWithdraw),
	}
}

// commandRule is one row of commandRules.
type commandRule struct {
	// roles may send the command (ROL-1).
	roles []messages.Role
	// renewal is how the command behaves while its subscription's renewal
	// is pending (REN-4, notPendingRenewal).
	renewal renewalMode
	// target is the subscription the command acts on; nil when it acts
	// on none in particular.
	target func(data any) string
	apply  func(d *decision, data any)
}

// renewalMode is a command's REN-4 behaviour during a pending renewal.
type renewalMode int

const (
	// renewalNotAffected: the command does not act on a renewing
	// subscription's term, and is decided as usual.
	renewalNotAffected renewalMode = iota
	// renewalReadOnly: the setting is read-only; the command is rejected
	// with renewal_pending.
	renewalReadOnly
	// renewalParked: the command conflicts; it is parked and applied when
	// the renewal completes, or rejected with conflict when the policy
	// keeps no parked commands.
	renewalParked
	// renewalParkedUnlessAtRenewal: an immediate upgrade is parked like
	// renewalParked; one scheduled for the renewal changes the renewal's
	// plan, which is read-only.
	renewalParkedUnlessAtRenewal
)

// parks reports whether a command with this mode and data is parked
// (true) or read-only (false) during a pending renewal.
func (m renewalMode) parks(data any) bool {
	switch m {
	case renewalParked:
		return true
	case renewalParkedUnlessAtRenewal:
		c, ok := data.(*messages.UpgradeData)
		return !ok || c.When != upgradeAtRenewal
	}
	return false
}

// rule builds a row from typed functions: T is the command's data type
// as the codec decodes it.
func rule[T any](roles []messages.Role, renewal renewalMode, target func(*T) string, apply func(*decision, *T)) commandRule {
	r := commandRule{roles: roles, renewal: renewal, apply: func(d *decision, data any) {
		c, ok := data.(*T)
		if !ok { // the codec decodes each type to its own data; answer rather than panic
			d.reject(reject(CodeInvalidCommand, "GEN-6", fmt.Sprintf("command type %q does not carry %T", d.in.Command.Type, data), nil))
			return
		}
		apply(d, c)
	}}
	if target != nil {
		r.target = func(data any) string {
			c, ok := data.(*T)
			if !ok {
				return ""
			}
			return target(c)
		}
	}
	return r
}

// targetSubscription is the subscription a command acts on, if any.
func targetSubscription(t messages.CommandType, data any) string {
	r, ok := commandRules[t]
	if !ok || r.target == nil {
		return ""
	}
	return r.target(data)
}
