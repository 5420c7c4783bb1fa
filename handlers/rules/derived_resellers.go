package rules

import "slices"

// Resellers of derived subscriptions (PTN-3, PTN-4). A subscription made
// out of another one keeps the sale's resellers: the reseller sold the
// licenses, and a partial upgrade, a trial conversion into a new
// subscription or a reservation exchange does not change who sold them
// (Partner Center keeps the reseller of record on the upgraded or
// converted subscription). Decisions:
//
//   - Same partner of record (partial upgrade into a new subscription,
//     trial conversion into a new subscription, reservation exchange): the
//     initial reseller and the additional resellers are copied as they
//     are. Licenses moved into an existing subscription keep that
//     subscription's resellers (it has its own sale).
//   - Transfer (TRF): the new partner of record keeps the initial reseller
//     only when the partner registry shows that reseller reselling through
//     the new partner (PTN-3 asks exactly that of a purchase); otherwise the
//     new subscription has no reseller, as a direct sale of the new
//     partner. The additional resellers (PTN-4) go with the initial one:
//     they are kept when it is, and dropped when it is not, since PTN-4 has
//     none without an initial reseller.

// carryResellers copies the resellers of src onto dst, a subscription
// derived from it under the same partner of record.
func carryResellers(dst, src *Subscription) {
	dst.ResellerID = src.ResellerID
	dst.AdditionalResellerIDs = slices.Clone(src.AdditionalResellerIDs)
}

// carryResellersToPartner copies the resellers of src onto dst, which a
// transfer gives to partnerID: only when the initial reseller resells
// through that partner (see above).
func (d *decision) carryResellersToPartner(dst, src *Subscription, partnerID string) {
	dst.ResellerID, dst.AdditionalResellerIDs = "", nil
	if src.ResellerID == "" || d.in.Partners == nil {
		return
	}
	if r, ok := d.in.Partners.Partner(src.ResellerID); ok && r.ResellsThrough(partnerID) {
		carryResellers(dst, src)
	}
}
