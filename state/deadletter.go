package state

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// deadKey is <prefix>:{<customerID>}:dead, a hash of command ID -> the time
// (RFC 3339) the processor set the command aside. It is not part of the
// customer's state: a command is dead-lettered exactly when its commit could
// not be made, so this small key, written outside the commit script, is the
// only trace of it in Redis.
func (s *Store) deadKey(customerID string) string { return s.customerKey(customerID, "dead") }

// markDead records a dead-lettered command and keeps the hash for the inbox
// retention after the last one.
//
// KEYS[1] -> <prefix>:{<customerID>}:dead
// ARGV[1] -> command ID, ARGV[2] -> time, ARGV[3] -> retention in ms
var markDead = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

// MarkDeadLettered records that the processor gave up on commandID of
// customerID and dead-lettered it (after it was published to the
// dead-letter stream). The scheduler counts such a command as settled, so a
// simulated clock move does not wait for a command that will never be
// applied; a redelivery of it is acked without more attempts. The record is
// kept as long as the inbox keeps applied commands.
func (s *Store) MarkDeadLettered(ctx context.Context, customerID, commandID string, at time.Time) error {
	if err := checkCustomerID(customerID); err != nil {
		return err
	}
	return markDead.Run(ctx, s.rdb, []string{s.deadKey(customerID)},
		commandID, at.UTC().Format(time.RFC3339Nano), s.retention.Milliseconds()).Err()
}

// DeadLettered reports whether MarkDeadLettered recorded commandID of
// customerID.
func (s *Store) DeadLettered(ctx context.Context, customerID, commandID string) (bool, error) {
	if err := checkCustomerID(customerID); err != nil {
		return false, err
	}
	return s.rdb.HExists(ctx, s.deadKey(customerID), commandID).Result()
}

// ClearDeadLettered forgets that commandID of customerID was set aside,
// before an operator's replay publishes it again: a replay that fails again
// must get its MaxAttempts and a new dead letter, not be acked as a
// redelivery of a command already set aside.
func (s *Store) ClearDeadLettered(ctx context.Context, customerID, commandID string) error {
	if err := checkCustomerID(customerID); err != nil {
		return err
	}
	return s.rdb.HDel(ctx, s.deadKey(customerID), commandID).Err()
}

// DeadLetteredCommands lists the commands of customerID that are recorded
// as set aside, with when.
func (s *Store) DeadLetteredCommands(ctx context.Context, customerID string) (map[string]time.Time, error) {
	if err := checkCustomerID(customerID); err != nil {
		return nil, err
	}
	m, err := s.rdb.HGetAll(ctx, s.deadKey(customerID)).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(m))
	for id, at := range m {
		t, _ := time.Parse(time.RFC3339Nano, at)
		out[id] = t
	}
	return out, nil
}
