package state

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test clocks (simulation mode): a simulated time of its own for the
// customers attached to it, and the index of those customers' timers, so
// that only the clock's advances fire them and the global simulated clock,
// which reads the slot indexes, never does.
//
//	key                               type  contents
//	<prefix>:testclock:{<id>}         hash  "t" = RFC 3339 time, "ns" = unix nanoseconds (clockNanos)
//	<prefix>:testclock:{<id>}:timers  zset  as <prefix>:timers:{s<slot>} (timer_index.go)
//
// Both keys share a hash tag, so on Redis Cluster one node holds a clock.

func (s *Store) testClockKey(id string) string { return s.prefix + ":testclock:{" + id + "}" }

func (s *Store) testClockTimersKey(id string) string { return s.testClockKey(id) + ":timers" }

// commitIndexKey is the timer index a commit's timers go to.
func (s *Store) commitIndexKey(c Commit) string {
	if c.TestClock != "" {
		return s.testClockTimersKey(c.TestClock)
	}
	return s.timerIndexKey(c.Slot)
}

// TestClock returns a test clock's time (ok false: no such clock).
func (s *Store) TestClock(ctx context.Context, id string) (time.Time, bool, error) {
	v, err := s.rdb.HGet(ctx, s.testClockKey(id), "t").Result()
	if err == redis.Nil {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("state: test clock %s: %w", id, err)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil, err
}

// CreateTestClock creates a test clock at t unless it exists; it returns
// the clock's time after the call, and whether this call created it.
func (s *Store) CreateTestClock(ctx context.Context, id string, t time.Time) (time.Time, bool, error) {
	v, err := createTestClock.Run(ctx, s.rdb, []string{s.testClockKey(id)}, t.UTC().Format(time.RFC3339Nano), clockNanos(t)).Slice()
	if err != nil || len(v) != 2 {
		return time.Time{}, false, fmt.Errorf("state: create test clock %s: %v %w", id, v, err)
	}
	created, _ := v[0].(int64)
	str, _ := v[1].(string)
	now, err := time.Parse(time.RFC3339Nano, str)
	return now, created == 1, err
}

// createTestClock sets both fields of a clock in one step, only if it has
// none. Returns {1 if created, the clock's time}.
var createTestClock = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 't')
if cur then
  return {0, cur}
end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'ns', ARGV[2])
return {1, ARGV[1]}
`)

// SetTestClock moves an existing test clock forward to t (never back: the
// same script as the global clock) and returns its time after the call.
func (s *Store) SetTestClock(ctx context.Context, id string, t time.Time) (time.Time, error) {
	v, err := setSimClock.Run(ctx, s.rdb, []string{s.testClockKey(id)}, t.UTC().Format(time.RFC3339Nano), clockNanos(t)).Result()
	if err != nil {
		return time.Time{}, fmt.Errorf("state: move test clock %s: %w", id, err)
	}
	return time.Parse(time.RFC3339Nano, v.(string))
}

// DueTestClockTimers returns up to limit timers of a test clock's
// customers due at or before upTo, earliest first.
func (s *Store) DueTestClockTimers(ctx context.Context, id string, upTo time.Time, limit int) ([]TimerEntry, error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatFloat(dueScore(upTo), 'f', -1, 64), Count: int64(limit)}
	members, err := s.rdb.ZRangeByScore(ctx, s.testClockTimersKey(id), by).Result()
	if err != nil {
		return nil, fmt.Errorf("state: due timers of test clock %s: %w", id, err)
	}
	entries, err := decodeTimerMembers(members)
	if err != nil {
		return nil, err
	}
	return dueBy(entries, upTo), nil
}

// UnindexTestClockTimers removes fired timers from a test clock's index.
func (s *Store) UnindexTestClockTimers(ctx context.Context, id string, entries []TimerEntry) error {
	return s.unindexAt(ctx, s.testClockTimersKey(id), entries)
}
