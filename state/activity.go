package state

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The software activity log of a customer lives outside its state hash, in
// the list <prefix>:{<customerID>}:activity, so that a command does not
// load and rewrite it whole: commitCmd appends a commit's entries
// (Commit.Activity) and trims the list to Commit.ActivityMax, atomically
// with the rest of the commit. Each element is the entry's instant, UTC
// with nine fractional digits (activityAtLen bytes, so that two of them
// compare as strings in the order of time), one space, then the entry's
// bytes, which the store does not read. The state hash's field
// activity_trimmed (activityTrimmedField) holds the newest instant of any
// element trimmed away, in the same format: entries at or before it may be
// missing.

// activityTrimmedField is the state hash field holding the newest instant
// trimmed from the activity list. Like versionField it is no entity field:
// Load leaves it out and commits may not set it.
const activityTrimmedField = "activity_trimmed"

// activityAtFormat formats an activity element's instant at a fixed width.
const activityAtFormat = "2006-01-02T15:04:05.000000000Z"

// activityAtLen is the width of an instant in activityAtFormat.
const activityAtLen = len(activityAtFormat)

// ActivityRecord is one element of a customer's activity list.
type ActivityRecord struct {
	At    time.Time
	Entry []byte
}

// ActivityLog is a customer's activity list as Activity read it.
type ActivityLog struct {
	Records []ActivityRecord // oldest first
	// TrimmedThrough is the newest instant of a record trimmed from the
	// list (zero when none was): records at or before it may be missing.
	TrimmedThrough time.Time
	// Version is the customer's version when the list was read, to match
	// it with a Snapshot read apart.
	Version int64
}

func (s *Store) activityKey(customerID string) string { return s.customerKey(customerID, "activity") }

// encodeActivity is a record as a list element.
func encodeActivity(r ActivityRecord) string {
	return r.At.UTC().Format(activityAtFormat) + " " + string(r.Entry)
}

// parseActivityAt reads an instant of the list's format.
func parseActivityAt(s string) (time.Time, error) {
	return time.Parse(activityAtFormat, s)
}

// decodeActivity reads a list element.
func decodeActivity(el string) (ActivityRecord, error) {
	if len(el) < activityAtLen+1 || el[activityAtLen] != ' ' {
		return ActivityRecord{}, fmt.Errorf("activity element %.40q: not <instant> <entry>", el)
	}
	at, err := parseActivityAt(el[:activityAtLen])
	if err != nil {
		return ActivityRecord{}, fmt.Errorf("activity element %.40q: %w", el, err)
	}
	return ActivityRecord{At: at, Entry: []byte(el[activityAtLen+1:])}, nil
}

// Activity reads a customer's activity list and how far it was trimmed,
// both from one instant (MULTI: the two keys share the customer's slot).
func (s *Store) Activity(ctx context.Context, customerID string) (ActivityLog, error) {
	if err := checkCustomerID(customerID); err != nil {
		return ActivityLog{}, err
	}
	var list *redis.StringSliceCmd
	var fields *redis.SliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		list = p.LRange(ctx, s.activityKey(customerID), 0, -1)
		fields = p.HMGet(ctx, s.stateKey(customerID), activityTrimmedField, versionField)
		return nil
	})
	if err != nil {
		return ActivityLog{}, fmt.Errorf("state: activity of %s: %w", customerID, err)
	}
	var log ActivityLog
	f := fields.Val()
	if t, ok := f[0].(string); ok {
		if log.TrimmedThrough, err = parseActivityAt(t); err != nil {
			return ActivityLog{}, fmt.Errorf("state: activity of %s: %s: %w", customerID, activityTrimmedField, err)
		}
	}
	if v, ok := f[1].(string); ok {
		if log.Version, err = strconv.ParseInt(v, 10, 64); err != nil {
			return ActivityLog{}, fmt.Errorf("state: activity of %s: version %q: %w", customerID, v, err)
		}
	}
	els, err := list.Result()
	if err != nil {
		return ActivityLog{}, fmt.Errorf("state: activity of %s: %w", customerID, err)
	}
	log.Records = make([]ActivityRecord, len(els))
	for i, el := range els {
		if log.Records[i], err = decodeActivity(el); err != nil {
			return ActivityLog{}, fmt.Errorf("state: activity of %s: %w", customerID, err)
		}
	}
	return log, nil
}

// appendActivityArgs appends commitCmd's activity block.
func (c *Commit) appendActivityArgs(args []interface{}) []interface{} {
	seed := ""
	if !c.ActivityTrimmedThrough.IsZero() {
		seed = c.ActivityTrimmedThrough.UTC().Format(activityAtFormat)
	}
	args = append(args, len(c.Activity), c.ActivityMax, seed)
	for _, r := range c.Activity {
		args = append(args, encodeActivity(r))
	}
	return args
}
