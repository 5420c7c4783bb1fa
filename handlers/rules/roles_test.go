package rules

import (
	"slices"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// sampleCommands is one plausible command of every partner command type,
// for a customer with one subscription.
func sampleCommands(sub string) map[messages.CommandType]any {
	q := 7
	return map[messages.CommandType]any{
		messages.CmdCustomerCreated: &messages.CustomerCreatedData{CompanyName: "X", Segment: "commercial", Country: "US", Currency: "USD"},
		messages.CmdOrderPlaced: &messages.OrderPlacedData{OrderID: "O-R", Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: &q, Term: "P1Y", BillingFrequency: "annual"}}},
		messages.CmdSubscriptionSuspend:    suspendOf(sub, "fraud"),
		messages.CmdSubscriptionReactivate: reactivateOf(sub),
		messages.CmdSubscriptionCancel:     cancelOf(sub),
		messages.CmdAutoRenewSet:           autoRenewOf(sub, false),
		messages.CmdQuantityChange:         &messages.QuantityChangeData{SubscriptionID: sub, Quantity: &q},
		messages.CmdUpgrade:                &messages.UpgradeData{SubscriptionID: sub, TargetOfferID: offerStd},
		messages.CmdScheduleSet:            &messages.ScheduleSetData{SubscriptionID: sub, Quantity: &q},
		messages.CmdScheduleDelete:         &messages.ScheduleDeleteData{SubscriptionID: sub},
		messages.CmdTrialConvert:           &messages.TrialConvertData{SubscriptionID: sub},
		messages.CmdReservationScopeChange: &messages.ReservationScopeChangeData{SubscriptionID: sub, Scope: messages.ScopeShared},
		messages.CmdReservationCancel:      &messages.ReservationCancelData{SubscriptionID: sub, Used: boolp(false)},
		messages.CmdReservationExchange: &messages.ReservationExchangeData{SubscriptionID: sub, TargetOfferID: offerStd, Quantity: &q,
			Term: "P1Y", BillingFrequency: "one_time"},
		messages.CmdSoftwareCancel:              &messages.SoftwareCancelData{OrderID: "O-R"},
		messages.CmdSoftwareDownloadLinkRequest: &messages.SoftwareDownloadLinkRequestData{SubscriptionID: sub, User: "u@x.example"},
		messages.CmdSoftwareKeyAccess:           &messages.SoftwareKeyAccessData{SubscriptionID: sub, User: "u@x.example"},
		messages.CmdSoftwareDownload:            &messages.SoftwareDownloadData{SubscriptionID: sub, User: "u@x.example"},
		messages.CmdRelationshipRequest:         &messages.RelationshipRequestData{},
		messages.CmdRelationshipAccept:          &messages.RelationshipAcceptData{PartnerID: "P-Q"},
		messages.CmdTransferRequest:             &messages.TransferRequestData{TransferID: "TR-R", SourcePartnerID: "P-Q", NoticeEmail: "n@x.example"},
		messages.CmdTransferReject:              &messages.TransferRejectData{TransferID: "TR-R"},
		messages.CmdTransferSubmit:              &messages.TransferSubmitData{TransferID: "TR-R", SubscriptionIDs: []string{sub}},
		messages.CmdRelationshipDecline:         &messages.RelationshipDeclineData{PartnerID: "P-Q"},
		messages.CmdTransferWithdraw:            &messages.TransferWithdrawData{TransferID: "TR-R"},
	}
}

// ROL-1 and PTN-1 for every command type: each role either may send it or
// is refused with forbidden, and a foreign partner is refused whatever its
// role; a refusal changes nothing.
func TestRule_ROL_1_EveryCommandTypeByEveryRoleAndByAForeignPartner(t *testing.T) {
	w := newWorld(t)
	w.createCustomer("commercial", "USD")
	sub := w.buy(t0, offerBasic, "P1Y", "annual", 5)
	samples := sampleCommands(sub)
	for _, typ := range messages.CommandTypes() {
		data, ok := samples[typ]
		if typ == messages.CmdTimerFired {
			continue // the system's own, covered by TestTimers_StaleOrForgedTimersChangeNothing
		}
		if !ok {
			t.Fatalf("no sample of %s: add one", typ)
		}
		for _, role := range messages.Roles() {
			in := Input{Command: messages.Command{ID: "r-" + string(role), Type: typ, CustomerID: customer1, Data: data},
				PartnerID: partnerA, Role: role, Now: t0.Add(time.Hour), State: w.state, Catalog: w.cat}
			out := Decide(in)
			forbidden := out.Rejected != nil && out.Rejected.Code == CodeForbidden && out.Rejected.Rule == "ROL-1"
			if allowed := slices.Contains(RolesFor(typ), role); allowed == forbidden {
				t.Errorf("%s by %s: allowed %v, got %+v", typ, role, allowed, out.Rejected)
			}
			if forbidden && len(out.Changed)+len(out.Deleted) != 0 {
				t.Errorf("%s by %s: refused but changed %v", typ, role, out.Changed)
			}
			// Another partner, in a role that may send it.
			// customer.relationship.request is how a partner without a
			// relationship asks for one (TRF-1): a foreign partner may.
			if slices.Contains(RolesFor(typ), role) && typ != messages.CmdRelationshipRequest {
				in.PartnerID = partnerB
				out = Decide(in)
				if typ != messages.CmdCustomerCreated && (out.Rejected == nil || out.Rejected.Rule != "PTN-1") {
					t.Errorf("%s by foreign partner %s: %+v", typ, role, out.Rejected)
				}
				if out.Rejected == nil || len(out.Changed)+len(out.Deleted) != 0 {
					t.Errorf("%s by a foreign partner changed %v", typ, out.Changed)
				}
			}
		}
	}
}
