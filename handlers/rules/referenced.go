package rules

import (
	"github.com/cspreseller/csp-processor/messages"
)

// Referenced is the entity fields a command can name: the subscriptions,
// order and transfer in its data, and the subscriptions it would create
// under IDs derived from its own (derivedIDTaken). The store loads the
// tombstones of these fields only (CustomerState.Tombstones), so a command
// naming an archived entity is answered as when it was live while the
// state a command decodes holds live entities only.
func Referenced(cmd messages.Command) []string {
	var out []string
	subs := func(ids ...string) {
		for _, id := range ids {
			if id != "" {
				out = append(out, SubscriptionField(id))
			}
		}
	}
	derived := func(n int) {
		for i := 0; i < n; i++ {
			subs(messages.DerivedID("sub", cmd.CustomerID, cmd.ID, i))
		}
	}
	transfer := func(id string) {
		if id != "" {
			out = append(out, TransferField(id))
		}
	}
	if id := targetSubscription(cmd.Type, cmd.Data); id != "" {
		subs(id)
	}
	switch c := cmd.Data.(type) {
	case *messages.OrderPlacedData:
		if c.OrderID != "" {
			out = append(out, OrderField(c.OrderID))
		}
		derived(len(c.Lines))
	case *messages.UpgradeData:
		subs(c.TargetSubscriptionID)
		derived(1)
	case *messages.TrialConvertData:
		subs(c.TargetSubscriptionID)
		derived(1)
	case *messages.ReservationScopeChangeData:
		subs(c.SubscriptionID)
	case *messages.ReservationCancelData:
		subs(c.SubscriptionID)
	case *messages.ReservationExchangeData:
		subs(c.SubscriptionID)
		derived(1)
	case *messages.SoftwareCancelData:
		if c.OrderID != "" {
			out = append(out, OrderField(c.OrderID))
		}
	case *messages.SoftwareDownloadLinkRequestData:
		subs(c.SubscriptionID)
	case *messages.SoftwareKeyAccessData:
		subs(c.SubscriptionID)
	case *messages.SoftwareDownloadData:
		subs(c.SubscriptionID)
	case *messages.TransferRequestData:
		transfer(c.TransferID)
	case *messages.TransferRejectData:
		transfer(c.TransferID)
	case *messages.TransferWithdrawData:
		transfer(c.TransferID)
	case *messages.TransferSubmitData:
		transfer(c.TransferID)
		subs(c.SubscriptionIDs...)
		derived(len(c.SubscriptionIDs))
	}
	return dedupe(out)
}

func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, f := range list {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
