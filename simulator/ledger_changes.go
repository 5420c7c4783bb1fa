package simulator

import (
	"github.com/cspreseller/csp-processor/messages"
)

// noteCreated records the subscription a command created besides an order
// line: the paid subscription of a trial converted now (its
// subscription.created) and the new subscription of a partial upgrade
// (subscription.upgraded's target, mode partial_new).
func noteCreated(res *CommandResult, ev messages.Event) {
	if res == nil {
		return
	}
	switch d := ev.Data.(type) {
	case *messages.SubscriptionCreatedEvent:
		if ev.CommandType == messages.CmdTrialConvert {
			res.Created = append(res.Created, d.SubscriptionID)
		}
	case *messages.SubscriptionUpgradedEvent:
		if d.Mode == "partial_new" {
			res.Created = append(res.Created, d.TargetSubscriptionID)
		}
	}
}

// learnCreated gives the action's created subscription its ID, before its
// bills are compared.
func learnCreated(a Action, res *CommandResult) {
	if a.Created != nil && a.Created.ID == "" && res.Rejected == "" && len(res.Created) == 1 {
		a.Created.ID = res.Created[0]
	}
}
