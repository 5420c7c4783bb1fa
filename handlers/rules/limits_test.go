package rules

import (
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// limitWorld is a customer under a policy of at most limit subscriptions
// (ORD-12) that already holds the given number of Business Basic
// subscriptions.
func limitWorld(t *testing.T, limit, held int) (*world, []string) {
	t.Helper()
	w := mpWorld(t)
	w.cat.Policy.MaxSubscriptionsPerCustomer = limit
	w.createCustomer("commercial", "USD")
	var ids []string
	for i := range held {
		ids = append(ids, w.buy(t0.Add(time.Duration(i)*time.Minute), offerBasic, "P1Y", "annual", 1))
	}
	return w, ids
}

func limitLines(n int, offer string) []messages.OrderLine {
	var lines []messages.OrderLine
	for i := range n {
		lines = append(lines, messages.OrderLine{LineID: "L" + itoa(i+1), OfferID: offer, Quantity: intp(1), Term: "P1Y", BillingFrequency: "annual"})
	}
	return lines
}

// ORD-12: a customer holds at most policy.max_subscriptions_per_customer
// active or suspended subscriptions, across partners; the line that would
// pass the limit is rejected, lines earlier in the same cart count, and
// cancelled or expired subscriptions free their place.
func TestRule_ORD_12_SubscriptionLimit(t *testing.T) {
	at := t0.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		limit  int
		held   int
		setup  func(w *world, ids []string)
		lines  []messages.OrderLine
		status []string // per line: fulfilled or the rejection code
		order  string
	}{
		{"ORD-12 reaching the limit is allowed", 3, 2, nil, limitLines(1, offerBasic),
			[]string{messages.LineFulfilled}, messages.OrderCompleted},
		{"ORD-12 over the limit is rejected", 3, 3, nil, limitLines(1, offerBasic),
			[]string{CodeSubscriptionLimitReached}, messages.OrderFailed},
		{"ORD-12 earlier lines of the same cart count", 3, 2, nil, limitLines(3, offerBasic),
			[]string{messages.LineFulfilled, CodeSubscriptionLimitReached, CodeSubscriptionLimitReached}, messages.OrderPartiallyCompleted},
		{"ORD-12 a marketplace line counts and is counted", 3, 1, nil,
			append([]messages.OrderLine{{LineID: "M1", OfferID: offerHub, Quantity: intp(2), Term: "P1M", BillingFrequency: "monthly"}}, limitLines(2, offerBasic)...),
			[]string{messages.LineFulfilled, messages.LineFulfilled, CodeSubscriptionLimitReached}, messages.OrderPartiallyCompleted},
		{"ORD-12 a cancelled subscription frees its place", 3, 3, func(w *world, ids []string) {
			wantAccepted(w.t, w.do(partnerA, t0.Add(30*time.Minute), messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: ids[0]}))
		}, limitLines(1, offerBasic), []string{messages.LineFulfilled}, messages.OrderCompleted},
		{"ORD-12 a suspended subscription counts", 3, 3, func(w *world, ids []string) {
			wantAccepted(w.t, w.do(partnerA, t0.Add(30*time.Minute), messages.CmdSubscriptionSuspend,
				&messages.SuspendData{SubscriptionID: ids[0], Reason: messages.ReasonNonPayment}))
		}, limitLines(1, offerBasic), []string{CodeSubscriptionLimitReached}, messages.OrderFailed},
		{"ORD-12 subscriptions of another partner count", 3, 2, func(w *world, ids []string) {
			moved := w.state.Subscriptions[ids[0]].clone()
			moved.ID, moved.PartnerID = "sub-elsewhere", partnerB
			w.state.Subscriptions[moved.ID] = &moved
		}, limitLines(1, offerBasic), []string{CodeSubscriptionLimitReached}, messages.OrderFailed},
		{"ORD-12 an expired subscription frees its place", 2, 2, func(w *world, ids []string) {
			expired := w.state.Subscriptions[ids[1]].clone()
			expired.Status = StatusExpired
			w.state.Subscriptions[ids[1]] = &expired
		}, limitLines(1, offerBasic), []string{messages.LineFulfilled}, messages.OrderCompleted},
		{"ORD-12 a line wrong anyway keeps its own reason", 1, 1, nil,
			[]messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: intp(301), Term: "P1Y", BillingFrequency: "annual"}},
			[]string{CodeQuantityOutOfRange}, messages.OrderFailed},
		{"ORD-12 no limit when the policy sets none", 0, 4, nil, limitLines(2, offerBasic),
			[]string{messages.LineFulfilled, messages.LineFulfilled}, messages.OrderCompleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, ids := limitWorld(t, tc.limit, tc.held)
			if tc.setup != nil {
				tc.setup(w, ids)
			}
			before := heldSubscriptions(w.state)
			out := w.do(partnerA, at, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-limit", Lines: tc.lines})
			wantAccepted(t, out)
			ev := findEvent[*messages.OrderProcessedEvent](t, out, messages.EvtOrderProcessed)
			if ev.Status != tc.order {
				t.Errorf("order %s, want %s", ev.Status, tc.order)
			}
			fulfilled := 0
			for i, want := range tc.status {
				l := ev.Lines[i]
				if want == messages.LineFulfilled {
					if l.Status != messages.LineFulfilled {
						t.Fatalf("line %d rejected: %+v", i, l.Rejection)
					}
					fulfilled++
					continue
				}
				if l.Status != messages.LineRejected || l.Rejection.Code != want {
					t.Fatalf("line %d: %+v, want %s", i, l.Rejection, want)
				}
				if want == CodeSubscriptionLimitReached {
					r := l.Rejection
					if r.Rule != "ORD-12" || r.Data["limit"] != itoa(tc.limit) || r.Data["subscriptions"] != itoa(tc.limit) || r.Data["customer_id"] != customer1 {
						t.Fatalf("line %d rejection %+v", i, r)
					}
				}
			}
			if got := heldSubscriptions(w.state); got != before+fulfilled {
				t.Fatalf("held %d, want %d", got, before+fulfilled)
			}
			if tc.limit > 0 && heldSubscriptions(w.state) > tc.limit {
				t.Fatalf("held %d over the limit %d", heldSubscriptions(w.state), tc.limit)
			}
		})
	}
}
