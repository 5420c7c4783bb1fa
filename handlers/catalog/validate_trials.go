package catalog

import (
	"fmt"
	"strings"
)

// validateTrials checks every trial offer (TRI-1, ORD-10):
//
//   - it is license-based, marked free (so every price is 0: a trial never
//     charges, ORD-10) and not an add-on;
//   - its quantity bounds are exactly trial.licenses (25: a trial comes
//     with that many licenses and no other number, TRI-1, TRI-3);
//   - trial.term is a term and every plan of the offer has it;
//   - trial.paid_offer_id names another offer of the catalog that is
//     license-based and neither a trial nor an add-on: the equivalent paid
//     SKU it converts to (TRI-1, TRI-2);
//   - convert_term and convert_billing_frequency are a valid pair
//     (GEN-4) that the paid offer sells: the default conversion (TRI-1:
//     annual, billed monthly).
func (c *Catalog) validateTrials(ps *problemList, index map[string]int) {
	for i := range c.Offers {
		o := &c.Offers[i]
		t := o.Trial
		if t == nil {
			continue
		}
		ps.Entry = offerEntry(i, o)
		if o.BillingType != BillingTypeLicense {
			ps.Add("trial", "a trial must be license-based, not %q", o.BillingType)
		}
		if !o.Free {
			ps.Add("free", "a trial offer must be marked free: its prices are all 0 (ORD-10, TRI-1)")
		}
		if o.Addon != nil {
			ps.Add("addon", "an offer cannot be both a trial and an add-on")
		}
		if t.Licenses <= 0 {
			ps.Add("trial.licenses", "must be > 0 (TRI-1: 25), got %d", t.Licenses)
		} else if o.BillingType == BillingTypeLicense && (o.MinQuantity != t.Licenses || o.MaxQuantity != t.Licenses) {
			ps.Add("trial.licenses", "min_quantity (%d) and max_quantity (%d) must both equal trial.licenses (%d): a trial has exactly that many licenses (TRI-1)",
				o.MinQuantity, o.MaxQuantity, t.Licenses)
		}
		if !ValidTerm(t.Term) {
			ps.Add("trial.term", "%q is not a term (allowed: %s)", t.Term, strings.Join(Terms(), ", "))
		} else {
			for j := range o.Plans {
				if o.Plans[j].Term != t.Term {
					ps.Add(fmt.Sprintf("plans[%d].term", j), "a trial sells only its trial.term %s, not %s", t.Term, o.Plans[j].Term)
				}
			}
		}
		paid := c.trialPaidOffer(ps, o, index)
		pairOK := true
		switch {
		case !ValidTerm(t.ConvertTerm):
			ps.Add("trial.convert_term", "%q is not a term (allowed: %s)", t.ConvertTerm, strings.Join(Terms(), ", "))
			pairOK = false
		case !ValidPair(t.ConvertTerm, t.ConvertBillingFrequency):
			ps.Add("trial.convert_billing_frequency", "%q is not allowed with term %s (allowed: %s)",
				t.ConvertBillingFrequency, t.ConvertTerm, strings.Join(FrequenciesFor(t.ConvertTerm), ", "))
			pairOK = false
		}
		if paid != nil && pairOK {
			if _, ok := paid.Plan(t.ConvertTerm, t.ConvertBillingFrequency); !ok {
				ps.Add("trial.convert_term", "the paid offer %s does not sell %s billed %s", paid.ID, t.ConvertTerm, t.ConvertBillingFrequency)
			}
		}
	}
	ps.Entry = ""
}

// trialPaidOffer returns the trial's paid offer when it is a valid one.
func (c *Catalog) trialPaidOffer(ps *problemList, o *Offer, index map[string]int) *Offer {
	id := o.Trial.PaidOfferID
	j, ok := index[id]
	switch {
	case id == "":
		ps.Add("trial.paid_offer_id", "must not be empty")
		return nil
	case !ok:
		ps.Add("trial.paid_offer_id", "%q is not an offer of the catalog", id)
		return nil
	case id == o.ID:
		ps.Add("trial.paid_offer_id", "a trial cannot convert to itself")
		return nil
	}
	paid := &c.Offers[j]
	switch {
	case paid.Trial != nil:
		ps.Add("trial.paid_offer_id", "%s (%s) is a trial, not a paid offer", id, paid.Name)
		return nil
	case paid.Addon != nil:
		ps.Add("trial.paid_offer_id", "%s (%s) is an add-on, not a paid base offer", id, paid.Name)
		return nil
	case paid.BillingType != BillingTypeLicense:
		ps.Add("trial.paid_offer_id", "%s (%s) is not license-based", id, paid.Name)
		return nil
	}
	return paid
}
