package handlers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/state"
)

// The software activity log (SW-2) is stored outside the customer's state,
// as the list the commit appends to (state/activity.go); these translate
// between its records and the rules' entries.

// activityRecords encodes a decision's activity log entries for the commit.
func activityRecords(entries []rules.ActivityEntry) ([]state.ActivityRecord, error) {
	out := make([]state.ActivityRecord, len(entries))
	for i, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode activity entry: %w", err)
		}
		out[i] = state.ActivityRecord{At: e.At, Entry: b}
	}
	return out, nil
}

// activityAttempts bounds the reads of state and log until both are of one
// version (loadCustomerActivity).
const activityAttempts = 3

// loadCustomerActivity reads a customer's state and activity log, both of
// the same version: a log still kept in the state by an earlier version
// moves to the list with a commit, and read across that commit it would
// be counted twice or not at all. After activityAttempts reads that a
// commit came between each time, the last is answered.
func loadCustomerActivity(ctx context.Context, store *state.Store, customerID string) (state.Snapshot, rules.CustomerState, rules.ActivityLog, error) {
	for attempt := 1; ; attempt++ {
		snap, st, err := loadCustomerState(ctx, store, customerID)
		if err != nil {
			return snap, st, rules.ActivityLog{}, err
		}
		stored, err := store.Activity(ctx, customerID)
		if err != nil {
			return snap, st, rules.ActivityLog{}, err
		}
		if stored.Version != snap.Version && attempt < activityAttempts {
			continue
		}
		log := rules.ActivityLog{Entries: make([]rules.ActivityEntry, len(stored.Records))}
		for i, r := range stored.Records {
			if err := json.Unmarshal(r.Entry, &log.Entries[i]); err != nil {
				return snap, st, rules.ActivityLog{}, &stateUndecodable{fmt.Errorf("customer %s: activity entry %d: %w", customerID, i, err)}
			}
		}
		if t := stored.TrimmedThrough; !t.IsZero() {
			log.TrimmedThrough = &t
		}
		return snap, st, log, nil
	}
}
