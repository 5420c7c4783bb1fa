package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/messages"
)

// soldThrough records resellers on a subscription, as an indirect
// provider's purchase naming them does (PTN-3, PTN-4; the purchase itself
// is TestRule_PTN_3_* and TestRule_PTN_4_*).
func soldThrough(w *world, id, reseller string, additional ...string) {
	s := w.state.Subscriptions[id].clone()
	s.ResellerID, s.AdditionalResellerIDs = reseller, additional
	w.state.Subscriptions[id] = &s
}

func wantResellers(t *testing.T, s *Subscription, reseller string, additional ...string) {
	t.Helper()
	if s.ResellerID != reseller || !slices.Equal(s.AdditionalResellerIDs, additional) {
		t.Fatalf("%s: resellers %q %v, want %q %v", s.ID, s.ResellerID, s.AdditionalResellerIDs, reseller, additional)
	}
}

func TestRule_PTN_3_PTN_4_DerivedSubscriptionsKeepTheResellers(t *testing.T) {
	t.Run("PTN-3 partial upgrade into a new subscription", func(t *testing.T) {
		w := taWorld(t)
		src := w.buy(t0, taPremium, "P1Y", "annual", 10)
		soldThrough(w, src, "R-2001", "R-2002", "R-2004")
		out := w.do(partnerA, t0.Add(time.Hour), messages.CmdUpgrade, &messages.UpgradeData{SubscriptionID: src, TargetOfferID: taE5, Quantity: intp(4)})
		wantAccepted(t, out)
		ev := findEvent[*messages.SubscriptionUpgradedEvent](t, out, messages.EvtSubscriptionUpgraded)
		if ev.Mode != UpgradePartialNew {
			t.Fatalf("mode %s", ev.Mode)
		}
		wantResellers(t, w.state.Subscriptions[ev.TargetSubscriptionID], "R-2001", "R-2002", "R-2004")
		wantResellers(t, w.state.Subscriptions[src], "R-2001", "R-2002", "R-2004")
	})
	t.Run("PTN-3 trial converted into a new subscription", func(t *testing.T) {
		w := taWorld(t)
		trial := taBuyTrial(w, t0)
		soldThrough(w, trial, "R-2001", "R-2005")
		out := taConvert(w, t0.Add(24*time.Hour), &messages.TrialConvertData{SubscriptionID: trial})
		wantAccepted(t, out)
		ev := findEvent[*messages.TrialConvertedEvent](t, out, messages.EvtTrialConverted)
		wantResellers(t, w.state.Subscriptions[ev.TargetSubscriptionID], "R-2001", "R-2005")
	})
	t.Run("PTN-3 reservation exchange", func(t *testing.T) {
		w := rsvWorld(t, "US", "USD")
		old := w.rsvBuy(t0, rsvD2, "P1Y", "one_time", 2)
		soldThrough(w, old.ID, "R-2001")
		out := w.rsvDo(messages.RoleSalesAgent, t0.Add(30*24*time.Hour), messages.CmdReservationExchange,
			&messages.ReservationExchangeData{SubscriptionID: old.ID, TargetOfferID: rsvD4, Quantity: intp(1), Term: "P3Y", BillingFrequency: "one_time"})
		wantAccepted(t, out)
		x := findEvent[*messages.ReservationExchangedEvent](t, out, messages.EvtReservationExchanged)
		wantResellers(t, w.state.Subscriptions[x.NewSubscriptionID], "R-2001")
	})
}

// doAsWith is doAs with a partner registry.
func (w *world) doAsWith(reg *partners.Registry, partner string, role messages.Role, now time.Time, typ messages.CommandType, data any) Outcome {
	w.t.Helper()
	w.n++
	out := Decide(Input{
		Command:   messages.Command{ID: "cmd-" + itoa(w.n), Type: typ, SchemaVersion: 1, CustomerID: customer1, Data: data},
		PartnerID: partner, Role: role, Now: now, State: w.state, Catalog: w.cat, Partners: reg,
	})
	w.state = out.State
	return out
}

func TestRule_PTN_3_PTN_4_TransferKeepsTheResellerOnlyWhereItResellsForTheNewPartner(t *testing.T) {
	reg := ptnPartners(t, "5")
	for _, tc := range []struct {
		name, target, reseller string
		additional             []string
		wantReseller           string
		wantAdditional         []string
	}{
		// R-2007 resells for both providers: it stays, with the
		// additional resellers of the sale.
		{"PTN-3 the reseller also resells for the new partner", "P-2000", "R-2007", []string{"R-2001"}, "R-2007", []string{"R-2001"}},
		// R-2001 resells for P-1001 only: the new partner sells directly.
		{"PTN-3 the reseller does not resell for the new partner", "P-2000", "R-2001", []string{"R-2002"}, "", nil},
		{"PTN-3 a direct-bill new partner", partnerB, "R-2007", nil, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ptnWorld(t, reg, provider, "DE")
			w.cat.Policy.TransferRequestExpiryDays = 30
			_, ev := w.ptnOrder(reg, provider, ptnLine("L1", tc.reseller, tc.additional...))
			sub := ev.Lines[0].SubscriptionID
			if sub == "" {
				t.Fatalf("purchase %+v", ev.Lines[0].Rejection)
			}
			at := t0.Add(time.Hour)
			wantAccepted(t, w.doAsWith(reg, tc.target, messages.RoleAdminAgent, at, messages.CmdRelationshipRequest, &messages.RelationshipRequestData{}))
			wantAccepted(t, w.doAsWith(reg, messages.CustomerActor, messages.RoleCustomerAdmin, at.Add(time.Minute), messages.CmdRelationshipAccept,
				&messages.RelationshipAcceptData{PartnerID: tc.target}))
			wantAccepted(t, w.doAsWith(reg, tc.target, messages.RoleAdminAgent, at.Add(2*time.Minute), messages.CmdTransferRequest, trRequest("TR-1", provider)))
			wantAccepted(t, w.doAsWith(reg, provider, messages.RoleSalesAgent, at.Add(3*time.Minute), messages.CmdTransferSubmit, trSubmit("TR-1", sub)))
			var moved *Subscription
			for _, s := range w.state.Subscriptions {
				if s.PartnerID == tc.target && s.Status == StatusActive {
					moved = s
				}
			}
			if moved == nil || w.state.Subscriptions[sub].Status != StatusCancelled {
				t.Fatalf("not transferred: %+v", w.state.Subscriptions)
			}
			wantResellers(t, moved, tc.wantReseller, tc.wantAdditional...)
		})
	}
}
