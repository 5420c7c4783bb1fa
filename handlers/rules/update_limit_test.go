package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

func TestRule_QTY_4_UpgradesCountAsUpdates(t *testing.T) {
	w := taWorld(t)
	w.cat.Policy.MaxSubscriptionUpdates = 3
	src := w.buy(t0, taPremium, "P1Y", "annual", 20)
	target := w.buy(t0, taE5, "P1Y", "annual", 1)
	at := t0.Add(8 * 24 * time.Hour) // the target is out of its window (UPG-5)

	wantAccepted(t, w.do(partnerA, at, messages.CmdQuantityChange, qtyOf(src, 21)))
	// A partial upgrade into a new subscription and one into an existing
	// subscription: two updates of the source, one of the target.
	wantAccepted(t, w.do(partnerA, at.Add(time.Hour), messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: src, TargetOfferID: taE5, Quantity: intp(2)}))
	wantAccepted(t, w.do(partnerA, at.Add(2*time.Hour), messages.CmdUpgrade,
		&messages.UpgradeData{SubscriptionID: src, TargetOfferID: taE5, TargetSubscriptionID: target, Quantity: intp(2)}))
	if s, tg := w.state.Subscriptions[src], w.state.Subscriptions[target]; s.UpdateCount != 3 || tg.UpdateCount != 1 || s.Quantity != 17 {
		t.Fatalf("update counts source %d target %d, quantity %d", s.UpdateCount, tg.UpdateCount, s.Quantity)
	}
	// The third update was the last: neither a quantity change nor an
	// upgrade is accepted now.
	r := wantRejected(t, w.do(partnerA, at.Add(3*time.Hour), messages.CmdQuantityChange, qtyOf(src, 22)), CodeQuantityUpdateLimit, "QTY-4")
	if r.Data["update_count"] != "3" || r.Data["max_updates"] != "3" || r.Data["subscription_id"] != src {
		t.Fatalf("rejection %v", r.Data)
	}
	wantRejected(t, w.do(partnerA, at.Add(4*time.Hour), messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: src, TargetOfferID: taE5, Quantity: intp(1)}),
		CodeQuantityUpdateLimit, "QTY-4")

	// A target at the limit refuses licenses moved into it.
	w2 := taWorld(t)
	w2.cat.Policy.MaxSubscriptionUpdates = 1
	src2 := w2.buy(t0, taPremium, "P1Y", "annual", 20)
	target2 := w2.buy(t0, taE5, "P1Y", "annual", 1)
	wantAccepted(t, w2.do(partnerA, at, messages.CmdQuantityChange, qtyOf(target2, 2)))
	r = wantRejected(t, w2.do(partnerA, at.Add(time.Hour), messages.CmdUpgrade,
		&messages.UpgradeData{SubscriptionID: src2, TargetOfferID: taE5, TargetSubscriptionID: target2, Quantity: intp(2)}), CodeQuantityUpdateLimit, "QTY-4")
	if r.Data["subscription_id"] != target2 {
		t.Fatalf("rejection names %s", r.Data["subscription_id"])
	}
}
