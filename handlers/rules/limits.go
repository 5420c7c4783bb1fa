package rules

import (
	"fmt"
	"strconv"

	"github.com/cspreseller/csp-processor/messages"
)

// CodeSubscriptionLimitReached: the customer holds as many subscriptions
// as the policy allows (ORD-12).
const CodeSubscriptionLimitReached = "subscription_limit_reached"

// subscriptionLimit is ORD-12: a customer may hold at most
// policy.max_subscriptions_per_customer subscriptions; an order line that
// would create one more is rejected. Decisions, where the rule catalogue
// and Partner Center (which points to the directory service limits) are
// silent:
//
//   - What counts: every active or suspended subscription of the
//     customer, whoever its partner of record is (the limit is the
//     customer's, not the partner's), trials and add-ons included;
//     cancelled and expired ones do not, so a cancellation frees a place.
//   - Subscriptions created by earlier lines of the same cart count: they
//     are in the state when the next line is decided (add-on lines are
//     decided after the others, ORD-7..ORD-9).
//   - The check runs after the line's own checks, so a line that is wrong
//     anyway gets its own reason; only purchases are checked (a partial
//     upgrade or a trial conversion that creates a subscription is not an
//     order line).
//   - 0 (absent) sets no limit. The shipped catalog sets 250.
func (d *decision) subscriptionLimit() *messages.Rejection {
	limit := d.in.Catalog.Policy.MaxSubscriptionsPerCustomer
	if limit <= 0 {
		return nil
	}
	held := heldSubscriptions(d.state)
	if held < limit {
		return nil
	}
	return reject(CodeSubscriptionLimitReached, "ORD-12",
		fmt.Sprintf("customer %s holds %d active or suspended subscriptions, the most allowed is %d; cancel one or ask to raise the limit",
			d.in.Command.CustomerID, held, limit),
		map[string]string{"customer_id": d.in.Command.CustomerID, "subscriptions": strconv.Itoa(held), "limit": strconv.Itoa(limit)})
}

// heldSubscriptions counts a customer's active and suspended
// subscriptions, across partners (ORD-12).
func heldSubscriptions(st CustomerState) int {
	n := 0
	for _, s := range st.Subscriptions {
		if s.Status == StatusActive || s.Status == StatusSuspended {
			n++
		}
	}
	return n
}
