package rules

import (
	"fmt"
	"sort"
	"time"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
)

// The software activity log (SW-2) lives outside the customer's state, so
// that no command decodes or rewrites it: a decision only returns the
// entries it adds (Outcome.ActivityAppended), and the handler appends them
// to the customer's activity list with the commit, which trims the list.
// No rule reads the log to decide; only the software_activity query and
// the operator's view read it (ActivityLog).
//
// Decisions:
//   - The log keeps the policy's activity_log_max_entries most recent
//     entries (a catalog that sells no software sets none: then the
//     catalog's maximum), and the time of the newest entry it dropped, so
//     the query can say that entries at or before it may be missing
//     (DroppedThrough). Earlier versions kept the log in the state, its
//     marker taking one of the places; the list keeps that many entries
//     besides the marker.
//   - A log an earlier version kept in the state (field activity) moves to
//     the list with the customer's next commit, whatever the command, even
//     a rejected one: its entries are appended before the decision's own,
//     its marker's time carried over, and the field deleted. Until then
//     the query reads it together with the list.

// ActivityLog is a customer's software activity log as stored outside its
// state: its entries, oldest first, and the newest time of an entry it
// dropped (nil when none was dropped).
type ActivityLog struct {
	Entries        []ActivityEntry
	TrimmedThrough *time.Time
}

// recordActivity adds an entry to the customer's activity log (SW-2).
func (d *decision) recordActivity(s *Subscription, user, kind, linkID string) {
	d.activity = append(d.activity, ActivityEntry{At: d.in.Now, PartnerID: d.in.PartnerID, User: user, Kind: kind,
		SubscriptionID: s.ID, OfferID: s.OfferID, LinkID: linkID})
}

// activityLogMax is how many entries the log keeps.
func activityLogMax(cat *catalog.Catalog) int {
	if cat == nil || cat.Policy.Software.ActivityLogMaxEntries < 1 {
		return catalog.MaxActivityLogEntries
	}
	return cat.Policy.Software.ActivityLogMaxEntries
}

// appendActivity adds a later decision's log entries to an outcome's.
func (o *Outcome) appendActivity(later Outcome) {
	if len(later.ActivityAppended) == 0 {
		return
	}
	o.ActivityAppended = append(o.ActivityAppended, later.ActivityAppended...)
	o.ActivityLogMax = later.ActivityLogMax
}

// splitLegacyActivity separates a log kept in the state by an earlier
// version into its entries and its marker's time (nil: none).
func splitLegacyActivity(legacy []ActivityEntry) ([]ActivityEntry, *time.Time) {
	var entries []ActivityEntry
	var through *time.Time
	for _, e := range legacy {
		if e.Kind != ActivityTrimmed {
			entries = append(entries, e)
			continue
		}
		if at := e.At; through == nil || at.After(*through) {
			through = &at
		}
	}
	return entries, through
}

// moveLegacyActivity moves a log kept in the state into the outcome's
// appended entries, ahead of the decision's own, and deletes its field.
func moveLegacyActivity(out *Outcome, cat *catalog.Catalog) {
	if len(out.State.LegacyActivity) == 0 {
		return
	}
	entries, through := splitLegacyActivity(out.State.LegacyActivity)
	out.ActivityAppended = append(entries, out.ActivityAppended...)
	out.ActivityTrimmedThrough = through
	out.ActivityLogMax = activityLogMax(cat)
	out.State.LegacyActivity = nil
	out.Deleted = append(out.Deleted, fieldActivity)
}

// QuerySoftwareActivity is SW-2's activity log: the acting partner's key
// accesses and downloads of the customer's software with from <= at < to,
// oldest first (PTN-1: only a partner with a relationship, only its own
// entries). DroppedThrough is set when entries at or before it may have
// been dropped from the log. The log is the stored one, read together
// with one an earlier version kept in the state and not yet moved.
func QuerySoftwareActivity(st CustomerState, log ActivityLog, partnerID, customerID string, from, to time.Time) (*messages.SoftwareActivity, *messages.Rejection) {
	if !st.Customer.HasRelationship(partnerID) {
		return nil, reject(CodeNoRelationship, "PTN-1", fmt.Sprintf("partner %s has no relationship with customer %s", partnerID, customerID),
			map[string]string{"partner_id": partnerID, "customer_id": customerID})
	}
	from, to = from.UTC(), to.UTC()
	v := &messages.SoftwareActivity{From: from, To: to, Entries: []messages.SoftwareActivityEntry{}}
	legacy, through := splitLegacyActivity(st.LegacyActivity)
	if t := log.TrimmedThrough; t != nil && (through == nil || t.After(*through)) {
		through = t
	}
	if through != nil {
		at := through.UTC()
		v.DroppedThrough = &at
	}
	for _, e := range append(legacy, log.Entries...) {
		if e.PartnerID != partnerID || e.At.Before(from) || !e.At.Before(to) {
			continue
		}
		v.Entries = append(v.Entries, messages.SoftwareActivityEntry{At: e.At, User: e.User, Kind: e.Kind,
			SubscriptionID: e.SubscriptionID, OfferID: e.OfferID, LinkID: e.LinkID})
	}
	sort.SliceStable(v.Entries, func(i, j int) bool { return v.Entries[i].At.Before(v.Entries[j].At) })
	return v, nil
}
