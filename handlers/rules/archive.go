package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
)

// Tombstone is what stays in the hot path of an archived entity: what the
// rules need to answer a command that names it exactly as they answered
// while it was live (PTN-1, CAN-2, SUS-3, GEN-5, CAN-4, ORD-1, TRF-1,
// TRF-3). The full entity is in the archive until the archive retention
// trims it; the tombstone stays with the customer.
type Tombstone struct {
	// Kind is "subscription", "order" or "transfer".
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// PartnerID is a subscription's partner of record, an order's placing
	// partner.
	PartnerID string    `json:"partner_id,omitempty"`
	Status    string    `json:"status"`
	ClosedAt  time.Time `json:"closed_at"`

	// Subscription.
	OfferID      string     `json:"offer_id,omitempty"`
	OfferName    string     `json:"offer_name,omitempty"`
	OrderID      string     `json:"order_id,omitempty"`
	CommerceType string     `json:"commerce_type,omitempty"`
	TermEnd      time.Time  `json:"term_end,omitzero"`
	CancelledAt  *time.Time `json:"cancelled_at,omitempty"`
	// Software is set for software: perpetual, and when its keys were
	// revoked (CAN-4).
	Software *TombSoftware `json:"software,omitempty"`
	// Reservation marks a reservation (GEN-5).
	Reservation bool `json:"reservation,omitempty"`

	// Order.
	CommandID string    `json:"command_id,omitempty"`
	PlacedAt  time.Time `json:"placed_at,omitzero"`
	// SoftwareItems are the tombstones of the order's software
	// subscriptions, in line order: software.cancel names the order and
	// answers from them (they are closed before the order leaves, so
	// they no longer change).
	SoftwareItems []*Tombstone `json:"software_items,omitempty"`

	// Transfer.
	SourcePartnerID string `json:"source_partner_id,omitempty"`
	TargetPartnerID string `json:"target_partner_id,omitempty"`
}

// TombSoftware is a software subscription's part of its tombstone.
type TombSoftware struct {
	Perpetual   bool       `json:"perpetual,omitempty"`
	PurchasedAt time.Time  `json:"purchased_at"`
	Until       time.Time  `json:"cancellable_until"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Tombstone kinds.
const (
	tombSubscription = "subscription"
	tombOrder        = "order"
	tombTransfer     = "transfer"
)

// Archived is one entity a decision moves out of the hot state: its stored
// field name, the entity as it was (the archive record) and its
// tombstone.
type Archived struct {
	Field     string
	Entity    any
	Tombstone *Tombstone
}

// EncodeArchived encodes the archive records and tombstones of a decision,
// by field name.
func EncodeArchived(list []Archived) (records, tombs map[string][]byte, err error) {
	if len(list) == 0 {
		return nil, nil, nil
	}
	records, tombs = make(map[string][]byte, len(list)), make(map[string][]byte, len(list))
	for _, a := range list {
		if records[a.Field], err = json.Marshal(a.Entity); err != nil {
			return nil, nil, fmt.Errorf("archive %s: %w", a.Field, err)
		}
		if tombs[a.Field], err = json.Marshal(a.Tombstone); err != nil {
			return nil, nil, fmt.Errorf("tombstone %s: %w", a.Field, err)
		}
	}
	return records, tombs, nil
}

// DecodeTombstones decodes stored tombstones by field name.
func DecodeTombstones(fields map[string][]byte) (map[string]*Tombstone, error) {
	if len(fields) == 0 {
		return nil, nil
	}
	out := make(map[string]*Tombstone, len(fields))
	for k, v := range fields {
		t := &Tombstone{}
		if err := json.Unmarshal(v, t); err != nil {
			return nil, fmt.Errorf("tombstone %q: %w", k, err)
		}
		out[k] = t
	}
	return out, nil
}

func subscriptionTomb(s *Subscription) *Tombstone {
	t := &Tombstone{Kind: tombSubscription, ID: s.ID, PartnerID: s.PartnerID, Status: s.Status, ClosedAt: closedAt(s),
		OfferID: s.OfferID, OfferName: s.OfferName, OrderID: s.OrderID, CommerceType: s.CommerceType,
		TermEnd: s.TermEnd, CancelledAt: s.CancelledAt, Reservation: s.Reservation != nil}
	if sw := s.Software; sw != nil {
		t.Software = &TombSoftware{Perpetual: sw.Perpetual, PurchasedAt: sw.PurchasedAt, Until: sw.CancellableUntil, RevokedAt: sw.RevokedAt}
	}
	return t
}

// subscription is the closed subscription a tombstone stands for, with
// the fields the rules read on the way to their rejection of it; it is
// never stored.
func (t *Tombstone) subscription() *Subscription {
	s := &Subscription{ID: t.ID, PartnerID: t.PartnerID, Status: t.Status, OfferID: t.OfferID, OfferName: t.OfferName,
		OrderID: t.OrderID, CommerceType: t.CommerceType, TermEnd: t.TermEnd, CancelledAt: t.CancelledAt}
	if t.Status == StatusExpired {
		at := t.ClosedAt
		s.ExpiredAt = &at
	}
	if sw := t.Software; sw != nil {
		s.Software = &SoftwareState{Perpetual: sw.Perpetual, PurchasedAt: sw.PurchasedAt, CancellableUntil: sw.Until, RevokedAt: sw.RevokedAt}
	}
	if t.Reservation {
		s.Reservation = &ReservationState{}
	}
	return s
}

// tombSubscription is the archived subscription a command names, as the
// rules read it, or nil.
func (st CustomerState) tombSubscription(id string) *Subscription {
	if t := st.Tombstones[SubscriptionField(id)]; t != nil && t.Kind == tombSubscription {
		return t.subscription()
	}
	return nil
}

// tombOrder is the archived order a command names, or nil: its lines are
// its software items (the only lines a rule reads of an archived order).
func (st CustomerState) tombOrder(id string) *Order {
	t := st.Tombstones[OrderField(id)]
	if t == nil || t.Kind != tombOrder {
		return nil
	}
	o := &Order{ID: t.ID, CommandID: t.CommandID, PartnerID: t.PartnerID, PlacedAt: t.PlacedAt, Status: t.Status}
	for _, it := range t.SoftwareItems {
		o.Lines = append(o.Lines, OrderLineRecord{SubscriptionID: it.ID, Status: "fulfilled"})
	}
	return o
}

// orderSoftware is a software item of an archived order.
func (st CustomerState) orderSoftware(orderID, subID string) *Subscription {
	t := st.Tombstones[OrderField(orderID)]
	if t == nil {
		return nil
	}
	for _, it := range t.SoftwareItems {
		if it.ID == subID {
			return it.subscription()
		}
	}
	return nil
}

// tombTransfer is the archived transfer a command names, or nil.
func (st CustomerState) tombTransfer(id string) *Transfer {
	t := st.Tombstones[TransferField(id)]
	if t == nil || t.Kind != tombTransfer {
		return nil
	}
	return &Transfer{ID: t.ID, Status: t.Status, SourcePartnerID: t.SourcePartnerID, TargetPartnerID: t.TargetPartnerID,
		RequestCommandID: t.CommandID}
}

// sweepArchive moves every closed entity past its horizon (retention.go)
// out of the outcome's state into out.Archived, and sets an archive timer
// at the horizon of each closed entity not yet past it. It changes no
// money and emits nothing: what leaves is closed, and what the rules still
// read of it is in its tombstone.
func sweepArchive(out *Outcome, now time.Time, pol catalog.Policy) {
	st := out.State
	named := namedSubscriptions(st)
	subH := map[string]time.Time{}
	leaving := map[string]bool{} // fields
	for _, s := range st.sortedSubscriptions() {
		h, ok := subscriptionHorizon(s, pol)
		if !ok || named.parked[s.ID] {
			continue
		}
		if due, ok := named.timers[s.ID]; ok {
			h = later(h, due)
		}
		subH[s.ID] = h
		if !h.After(now) {
			leaving[SubscriptionField(s.ID)] = true
		}
	}
	orderH := map[string]time.Time{}
	for id, o := range st.Orders {
		h, ok := orderHorizon(o, pol)
		if !ok || !st.softwareClosed(o) {
			continue
		}
		orderH[id] = h
		if !h.After(now) {
			leaving[OrderField(id)] = true
		}
	}
	// A subscription another one still names stays with it; software stays
	// with its order. Repeat until nothing more is held back.
	for changed := true; changed; {
		changed = false
		for _, s := range st.Subscriptions {
			f := SubscriptionField(s.ID)
			if !leaving[f] {
				continue
			}
			held := s.Software != nil && st.Orders[s.OrderID] != nil && !leaving[OrderField(s.OrderID)]
			for _, ref := range named.by[s.ID] {
				held = held || !leaving[SubscriptionField(ref)]
			}
			if held {
				delete(leaving, f)
				changed = true
			}
		}
	}
	transferH := map[string]time.Time{}
	for id, t := range st.Transfers {
		h, ok := transferHorizon(t, pol)
		if !ok {
			continue
		}
		if tm := st.Timers[t.ExpiryTimerID]; tm != nil {
			h = later(h, tm.DueAt)
		}
		transferH[id] = h
		if !h.After(now) {
			leaving[TransferField(id)] = true
		}
	}

	// One archive timer per customer, at the earliest horizon still
	// ahead: when it fires, the sweep archives what is due and sets the
	// next one.
	var next time.Time
	pending := func(f string, h time.Time) {
		if !leaving[f] && h.After(now) && (next.IsZero() || h.Before(next)) {
			next = h
		}
	}
	for id, h := range subH {
		pending(SubscriptionField(id), h)
	}
	for id, h := range orderH {
		pending(OrderField(id), h)
	}
	for id, h := range transferH {
		pending(TransferField(id), h)
	}
	var stale []string
	for id, t := range st.Timers {
		if t.Kind != TimerArchive {
			continue
		}
		if !next.IsZero() && t.DueAt.Equal(next) {
			next = time.Time{} // already set
			continue
		}
		stale = append(stale, id)
	}
	if len(leaving) == 0 && next.IsZero() && len(stale) == 0 {
		return
	}

	st = st.clone()
	d := decision{state: st}
	sort.Strings(stale)
	for _, id := range stale {
		d.deleteTimer(id)
	}
	if !next.IsZero() {
		partner := ""
		if st.Customer != nil {
			partner = st.Customer.PartnerID
		}
		d.setTimer(&Timer{ID: fmt.Sprintf("T.%s.%d", TimerArchive, next.UnixNano()), Kind: TimerArchive, PartnerID: partner, DueAt: next})
	}
	var archived []Archived
	for _, f := range slices.Sorted(maps.Keys(leaving)) {
		archived = append(archived, st.archive(f))
	}
	if st.Tombstones == nil {
		st.Tombstones = map[string]*Tombstone{}
	} else {
		st.Tombstones = cloneMap(st.Tombstones)
	}
	for _, a := range archived {
		st.Tombstones[a.Field] = a.Tombstone
	}
	out.State = st
	drop := func(list []string) []string {
		return slices.DeleteFunc(list, func(f string) bool { return leaving[f] })
	}
	out.Changed = append(drop(out.Changed), d.changed...)
	out.Deleted = append(drop(out.Deleted), d.deleted...)
	out.TimersSet = append(out.TimersSet, d.timersSet...)
	out.Archived = append(out.Archived, archived...)
}

// archive removes the entity of field from the state (a clone) and
// returns its record and tombstone.
func (st CustomerState) archive(f string) Archived {
	switch {
	case strings.HasPrefix(f, fieldSubPrefix):
		s := st.Subscriptions[strings.TrimPrefix(f, fieldSubPrefix)]
		delete(st.Subscriptions, s.ID)
		return Archived{Field: f, Entity: s, Tombstone: subscriptionTomb(s)}
	case strings.HasPrefix(f, fieldOrderPrefix):
		o := st.Orders[strings.TrimPrefix(f, fieldOrderPrefix)]
		delete(st.Orders, o.ID)
		t := &Tombstone{Kind: tombOrder, ID: o.ID, PartnerID: o.PartnerID, Status: o.Status, ClosedAt: o.PlacedAt,
			CommandID: o.CommandID, PlacedAt: o.PlacedAt}
		for _, l := range o.Lines {
			s := st.Subscriptions[l.SubscriptionID]
			if s == nil {
				s = st.tombSubscription(l.SubscriptionID)
			}
			if s != nil && s.Software != nil {
				t.SoftwareItems = append(t.SoftwareItems, subscriptionTomb(s))
			}
		}
		return Archived{Field: f, Entity: o, Tombstone: t}
	default:
		tr := st.Transfers[strings.TrimPrefix(f, fieldTransferPrefix)]
		delete(st.Transfers, tr.ID)
		closed, _ := transferClosedAt(tr)
		return Archived{Field: f, Entity: tr, Tombstone: &Tombstone{Kind: tombTransfer, ID: tr.ID, Status: tr.Status, ClosedAt: closed,
			SourcePartnerID: tr.SourcePartnerID, TargetPartnerID: tr.TargetPartnerID, CommandID: tr.RequestCommandID}}
	}
}

// softwareClosed reports whether every software subscription of an order
// is closed (cancelled or expired, or already archived).
func (st CustomerState) softwareClosed(o *Order) bool {
	for _, l := range o.Lines {
		if s := st.Subscriptions[l.SubscriptionID]; s != nil && s.Software != nil && s.Status != StatusCancelled && s.Status != StatusExpired {
			return false
		}
	}
	return true
}

// names are the references the sweep must respect.
type names struct {
	timers map[string]time.Time // subscription ID -> latest due time of a live timer naming it (archive timers aside)
	parked map[string]bool      // subscriptions a parked command names
	by     map[string][]string  // subscription ID -> the subscriptions that name it (base, trial conversion target)
}

func namedSubscriptions(st CustomerState) names {
	n := names{timers: map[string]time.Time{}, parked: map[string]bool{}, by: map[string][]string{}}
	for _, t := range st.Timers {
		if t.Kind == TimerArchive || t.SubscriptionID == "" {
			continue
		}
		n.timers[t.SubscriptionID] = later(n.timers[t.SubscriptionID], t.DueAt)
	}
	for _, p := range st.Parked {
		n.parked[p.SubscriptionID] = true
	}
	for _, s := range st.Subscriptions {
		if s.BaseSubscriptionID != "" {
			n.by[s.BaseSubscriptionID] = append(n.by[s.BaseSubscriptionID], s.ID)
		}
		if c := s.TrialConversion; c != nil && c.TargetSubscriptionID != "" {
			n.by[c.TargetSubscriptionID] = append(n.by[c.TargetSubscriptionID], s.ID)
		}
	}
	return n
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// closedAt is when a closed subscription was cancelled or expired (its
// term's end when it was stored without the instant).
func closedAt(s *Subscription) time.Time {
	switch {
	case s.Status == StatusCancelled && s.CancelledAt != nil:
		return *s.CancelledAt
	case s.Status == StatusExpired && s.ExpiredAt != nil:
		return *s.ExpiredAt
	}
	return s.termEndsAt()
}
