package state

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// The timer index tells the scheduler which timers are due without
// scanning every customer. Timers themselves live in the customer's state
// hash and are written by the commit script; the index is written BEFORE
// that commit, so it is a superset of the live timers: an entry whose
// commit never happened, or whose timer was cancelled since, fires a
// timer.fired command that the rules answer with a no-op. A timer can
// therefore never be missed, only announced once too often, and the inbox
// makes that harmless (guarantee G7, README).
//
//	key                        type  contents
//	<prefix>:timers:{s<slot>}  zset  member = JSON TimerEntry, score = due (unix millis)
//
// One key per customer slot (bus.SlotOf, 0..1023, fixed for ever): the
// processor that owns a partition, a range of slots, fires its slots'
// timers, and on Redis Cluster the index spreads over 1,024 hash slots
// whatever the partition count. Versions before slots kept one key per
// partition, <prefix>:timers:{p<partition>}; MigrateTimerIndex moves
// what is left in those.

// TimerEntry is one indexed timer.
type TimerEntry struct {
	CustomerID     string    `json:"c"`
	TimerID        string    `json:"t"`
	Kind           string    `json:"k"`
	SubscriptionID string    `json:"s"`
	DueAt          time.Time `json:"d"`
}

func (s *Store) timerIndexKey(slot int) string {
	return s.prefix + ":timers:{s" + strconv.Itoa(slot) + "}"
}

func timerMember(e TimerEntry) (string, error) {
	e.DueAt = e.DueAt.UTC()
	b, err := json.Marshal(e)
	return string(b), err
}

// IndexTimers adds timers of a slot to the index (idempotent). Commit
// does it itself for Commit.Timers, in the same round trip where it can.
func (s *Store) IndexTimers(ctx context.Context, slot int, entries []TimerEntry) error {
	return s.indexTimersAt(ctx, s.timerIndexKey(slot), entries)
}

func (s *Store) indexTimersAt(ctx context.Context, key string, entries []TimerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	zs, err := timerZs(entries)
	if err != nil {
		return err
	}
	if err := s.rdb.ZAdd(ctx, key, zs...).Err(); err != nil {
		return fmt.Errorf("state: index %d timers in %s: %w", len(entries), key, err)
	}
	return nil
}

func timerZs(entries []TimerEntry) ([]redis.Z, error) {
	zs := make([]redis.Z, len(entries))
	for i, e := range entries {
		m, err := timerMember(e)
		if err != nil {
			return nil, err
		}
		zs[i] = redis.Z{Score: dueScore(e.DueAt), Member: m}
	}
	return zs, nil
}

// dueScore is a timer's score in an index: its due time in milliseconds,
// rounded up. Rounded down, a timer due inside a millisecond (a window
// that includes its last instant closes a nanosecond after it) would be
// found due at the millisecond's start, before it is; rounded up it is
// found by a query up to the same rounding of its instant, and dueBy
// drops what such a query returns that is due after the instant (also
// entries an older version scored by rounding down).
func dueScore(due time.Time) float64 {
	ms := due.UnixMilli()
	if due.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return float64(ms)
}

// dueBy keeps the entries due at or before upTo: the scores are in
// milliseconds, the due times in nanoseconds.
func dueBy(entries []TimerEntry, upTo time.Time) []TimerEntry {
	kept := entries[:0]
	for _, e := range entries {
		if !e.DueAt.After(upTo) {
			kept = append(kept, e)
		}
	}
	return kept
}

// DueTimers returns up to limit timers of a slot due at or before upTo,
// earliest first.
func (s *Store) DueTimers(ctx context.Context, slot int, upTo time.Time, limit int) ([]TimerEntry, error) {
	due, err := s.DueTimersOf(ctx, []int{slot}, upTo, limit)
	if err != nil {
		return nil, err
	}
	return due[0], nil
}

// DueTimersOf returns, for each of slots, up to limit timers due at or
// before upTo, earliest first; one round trip for all of them (a pipeline,
// which a cluster client splits per node).
func (s *Store) DueTimersOf(ctx context.Context, slots []int, upTo time.Time, limit int) ([][]TimerEntry, error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatFloat(dueScore(upTo), 'f', -1, 64), Count: int64(limit)}
	cmds := make([]*redis.StringSliceCmd, len(slots))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, slot := range slots {
			cmds[i] = p.ZRangeByScore(ctx, s.timerIndexKey(slot), by)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: due timers of %d slots: %w", len(slots), err)
	}
	out := make([][]TimerEntry, len(slots))
	for i, c := range cmds {
		entries, err := decodeTimerMembers(c.Val())
		if err != nil {
			return nil, err
		}
		out[i] = dueBy(entries, upTo)
	}
	return out, nil
}

func decodeTimerMembers(members []string) ([]TimerEntry, error) {
	out := make([]TimerEntry, 0, len(members))
	for _, m := range members {
		var e TimerEntry
		if err := json.Unmarshal([]byte(m), &e); err != nil {
			return nil, fmt.Errorf("state: timer index entry %q: %w", m, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// UnindexTimers removes fired timers of a slot from the index.
func (s *Store) UnindexTimers(ctx context.Context, slot int, entries []TimerEntry) error {
	return s.unindexAt(ctx, s.timerIndexKey(slot), entries)
}

func (s *Store) unindexAt(ctx context.Context, key string, entries []TimerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	members := make([]any, len(entries))
	for i, e := range entries {
		m, err := timerMember(e)
		if err != nil {
			return err
		}
		members[i] = m
	}
	return s.rdb.ZRem(ctx, key, members...).Err()
}

// Applied reports whether a command was applied: it is in the customer's
// inbox, or only its compact record remains.
func (s *Store) Applied(ctx context.Context, customerID, commandID string) (bool, error) {
	if err := checkCustomerID(customerID); err != nil {
		return false, err
	}
	ok, err := s.rdb.HExists(ctx, s.inboxKey(customerID), commandID).Result()
	if err != nil || ok {
		return ok, err
	}
	err = s.rdb.ZScore(ctx, s.appliedKey(customerID), commandID).Err()
	if err == redis.Nil {
		return false, nil
	}
	return err == nil, err
}

// StateField returns one stored entity field of a customer (ok false when
// the customer has no such field).
func (s *Store) StateField(ctx context.Context, customerID, field string) ([]byte, bool, error) {
	if err := checkCustomerID(customerID); err != nil {
		return nil, false, err
	}
	b, err := s.rdb.HGet(ctx, s.stateKey(customerID), field).Bytes()
	if err == redis.Nil {
		return nil, false, nil
	}
	return b, err == nil, err
}

// SimClock returns the simulated time persisted by a processor in
// simulation mode (zero when never set).
func (s *Store) SimClock(ctx context.Context) (time.Time, error) {
	v, err := s.rdb.HGet(ctx, s.prefix+":simclock", "t").Result()
	if err == redis.Nil {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v)
}

// SetSimClock persists the simulated time so a restarted processor resumes
// from it. The clock never moves backwards.
func (s *Store) SetSimClock(ctx context.Context, t time.Time) (time.Time, error) {
	v, err := setSimClock.Run(ctx, s.rdb, []string{s.prefix + ":simclock"}, t.UTC().Format(time.RFC3339Nano), clockNanos(t)).Result()
	if err != nil {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339Nano, v.(string))
}

// clockNanos is a clock instant as the clock scripts compare it: unix
// nanoseconds in 20 digits, zero-padded, so that comparing the strings
// compares the instants exactly. As Lua numbers (doubles) they would be
// exact only to a few hundred nanoseconds, and a clock asked to move a
// nanosecond (to a window that closes just after its last instant) would
// stay where it is. Simulated instants are after 1970.
func clockNanos(t time.Time) string { return fmt.Sprintf("%020d", max(t.UnixNano(), 0)) }

// setSimClock moves the simulated clock (or a test clock) forward only.
// Both fields live in one hash so a single key (one slot) holds the clock.
//
// KEYS[1] -> <prefix>:simclock   hash: "t" = RFC 3339 time, "ns" = unix nanoseconds (clockNanos)
// ARGV[1] -> new time, RFC 3339
// ARGV[2] -> new time, clockNanos; a stored "ns" of fewer digits (written
// unpadded by an earlier version) is padded before the comparison
// Returns the clock after the call, RFC 3339.
var setSimClock = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'ns')
if cur and (string.rep('0', 20 - #cur) .. cur) >= ARGV[2] then
  return redis.call('HGET', KEYS[1], 't')
end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'ns', ARGV[2])
return ARGV[1]
`)
