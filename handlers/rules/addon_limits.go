package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// CodeBaseNeededByAddon: removing base licenses (a decrease, a partial
// upgrade to another offer, a cancellation) would leave an add-on outside
// ORD-7 or ORD-8.
const CodeBaseNeededByAddon = "base_needed_by_addon"

// ORD-7 and ORD-8 after the purchase. Our decisions:
//
//   - A change that removes base licenses is rejected when the add-on
//     licenses the customer holds would no longer be allowed: Copilot
//     licenses above the remaining base licenses (ORD-8), or multi-geo
//     licenses with no base license left (ORD-7). The add-on is never
//     reduced or cancelled on the partner's behalf: the add-on's own
//     licenses may be outside their 168-hour window (QTY-2) and cost
//     money, so the partner reduces or cancels the add-on first, then the
//     base. The rejection names the add-on offer, its subscriptions, the
//     licenses held and the limit.
//   - The changes checked are a quantity decrease (QTY-2), an immediate
//     upgrade that moves base licenses to an offer that is not a
//     compatible base (UPG-3, UPG-4) and a cancellation (CAN-1). A
//     suspension removes nothing: suspended licenses still count as base
//     licenses (they are held and billed, SUS-3), so it is not checked.
//     An expiry at the term end is not a partner's change and is not
//     refused.
//   - Only a decrease can break a limit: adding base licenses raises the
//     multi-geo minimum, but a customer never loses service for buying
//     more, so increases are not checked. Since a decrease lowers the
//     multi-geo minimum too, ORD-7 is broken only when no base license is
//     left (ORD-7 needs a base).
//   - Counting is the purchase's (licensesOf): active and suspended
//     subscriptions of every partner, trials excluded.

// addonLimitsAfter checks ORD-7 and ORD-8 for every add-on offer of the
// catalog after the customer's licenses of the offers in delta change by
// the given amounts (negative: removed) by a change of subscription subID.
func (d *decision) addonLimitsAfter(delta map[string]int, subID string) *messages.Rejection {
	for i := range d.in.Catalog.Offers {
		offer := &d.in.Catalog.Offers[i]
		a := offer.Addon
		if a == nil || a.Kind == catalog.AddonCoterminous {
			continue
		}
		baseBefore := d.licensesOf(a.BaseOfferIDs)
		baseAfter := baseBefore
		for _, id := range a.BaseOfferIDs {
			baseAfter += delta[id]
		}
		if rej := d.ownAddonChange(offer, delta[offer.ID], baseAfter, subID); rej != nil {
			return rej
		}
		if baseAfter >= baseBefore {
			continue
		}
		held := d.licensesOf([]string{offer.ID}) + delta[offer.ID]
		if held <= 0 {
			continue
		}
		data := map[string]string{"subscription_id": subID, "addon_offer_id": offer.ID,
			"addon_subscription_ids": strings.Join(d.addonSubscriptions(offer.ID), ","), "addon_quantity": strconv.Itoa(held),
			"base_licenses": strconv.Itoa(baseBefore), "base_licenses_after": strconv.Itoa(baseAfter)}
		switch {
		case a.Kind == catalog.AddonCopilot && a.MaxOfBase && held > baseAfter:
			data["maximum"] = strconv.Itoa(baseAfter)
			return reject(CodeBaseNeededByAddon, "ORD-8",
				fmt.Sprintf("the customer holds %d licenses of %s (%s), at most as many as its base licenses; after this change it would have %d base licenses: reduce or cancel the add-on first",
					held, offer.Name, data["addon_subscription_ids"], baseAfter), data)
		case a.Kind == catalog.AddonMultiGeo && baseAfter <= 0:
			data["minimum"] = "0"
			data["min_percent_of_base"] = strconv.Itoa(a.MinPercentOfBase)
			return reject(CodeBaseNeededByAddon, "ORD-7",
				fmt.Sprintf("the customer holds %d licenses of %s (%s), which need base licenses of %s; this change would leave none: cancel the add-on first",
					held, offer.Name, data["addon_subscription_ids"], strings.Join(a.BaseOfferIDs, ", ")), data)
		}
	}
	return nil
}

// ownAddonChange holds a change of an add-on's own licenses (by n; 0: the
// change is not to this add-on) to the limit its purchase had: Copilot
// licenses never above the base licenses (ORD-8), multi-geo licenses never
// under their share of them while any are held (ORD-7). The rejection
// codes are the purchase's. Our decision: the limits hold for the whole
// life of the add-on, not only when it is bought; a multi-geo add-on may
// still be cancelled as a whole.
func (d *decision) ownAddonChange(offer *catalog.Offer, n, base int, subID string) *messages.Rejection {
	a := offer.Addon
	if n == 0 {
		return nil
	}
	held := d.licensesOf([]string{offer.ID})
	after := held + n
	data := map[string]string{"subscription_id": subID, "offer_id": offer.ID, "base_licenses": strconv.Itoa(base),
		"held_addon_licenses": strconv.Itoa(held), "addon_licenses_after": strconv.Itoa(after)}
	switch {
	case a.Kind == catalog.AddonCopilot && a.MaxOfBase && n > 0 && after > base:
		data["maximum"] = strconv.Itoa(base)
		return reject(CodeAddonAboveMaximum, "ORD-8",
			fmt.Sprintf("%s is limited to the customer's %d base licenses: %d are held, so at most %d more", offer.Name, base, held, max(base-held, 0)), data)
	case a.Kind == catalog.AddonMultiGeo && n < 0 && after > 0:
		minimum := int((int64(a.MinPercentOfBase)*int64(base) + 99) / 100) // rounded up (ORD-7 Decision)
		if after < minimum {
			data["minimum"], data["min_percent_of_base"] = strconv.Itoa(minimum), strconv.Itoa(a.MinPercentOfBase)
			return reject(CodeAddonBelowMinimum, "ORD-7",
				fmt.Sprintf("%s needs at least %d%% of the customer's %d base licenses: %d in all, so at most %d fewer (holds %d)",
					offer.Name, a.MinPercentOfBase, base, minimum, held-minimum, held), data)
		}
	}
	return nil
}

// addonSubscriptions are the IDs of the customer's active and suspended
// subscriptions of an add-on offer, through any partner, sorted.
func (d *decision) addonSubscriptions(offerID string) []string {
	var ids []string
	for _, s := range d.state.sortedSubscriptions() {
		if (s.Status == StatusActive || s.Status == StatusSuspended) && !s.Trial && s.OfferID == offerID {
			ids = append(ids, s.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// cancelKeepsAddons is the check above for the cancellation of s, which
// removes all its licenses (a trial holds none that count).
func (d *decision) cancelKeepsAddons(s *Subscription) bool {
	if s.Trial || s.Status != StatusActive && s.Status != StatusSuspended {
		return true
	}
	if rej := d.addonLimitsAfter(map[string]int{s.OfferID: -s.Quantity}, s.ID); rej != nil {
		d.reject(rej)
		return false
	}
	return true
}
