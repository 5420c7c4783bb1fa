package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cspreseller/csp-processor/handlers/partners"
	"github.com/cspreseller/csp-processor/messages"
)

// Partner types and resellers (PTN-2, PTN-3, PTN-4), as Partner Center
// describes them. Which partner is which comes from the operator's partner
// registry (Input.Partners, package handlers/partners), never from a
// command.
//
// Decisions:
//   - No registry (Input.Partners nil, the processor without
//     PARTNERS_FILE): every partner acts as a direct-bill partner. It may
//     sell and manage subscriptions, and it may name no reseller, so a line
//     with reseller_id is rejected reseller_not_allowed and one with
//     additional_reseller_ids initial_reseller_required.
//   - PTN-2 is checked for every command, customer.created included, right
//     after ROL-1 and before PTN-1: a sender the registry does not know is
//     rejected unknown_partner, an indirect reseller
//     indirect_reseller_not_allowed, naming its indirect providers.
//     Exempt are exactly the processor's own actors: the system partner
//     (timers) and the customer actor "_customer" (a customer accepting a
//     transfer); the registry refuses partner IDs starting with '_', so no
//     enrolled partner can pass for one.
//   - A "transaction" of PTN-4 is one order line: Partner Center names the
//     reseller per subscription, so the reseller fields are per line and a
//     rejected line fails alone (ORD-1).
//   - PTN-3: only an indirect provider names reseller_id (absent: it sells
//     directly, the attestation Partner Center asks); the reseller must be
//     a registered indirect reseller with the acting provider among its
//     provider_ids. Partner Center asks a signed MPA of additional
//     resellers only; the initial reseller is vouched for by its
//     registration.
//   - PTN-4, in this order: additional_reseller_ids need a customer whose
//     billing country is in policy.eu_efta_countries, at most
//     policy.max_additional_resellers of them, and a reseller_id (the
//     initial reseller comes first); each must be a registered indirect
//     reseller (of any provider: it is further down the chain) with a
//     signed MPA, not the initial reseller and not named twice. The first
//     bad one is reported with its ID and a reason: not_registered,
//     not_a_reseller, mpa_not_signed, initial_reseller or duplicate.
//   - The subscription keeps ResellerID and AdditionalResellerIDs; the
//     subscriptions export shows the reseller ID. Additional resellers earn
//     nothing: they appear in no billing event, they are kept only as the
//     declaration.

// Rejection codes of PTN-2..PTN-4 (GEN-6).
const (
	CodeUnknownPartner                   = "unknown_partner"
	CodeIndirectResellerNotAllowed       = "indirect_reseller_not_allowed"
	CodeResellerNotAllowed               = "reseller_not_allowed"
	CodeResellerNotAssociated            = "reseller_not_associated"
	CodeAdditionalResellersNotApplicable = "additional_resellers_not_applicable"
	CodeTooManyAdditionalResellers       = "too_many_additional_resellers"
	CodeInitialResellerRequired          = "initial_reseller_required"
	CodeAdditionalResellerInvalid        = "additional_reseller_invalid"
)

// ptnExemptActors are the processor's own actors, which are not partners
// (see the decisions above).
var ptnExemptActors = []string{messages.SystemPartner, messages.CustomerActor}

// partnerMayTransact is PTN-2: with a registry, only registered
// direct-bill partners and indirect providers may send commands; an
// indirect reseller is told to go through its indirect provider.
func (d *decision) partnerMayTransact() bool {
	reg, id := d.in.Partners, d.in.PartnerID
	if reg == nil || slices.Contains(ptnExemptActors, id) {
		return true
	}
	p, ok := reg.Partner(id)
	if !ok {
		d.reject(reject(CodeUnknownPartner, "PTN-2",
			fmt.Sprintf("partner %s is not registered; ask the operator to enrol it before it sells or manages subscriptions", id),
			map[string]string{"partner_id": id}))
		return false
	}
	if p.Type == partners.IndirectReseller {
		providers := strings.Join(p.ProviderIDs, ",")
		d.reject(reject(CodeIndirectResellerNotAllowed, "PTN-2",
			fmt.Sprintf("partner %s is an indirect reseller and cannot sell or manage subscriptions; go through your indirect provider %s",
				id, strings.Join(p.ProviderIDs, " or ")),
			map[string]string{"partner_id": id, "indirect_provider_ids": providers, "command_type": string(d.in.Command.Type)}))
		return false
	}
	return true
}

// actingType is the acting partner's type: direct-bill without a registry.
func (d *decision) actingType() partners.Type {
	if d.in.Partners == nil {
		return partners.DirectBill
	}
	if p, ok := d.in.Partners.Partner(d.in.PartnerID); ok {
		return p.Type
	}
	return partners.DirectBill // not reached: PTN-2 refused it
}

// lineResellers is PTN-3 and PTN-4 for one order line (see the decisions
// above); field names the line's fields.
func (d *decision) lineResellers(cust *Customer, line messages.OrderLine, field func(string) string) *messages.Rejection {
	if line.ResellerID != "" {
		if rej := d.initialReseller(line.ResellerID, field("reseller_id")); rej != nil {
			return rej
		}
	}
	if len(line.AdditionalResellerIDs) == 0 {
		return nil
	}
	return d.additionalResellers(cust, line, field("additional_reseller_ids"))
}

// initialReseller is PTN-3.
func (d *decision) initialReseller(id, field string) *messages.Rejection {
	if t := d.actingType(); t != partners.IndirectProvider {
		return reject(CodeResellerNotAllowed, "PTN-3",
			fmt.Sprintf("partner %s is a %s partner and sells directly; only an indirect provider names an indirect reseller", d.in.PartnerID, t),
			map[string]string{"partner_id": d.in.PartnerID, "partner_type": string(t), "reseller_id": id, "field": field})
	}
	r, ok := d.in.Partners.Partner(id)
	if !ok || !r.ResellsThrough(d.in.PartnerID) {
		why := "is not a registered partner"
		switch {
		case ok && r.Type != partners.IndirectReseller:
			why = "is not an indirect reseller"
		case ok:
			why = "is not an indirect reseller of " + d.in.PartnerID
		}
		return reject(CodeResellerNotAssociated, "PTN-3",
			fmt.Sprintf("reseller %s %s; name one of your own indirect resellers", id, why),
			map[string]string{"partner_id": d.in.PartnerID, "reseller_id": id, "field": field})
	}
	return nil
}

// additionalResellers is PTN-4 for a line that names additional resellers
// (its reseller_id, if any, passed PTN-3).
func (d *decision) additionalResellers(cust *Customer, line messages.OrderLine, field string) *messages.Rejection {
	reg, ids := d.in.Partners, line.AdditionalResellerIDs
	if reg == nil {
		return reject(CodeInitialResellerRequired, "PTN-4",
			fmt.Sprintf("additional resellers follow an initial reseller, and partner %s, a direct-bill partner, names none", d.in.PartnerID),
			map[string]string{"partner_id": d.in.PartnerID, "field": field})
	}
	if !reg.EUEFTA(cust.Country) {
		return reject(CodeAdditionalResellersNotApplicable, "PTN-4",
			fmt.Sprintf("additional resellers are declared for EU/EFTA customers only; customer %s is billed in %s", cust.ID, cust.Country),
			map[string]string{"customer_id": cust.ID, "country": cust.Country, "field": field})
	}
	if limit := reg.Policy.MaxAdditionalResellers; len(ids) > limit {
		return reject(CodeTooManyAdditionalResellers, "PTN-4",
			fmt.Sprintf("%d additional resellers named; at most %d per transaction", len(ids), limit),
			map[string]string{"count": strconv.Itoa(len(ids)), "max_additional_resellers": strconv.Itoa(limit), "field": field})
	}
	if line.ResellerID == "" {
		return reject(CodeInitialResellerRequired, "PTN-4",
			"the initial reseller (reseller_id) must be named before any additional reseller",
			map[string]string{"field": field})
	}
	for i, id := range ids {
		reason, why := "", ""
		p, ok := reg.Partner(id)
		switch {
		case !ok:
			reason, why = "not_registered", "has no registered partner ID"
		case p.Type != partners.IndirectReseller:
			reason, why = "not_a_reseller", "is not an indirect reseller"
		case !p.MPASigned:
			reason, why = "mpa_not_signed", "has not signed the Microsoft Partner Agreement"
		case id == line.ResellerID:
			reason, why = "initial_reseller", "is the initial reseller"
		case slices.Contains(ids[:i], id):
			reason, why = "duplicate", "is named twice"
		default:
			continue
		}
		f := field + "[" + strconv.Itoa(i) + "]"
		return reject(CodeAdditionalResellerInvalid, "PTN-4",
			fmt.Sprintf("additional reseller %s %s", id, why),
			map[string]string{"reseller_id": id, "reason": reason, "field": f})
	}
	return nil
}

// attachResellers records a fulfilled line's resellers on its new
// subscription (PTN-3, PTN-4), which this decision created.
func attachResellers(sub *Subscription, line messages.OrderLine) {
	sub.ResellerID = line.ResellerID
	if len(line.AdditionalResellerIDs) > 0 {
		sub.AdditionalResellerIDs = slices.Clone(line.AdditionalResellerIDs)
	}
}
