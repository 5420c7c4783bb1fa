package rules

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// Rejection codes of the license quantity rules (QTY-*, GEN-6).
const (
	// CodeQuantityUnchanged: the new total equals the current one.
	CodeQuantityUnchanged = "no_change"
	// CodeQuantityTrial: a trial's license count cannot change (TRI-3).
	CodeQuantityTrial = CodeTrialNoChange
	// CodeQuantityNotReducible: the decrease is larger than the licenses
	// added within their 168-hour window (QTY-2).
	CodeQuantityNotReducible = "quantity_not_reducible"
	// CodeQuantityUpdateLimit: the subscription reached the policy's
	// update limit (QTY-4).
	CodeQuantityUpdateLimit = "update_limit_reached"
)

// quantityChange applies QTY-1, QTY-2, QTY-4 and QTY-5 to
// subscription.quantity.change, whose quantity is the new total.
//
// Checks, in this order: PTN-1; cancelled or expired is final (CAN-2,
// SUS-3); a pending renewal answers conflict (REN-4, QTY-5); a usage-based
// subscription has no quantity (ORD-6); a trial cannot change it (TRI-3,
// QTY-5); a suspended subscription cannot either (Decision, SUS-1: Partner
// Center refuses changes to a suspended subscription; reactivate first);
// the quantity is required and within the offer's bounds (ORD-6; 1..∞ when
// the offer left the catalog); the same quantity is rejected no_change
// (GEN-6); the update limit (QTY-4, policy max_subscription_updates) counts
// accepted quantity changes and immediate upgrades (upgrade.go), and the
// limit-th accepted update is the last; a decrease of a base subscription
// must leave its customer's add-ons within ORD-7 and ORD-8
// (addon_limits.go).
//
// An accepted change increments UpdateCount, deletes the scheduled changes
// (SCH-3, QTY-5) and emits, in this order: subscription.quantity.changed,
// the billing events (one billing.charge for an increase, one
// billing.credit per lot for a decrease), then subscription.schedule.changed
// when scheduled changes were deleted.
//
// Increase (QTY-1): the added licenses form a new lot, reducible for the
// subscription's cancellation window (its CancelWindowHours, from the
// catalog at purchase). They are charged for the rest of the current
// billing period at the subscription's unit price (the price locked at
// purchase or renewal), and the charge is added to PeriodCharge; later
// periods charge the whole quantity.
//
//	before = uncovered + used_days(now - began), at least 1 once the period's first day has started (increaseUsedDays)
//	charge = round_half_up(unit_price × added × (period_days - before) / period_days)
//
// where began is the instant the period started to be used (PeriodStart at
// 00:00 UTC, or PeriodStartedAt if later: the purchase or renewal instant),
// period_days counts the whole billing period's days, end included, and
// uncovered the days of it before PeriodStart, which a partial first
// period (ORD-9, SUS-2) was never charged for (fullPeriod; GEN-2, GEN-3).
//
// Decrease (QTY-2): see lotCredit.
func (d *decision) quantityChange(c *messages.QuantityChangeData) {
	s, ok := d.subscriptionOfPartner(c.SubscriptionID)
	if !ok || !d.notFinal(s) {
		return
	}
	if !d.notPendingRenewal(s) {
		return
	}
	if s.BillingType == "usage" {
		d.reject(reject(CodeQuantityNotAllowed, "ORD-6",
			fmt.Sprintf("subscription %s is usage-based and has no license quantity", s.ID),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID, "field": "data.quantity"}))
		return
	}
	if s.Trial {
		d.reject(reject(CodeQuantityTrial, "TRI-3",
			fmt.Sprintf("subscription %s is a trial; its license count cannot change until it is converted", s.ID),
			map[string]string{"subscription_id": s.ID, "quantity": strconv.Itoa(s.Quantity)}))
		return
	}
	if s.Status == StatusSuspended {
		d.reject(reject(CodeSubscriptionSuspended, "SUS-1",
			fmt.Sprintf("subscription %s is suspended; reactivate it before changing its license count", s.ID),
			map[string]string{"subscription_id": s.ID, "suspended_at": fmtTime(s.SuspendedAt)}))
		return
	}
	if c.Quantity == nil {
		d.reject(reject(CodeQuantityRequired, "ORD-6",
			fmt.Sprintf("the new license count of subscription %s is required", s.ID),
			map[string]string{"subscription_id": s.ID, "field": "data.quantity"}))
		return
	}
	q := *c.Quantity
	lo, hi := d.quantityBounds(s)
	if q < lo || q > hi {
		upper := "unbounded"
		if hi != math.MaxInt {
			upper = strconv.Itoa(hi)
		}
		d.reject(reject(CodeQuantityOutOfRange, "ORD-6",
			fmt.Sprintf("quantity %d is outside %d..%s for %s", q, lo, upper, s.OfferName),
			map[string]string{"subscription_id": s.ID, "offer_id": s.OfferID, "field": "data.quantity",
				"quantity": strconv.Itoa(q), "min_quantity": strconv.Itoa(lo), "max_quantity": upper}))
		return
	}
	if q == s.Quantity {
		d.reject(reject(CodeQuantityUnchanged, "GEN-6",
			fmt.Sprintf("subscription %s already has %d licenses", s.ID, q),
			map[string]string{"subscription_id": s.ID, "quantity": strconv.Itoa(q)}))
		return
	}
	if !d.belowUpdateLimit(s) {
		return
	}
	if rej := d.addonLimitsAfter(map[string]int{s.OfferID: q - s.Quantity}, s.ID); rej != nil { // ORD-7, ORD-8 (addon_limits.go)
		d.reject(rej)
		return
	}

	next := s.clone()
	next.Lots = normalizedLots(s)
	next.Quantity = q
	next.UpdateCount++
	ev := &messages.QuantityChangedEvent{SubscriptionID: s.ID, PreviousQuantity: s.Quantity, Quantity: q,
		Currency: s.Currency, ScheduledChangesDeleted: s.Scheduled != nil}
	var bills []*messages.BillingEvent
	if q > s.Quantity {
		charge, lot := increaseCharge(s, q-s.Quantity, d.in.Now)
		next.Lots = append(next.Lots, lot)
		next.PeriodCharge += charge.AmountMinor
		ev.ChargedMinor = charge.AmountMinor
		bills = append(bills, charge)
	} else {
		remove := s.Quantity - q
		total, _ := reducibleLots(next.Lots, d.in.Now)
		if remove > total {
			d.rejectNotReducible(s, next.Lots, q, remove, total)
			return
		}
		var removedCharge int64
		for i := len(next.Lots) - 1; i >= 0 && remove > 0; i-- {
			lot := next.Lots[i]
			if !lot.ReducibleUntil.After(d.in.Now) {
				continue
			}
			take := min(remove, lot.Quantity)
			credit := lotCredit(s, lot, take, d.in.Now)
			bills = append(bills, credit)
			ev.CreditedMinor += credit.AmountMinor
			ev.RemovedLots = append(ev.RemovedLots, lotView(Lot{Quantity: take, AddedAt: lot.AddedAt, ReducibleUntil: lot.ReducibleUntil}))
			removedCharge += lotCharge(s, lot, lot.Quantity) - lotCharge(s, lot, lot.Quantity-take)
			next.Lots[i].Quantity -= take
			remove -= take
		}
		next.PeriodCharge = max(next.PeriodCharge-removedCharge, 0)
	}
	next.Lots = compactLots(next.Lots, d.in.Now, periodBegan(s))
	ev.Lots = lotViews(next.Lots)
	ev.UpdateCount = next.UpdateCount
	ev.BillingEventIDs = make([]string, len(bills))
	for i := range bills {
		ev.BillingEventIDs[i] = messages.EventID(d.in.Command.CustomerID, d.in.Command.ID, len(d.events)+1+i)
	}

	d.emit(messages.EvtQuantityChanged, ev)
	for _, b := range bills {
		if b.Reason == messages.BillingReasonIncrease {
			d.emit(messages.EvtBillingCharge, b)
		} else {
			d.emit(messages.EvtBillingCredit, b)
		}
	}
	d.clearScheduled(&next, string(messages.CmdQuantityChange)) // SCH-3, QTY-5
	d.putSubscription(&next)
	d.planWindowNotices(&next) // QTY-2: an increase opens a lot's window, with its notices
}

// quantityBounds are the offer's ORD-6 bounds; an offer no longer in the
// catalog keeps its subscriptions changeable within 1..∞.
func (d *decision) quantityBounds(s *Subscription) (lo, hi int) {
	if offer, ok := d.in.Catalog.Offer(s.OfferID); ok {
		return offer.MinQuantity, offer.MaxQuantity
	}
	return 1, math.MaxInt
}

func (d *decision) rejectNotReducible(s *Subscription, lots []Lot, q, remove, total int) {
	data := map[string]string{"subscription_id": s.ID, "quantity": strconv.Itoa(s.Quantity),
		"requested_quantity": strconv.Itoa(q), "requested_decrease": strconv.Itoa(remove),
		"reducible_quantity": strconv.Itoa(total)}
	var earliest, latest time.Time
	for _, l := range lots {
		if !l.ReducibleUntil.After(d.in.Now) {
			continue
		}
		if earliest.IsZero() || l.ReducibleUntil.Before(earliest) {
			earliest = l.ReducibleUntil
		}
		if l.ReducibleUntil.After(latest) {
			latest = l.ReducibleUntil
		}
	}
	window := fmt.Sprintf("%d hours", s.CancelWindowHours)
	desc := fmt.Sprintf("subscription %s can lose only licenses added within the last %s: %d are reducible, %d were asked", s.ID, window, total, remove)
	if !earliest.IsZero() {
		data["earliest_reducible_until"] = earliest.Format(time.RFC3339Nano)
		data["latest_reducible_until"] = latest.Format(time.RFC3339Nano)
		desc += fmt.Sprintf(" (reducible until %s at the earliest)", earliest.Format(time.RFC3339))
	}
	if s.AutoRenew {
		data["next_window_opens"] = s.termEndsAt().Format(time.RFC3339)
		desc += fmt.Sprintf("; older licenses can be removed in the window of the next renewal, from %s", s.termEndsAt().Format(time.RFC3339))
	}
	d.reject(reject(CodeQuantityNotReducible, "QTY-2", desc, data))
}

// periodDays is the length of the current billing period, end included:
// the days PeriodStart..PeriodEnd the subscription is charged for. For a
// partial first period (see fullPeriod) that is fewer than the period's.
func periodDays(s *Subscription) int {
	return daysBetween(s.PeriodStart, s.PeriodEnd.AddDate(0, 0, 1))
}

// fullPeriod is the whole billing period the current one is part of: its
// day count and how many of its days come before PeriodStart.
//
// A subscription may cover only the tail of a billing period: a
// co-terminous add-on bought mid-period (ORD-9) and a legacy subscription
// reactivated in a period that started while it was suspended (SUS-2)
// start their period on that day, charged price × days left / days of the
// whole period. Their unit price is still the whole period's, so every
// proration of licenses divides it by the whole period's days (a license's
// daily value is the same whatever part of the period is covered), and
// counts the days before PeriodStart as used: they were never charged.
//
// Decision: the whole period is not stored; it is period PeriodIndex of
// the term (TermStart + k billing months, clamped, the last one ending on
// TermEnd, GEN-4), which every period is, and which is taken only when it
// ends on PeriodEnd and starts before PeriodStart. Anything else (software,
// a subscription stored with other dates) falls back to
// PeriodStart..PeriodEnd, as before: subscriptions already stored need no
// new field.
func fullPeriod(s *Subscription) (days, uncovered int) {
	covered := periodDays(s)
	months, err := termMonths(s.Term)
	if err != nil {
		return covered, 0
	}
	pm, err := billingMonths(s.BillingFrequency, months)
	if err != nil || pm <= 0 {
		return covered, 0
	}
	from := addMonthsClamped(s.TermStart, s.PeriodIndex*pm)
	to := addMonthsClamped(s.TermStart, (s.PeriodIndex+1)*pm).AddDate(0, 0, -1)
	if to.After(s.TermEnd) {
		to = s.TermEnd
	}
	if !to.Equal(s.PeriodEnd) || !from.Before(s.PeriodStart) {
		return covered, 0
	}
	days = daysBetween(from, s.PeriodEnd.AddDate(0, 0, 1))
	return days, days - covered
}

// periodBegan is the instant the current billing period started to be
// used: PeriodStart at 00:00 UTC, or the purchase or renewal instant when
// that is later.
func periodBegan(s *Subscription) time.Time {
	if s.PeriodStartedAt.After(s.PeriodStart) {
		return s.PeriodStartedAt
	}
	return s.PeriodStart
}

// increaseUsedDays is how many days of the whole billing period (see
// fullPeriod) count as used before licenses added at instant at: the days
// before PeriodStart, plus the days since the period began to be used,
// every started one and at least 1 (GEN-2) — none when nothing of the
// period has elapsed yet (at is not after PeriodStart, 00:00 UTC).
//
// Decision: the first day counts as used as soon as any of it has
// elapsed, even at the very instant the period began to be used. A
// command parked during a renewal (REN-4) applies when the renewal
// completes, the instant the new period starts to be used, but that
// period began at 00:00 UTC and its first day has started; licenses added
// a minute after a purchase count the purchase day as used
// (used_days(1 minute) = 1), so licenses added at the purchase instant
// itself count it too. Only at 00:00 UTC of the period's first day
// exactly (a billing period or a zero-length renewal starting, a trial
// converted into it at its end) is nothing used yet, and the added
// licenses cost the whole period like those that came with it. After the
// first day, days are counted in 24-hour steps from the instant the period
// began to be used, as the cancellation credit (CAN-1) and the decrease
// credit (QTY-2) count them, so that the three agree on every license.
func increaseUsedDays(s *Subscription, at time.Time) int {
	days, uncovered := fullPeriod(s)
	if !at.After(s.PeriodStart) {
		return min(uncovered, days)
	}
	return min(uncovered+usedDays(at.Sub(periodBegan(s))), days)
}

// lotUsedDays is how many days of the whole billing period count as used
// before a lot was added: for a lot that came with the period (added
// before it began, or at that instant and not by an increase) only the
// days before PeriodStart; for a lot added by an increase during it, what
// increaseUsedDays counted when it was charged.
func lotUsedDays(s *Subscription, lot Lot) int {
	days, uncovered := fullPeriod(s)
	began := periodBegan(s)
	if lot.AddedAt.Before(began) || lot.AddedAt.Equal(began) && !lot.Increase {
		return min(uncovered, days)
	}
	return increaseUsedDays(s, lot.AddedAt)
}

// increaseCharge is QTY-1's charge for added licenses bought at now, and
// their lot (see increaseUsedDays and fullPeriod).
//
//	charge = round_half_up(unit_price × added × (full_days - used) / full_days)
func increaseCharge(s *Subscription, added int, now time.Time) (*messages.BillingEvent, Lot) {
	lot := Lot{Quantity: added, AddedAt: now, ReducibleUntil: now.Add(time.Duration(s.CancelWindowHours) * time.Hour), Increase: true}
	p, _ := fullPeriod(s)
	before := increaseUsedDays(s, now)
	base := s.UnitPrice * int64(added)
	charge := billingEvent(s, messages.BillingReasonIncrease, "QTY-1", prorate(base, p-before, p))
	charge.Quantity = added
	charge.Proration = &messages.Proration{BaseMinor: base, UsedDays: before, UnusedDays: p - before, PeriodDays: p}
	return charge, lot
}

// lotCharge is what n licenses of a lot cost for the current billing
// period: the price of the days of the whole period not counted as used
// before the lot was added (lotUsedDays) — the full unit price for a lot
// that came with a full period, the prorated QTY-1 charge for a lot added
// during it, the ORD-9 or SUS-2 charge for the lot of a partial first
// period. Removing licenses takes lotCharge(before) - lotCharge(after)
// off PeriodCharge, so that the sum of the parts always equals what the
// lot was charged.
func lotCharge(s *Subscription, lot Lot, n int) int64 {
	p, _ := fullPeriod(s)
	return prorate(s.UnitPrice*int64(n), p-lotUsedDays(s, lot), p)
}

// lotCredit is QTY-2's credit for removing n licenses of one lot at now:
// the partner pays for every started day it held them (GEN-2) and gets
// the rest of what they were charged for the current period back.
//
//	before = days of the whole period counted as used before the lot was
//	         added (lotUsedDays; 0 for a lot that came with a full period)
//	held   = used_days(now - max(lot.AddedAt, period began)), at least 1
//	unused = max(full_days - before - held, 0)
//	credit = round_half_up(unit_price × n × unused / full_days)
//
// full_days are the whole billing period's (fullPeriod), also when the
// subscription covers only its tail. For a lot bought with the
// subscription or at renewal this is exactly the cancellation credit
// (CAN-1) of those licenses, and it never exceeds what the licenses were
// charged. Each lot gets its own billing.credit, rounded once (GEN-3), so
// that every credit's proration is exact and the credits add up to what
// was given back.
func lotCredit(s *Subscription, lot Lot, n int, now time.Time) *messages.BillingEvent {
	pr := lotProration(s, lot, n, now)
	credit := billingEvent(s, messages.BillingReasonDecrease, "QTY-2", prorate(pr.BaseMinor, pr.UnusedDays, pr.PeriodDays))
	credit.Quantity, credit.Proration = n, &pr
	return credit
}

// lotProration is the used and unused days of n licenses of one lot at now
// (see lotCredit).
func lotProration(s *Subscription, lot Lot, n int, now time.Time) messages.Proration {
	p, _ := fullPeriod(s)
	before := lotUsedDays(s, lot)
	from := lot.AddedAt
	if began := periodBegan(s); began.After(from) {
		from = began
	}
	used := min(before+usedDays(now.Sub(from)), p)
	return messages.Proration{BaseMinor: s.UnitPrice * int64(n), UsedDays: used, UnusedDays: p - used, PeriodDays: p}
}

// normalizedLots returns the subscription's lots adding up to its
// quantity. Licenses no lot accounts for (a subscription stored before
// lots existed) count as added when the current term's window opened;
// lots holding more than the quantity are trimmed from the oldest.
func normalizedLots(s *Subscription) []Lot {
	lots := make([]Lot, 0, len(s.Lots)+1)
	sum := 0
	for _, l := range s.Lots {
		if l.Quantity > 0 {
			lots = append(lots, l)
			sum += l.Quantity
		}
	}
	if sum < s.Quantity {
		lots = append([]Lot{{Quantity: s.Quantity - sum, AddedAt: s.WindowOpenedAt, ReducibleUntil: s.CancellableUntil}}, lots...)
	}
	for excess := sum - s.Quantity; excess > 0 && len(lots) > 0; {
		take := min(excess, lots[0].Quantity)
		lots[0].Quantity -= take
		excess -= take
		if lots[0].Quantity == 0 {
			lots = lots[1:]
		}
	}
	return lots
}

// compactLots drops empty lots and merges the oldest lots, as long as
// their window has closed at now and they came with the current billing
// period (added before it began to be used at began, or at that instant
// and not by an increase), into one: they can no longer be reduced, and
// every proration counts their days alike (lotUsedDays, lotProration), so
// their separate instants decide nothing and the stored list stays short.
// A lot added during the period keeps its own instant once closed (an
// upgrade still moves it and counts its days from then, UPG-4), and the
// lots keep their order (upgrades take the newest first). The merged lot
// keeps the oldest AddedAt and the latest ReducibleUntil.
func compactLots(lots []Lot, now, began time.Time) []Lot {
	out := make([]Lot, 0, len(lots))
	merging := true
	for _, l := range lots {
		if l.Quantity <= 0 {
			continue
		}
		withPeriod := l.AddedAt.Before(began) || l.AddedAt.Equal(began) && !l.Increase
		if !merging || l.ReducibleUntil.After(now) || !withPeriod {
			merging = false
			out = append(out, l)
			continue
		}
		if len(out) == 0 {
			out = append(out, l)
			continue
		}
		m := &out[0]
		m.Quantity += l.Quantity
		if l.AddedAt.Before(m.AddedAt) {
			m.AddedAt = l.AddedAt
		}
		if l.ReducibleUntil.After(m.ReducibleUntil) {
			m.ReducibleUntil = l.ReducibleUntil
		}
	}
	return out
}

func lotView(l Lot) messages.LotView {
	return messages.LotView{Quantity: l.Quantity, AddedAt: l.AddedAt, ReducibleUntil: l.ReducibleUntil}
}

func lotViews(lots []Lot) []messages.LotView {
	out := make([]messages.LotView, 0, len(lots))
	for _, l := range lots {
		out = append(out, lotView(l))
	}
	return out
}

// belowUpdateLimit is QTY-4: a subscription that reached the policy's
// max_subscription_updates accepts no further update (a quantity change or
// an upgrade that moves its licenses), and the rejection suggests a second
// subscription of the same SKU with the same term end.
func (d *decision) belowUpdateLimit(s *Subscription) bool {
	limit := d.in.Catalog.Policy.MaxSubscriptionUpdates
	if s.UpdateCount < limit {
		return true
	}
	d.reject(reject(CodeQuantityUpdateLimit, "QTY-4",
		fmt.Sprintf("subscription %s was updated %d times, the limit is %d; buy a second subscription of the same SKU (%s) for the extra licenses and align its term end with this one (%s)",
			s.ID, s.UpdateCount, limit, s.OfferID, formatDate(s.TermEnd)),
		map[string]string{"subscription_id": s.ID, "update_count": strconv.Itoa(s.UpdateCount),
			"max_updates": strconv.Itoa(limit), "offer_id": s.OfferID, "term_end": formatDate(s.TermEnd)}))
	return false
}
