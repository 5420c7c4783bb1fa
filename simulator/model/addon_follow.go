package model

import (
	"fmt"
	"time"
)

// What add-ons do after their purchase, as the model derives it.
//
// ORD-7 and ORD-8 stay true when base licences go: a decrease or a
// cancellation of a base is rejected (base_needed_by_addon) when the
// customer would hold Copilot licences above its base licences, or
// multi-geo licences without any base licence left. The add-on is never
// touched. Only removals are checked; suspension removes nothing.
//
// ORD-9: a co-terminous add-on follows its base. The base's calendar
// decides their shared term end: the add-on first catches up with its own
// billing periods before that instant, then expires when the base
// expires, waits while the base's renewal is pending, and renews with the
// base on the base's new term and billing frequency — unless it would not
// renew alone (auto-renew off, or suspended and not legacy), when it
// expires. Its renewal is priced and booked like any renewal (renew: a new
// day book, every licence paying the whole first period at the current
// price). A base cancellation cancels it too: its own day book gives back
// the days it paid for and will not use, at the cancellation instant.
//
// A legacy base cannot turn auto-renew off (REN-1) nor schedule changes,
// so its add-on's own calendar reaches the same end; the model lets it.

// RejectBaseNeededByAddon: removing base licences would break ORD-7 or
// ORD-8 for add-on licences the customer holds.
const RejectBaseNeededByAddon = "base_needed_by_addon"

// addonsRefuse is the rejection code when the customer's licences of the
// offers in delta change by those amounts, "" when every multi-geo and
// Copilot licence it holds stays allowed.
func (m *Model) addonsRefuse(c *Customer, delta map[string]int) string {
	if c == nil {
		return ""
	}
	for i := range m.cat.Offers {
		o := &m.cat.Offers[i]
		a := o.Addon
		if a == nil || a.Kind == AddonCoterminous {
			continue
		}
		before := c.Licenses(a.BaseOfferIDs)
		after := before
		for _, b := range a.BaseOfferIDs {
			after += delta[b]
		}
		// The add-on's own licences change: the purchase's limits hold
		// for its whole life (Copilot up to the base licences; multi-geo,
		// while any are held, at least its share of them, rounded up).
		if n := delta[o.ID]; n != 0 {
			own := c.Licenses([]string{o.ID}) + n
			if a.Kind == AddonCopilot && a.MaxOfBase && n > 0 && own > after {
				return RejectAddonAboveMaximum
			}
			if a.Kind == AddonMultiGeo && n < 0 && own > 0 && own*100 < after*a.MinPercentOfBase {
				return RejectAddonBelowMinimum
			}
		}
		held := c.Licenses([]string{o.ID}) + delta[o.ID]
		if after >= before || held <= 0 {
			continue
		}
		if a.Kind == AddonCopilot && a.MaxOfBase && held > after || a.Kind == AddonMultiGeo && after <= 0 {
			return RejectBaseNeededByAddon
		}
	}
	return ""
}

// removalRefused is addonsRefuse for n licences of s leaving.
func (m *Model) removalRefused(s *Sub, n int) string { return m.changeRefused(s, -n) }

// changeRefused is addonsRefuse for s's licences changing by n.
func (m *Model) changeRefused(s *Sub, n int) string {
	if s.Trial || !s.Live() {
		return ""
	}
	return m.addonsRefuse(s.cust, map[string]int{s.Offer: n})
}

// followers are the live co-terminous add-ons of s sharing its term end.
func (s *Sub) followers() []*Sub {
	var out []*Sub
	for _, a := range s.LiveAddons() {
		if a.Ext.Addon == AddonCoterminous && a.TermEnd.Equal(s.TermEnd) {
			out = append(out, a)
		}
	}
	return out
}

// renewsAlone tells whether a subscription would renew at its term end
// on its own (REN-3, SUS-3).
func (s *Sub) renewsAlone() bool {
	return s.AutoRenew && (s.Status != Suspended || s.Is(TypeLegacy))
}

// fireWithFollowers is the base's term end or renewal completion with its
// co-terminous add-ons following (see above).
func (m *Model) fireWithFollowers(c *Customer, s *Sub, fs []*Sub, at time.Time, what due) []Bill {
	var bills []Bill
	for _, a := range fs {
		bills = append(bills, m.catchUp(c, a, at)...)
	}
	switch what {
	case dueTermEnd:
		bills = append(bills, m.fireOwn(c, s, at, what)...)
		for _, a := range fs {
			switch {
			case s.Status == Expired:
				a.Status = Expired
			case s.Renewing():
				if !a.renewsAlone() {
					a.Status = Expired
					continue
				}
				a.RenewingUntil = s.RenewingUntil
			default: // renewed at once
				bills = append(bills, m.renewWithBase(c, a, s, at)...)
			}
		}
	case dueRenewalComplete:
		bills = append(bills, m.renew(s, at)...)
		for _, a := range fs {
			bills = append(bills, m.renewWithBase(c, a, s, at)...)
		}
		m.drainParked(c, s, at)
	}
	return bills
}

// catchUp fires a's own calendar strictly before at.
func (m *Model) catchUp(c *Customer, a *Sub, at time.Time) []Bill {
	var bills []Bill
	for a.Live() {
		next, what := a.nextDue()
		if !next.Before(at) {
			break
		}
		bills = append(bills, m.fire(c, a, next, what)...)
	}
	return bills
}

// renewWithBase renews the add-on a with its base, which has just renewed
// (see above).
func (m *Model) renewWithBase(c *Customer, a, base *Sub, at time.Time) []Bill {
	if !a.Renewing() && !a.renewsAlone() {
		a.Status = Expired
		return nil
	}
	if sc := a.Scheduled; sc != nil { // its own plan would leave the base's
		sc.Offer, sc.Term, sc.Freq = "", "", ""
		if sc.Qty == 0 {
			a.Scheduled = nil
		}
	}
	if a.Term != base.Term || a.Freq != base.Freq {
		if _, ok := m.Price(a.Offer, base.Term, base.Freq, a.Currency); !ok {
			a.Status, a.RenewingUntil = Expired, time.Time{}
			return nil
		}
		a.Term, a.Freq = base.Term, base.Freq
	}
	bills := m.renew(a, at)
	for i := range bills {
		bills[i].Also = append(bills[i].Also, RuleAddonCoterminous)
	}
	m.drainParked(c, a, at)
	return bills
}

// cancelFollowers cancels the co-terminous add-ons of a base cancelled at
// now, each giving back from its own day book what it paid for the days
// not used.
func (m *Model) cancelFollowers(s *Sub, now time.Time) []Bill {
	var bills []Bill
	for _, a := range s.followers() {
		credit := a.book.refundAll(now)
		a.Status, a.AutoRenew = Cancelled, false
		b := prorated(bill(Credit, ReasonCancellation, RuleCancel, a, roundHalfUp(credit),
			fmt.Sprintf("cancelled with its base %s at %s", s, now.Format(time.RFC3339))))
		b.Also = append(b.Also, RuleAddonCoterminous)
		bills = append(bills, b)
	}
	return bills
}
