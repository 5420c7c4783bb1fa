package state

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// TimerSlots is the number of timer index keys, one per customer slot; it
// equals bus.Slots (a test in handlers checks it).
const TimerSlots = 1024

// oldTimerIndexKey is the per-partition index key of versions before slots.
func (s *Store) oldTimerIndexKey(partition int) string {
	return s.prefix + ":timers:{p" + strconv.Itoa(partition) + "}"
}

// migrateBatch bounds the entries moved per round trip.
const migrateBatch = 512

// MigrateTimerIndex moves every entry of the per-partition timer index
// keys of earlier versions (<prefix>:timers:{p<N>}, N < TimerSlots) into
// the per-slot keys, slotOf(customer) naming the slot, and returns how
// many it moved. A timer left in an old key would never fire: nobody reads
// those keys any more. Each batch is added to its slot keys before it is
// removed from the old key (the two are in different cluster slots, so
// no single script can do both), so a crash in between leaves it in both
// and running again finishes the move: idempotent, safe to run at every
// start and from several replicas at once (a timer indexed twice fires
// once: the inbox and the rules answer the second announcement).
func (s *Store) MigrateTimerIndex(ctx context.Context, slotOf func(customerID string) int) (int, error) {
	cards := make([]*redis.IntCmd, TimerSlots)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n := range TimerSlots {
			cards[n] = p.ZCard(ctx, s.oldTimerIndexKey(n))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("state: look for per-partition timer index keys: %w", err)
	}
	moved := 0
	for n, c := range cards {
		if c.Val() == 0 {
			continue
		}
		m, err := s.migrateOldTimerKey(ctx, s.oldTimerIndexKey(n), slotOf)
		moved += m
		if err != nil {
			return moved, err
		}
	}
	return moved, nil
}

func (s *Store) migrateOldTimerKey(ctx context.Context, key string, slotOf func(string) int) (int, error) {
	moved := 0
	for {
		zs, err := s.rdb.ZRangeWithScores(ctx, key, 0, migrateBatch-1).Result()
		if err != nil {
			return moved, fmt.Errorf("state: read %s: %w", key, err)
		}
		if len(zs) == 0 {
			return moved, nil
		}
		bySlot := map[int][]redis.Z{}
		members := make([]any, len(zs))
		for i, z := range zs {
			m, _ := z.Member.(string)
			entries, err := decodeTimerMembers([]string{m})
			if err != nil {
				return moved, fmt.Errorf("state: migrate %s: %w", key, err)
			}
			slot := slotOf(entries[0].CustomerID)
			if slot < 0 || slot >= TimerSlots {
				return moved, fmt.Errorf("state: migrate %s: slot %d of customer %s out of range", key, slot, entries[0].CustomerID)
			}
			bySlot[slot] = append(bySlot[slot], z)
			members[i] = z.Member
		}
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for slot, add := range bySlot {
				p.ZAdd(ctx, s.timerIndexKey(slot), add...)
			}
			return nil
		})
		if err != nil {
			return moved, fmt.Errorf("state: migrate %s to slot keys: %w", key, err)
		}
		if err := s.rdb.ZRem(ctx, key, members...).Err(); err != nil {
			return moved, fmt.Errorf("state: remove migrated entries from %s: %w", key, err)
		}
		moved += len(zs)
	}
}
