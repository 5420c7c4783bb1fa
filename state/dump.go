package state

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Dump returns every key of one customer with a rendering of its value, for
// tests asserting that an operation changed nothing. It finds the keys with
// SCAN, so it also reports keys the store does not know about. Values are
// rendered by type so equal contents render equally: a hash as sorted
// `field=%q` lines, a zset as `member score` lines in score order, a set as
// sorted members, a list in order, a string as itself.
//
// SCAN is O(keyspace): Dump is for tests and debugging, not for serving.
func (s *Store) Dump(ctx context.Context, customerID string) (map[string]string, error) {
	if err := checkCustomerID(customerID); err != nil {
		return nil, err
	}
	var mu sync.Mutex
	out := map[string]string{}
	err := forEachKey(ctx, s.rdb, s.customerPattern(customerID), func(ctx context.Context, key string) error {
		v, err := s.render(ctx, key)
		if err != nil {
			return err
		}
		mu.Lock()
		out[key] = v
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: dump %s: %w", customerID, err)
	}
	return out, nil
}

func (s *Store) render(ctx context.Context, key string) (string, error) {
	typ, err := s.rdb.Type(ctx, key).Result()
	if err != nil {
		return "", err
	}
	var lines []string
	switch typ {
	case "hash":
		m, err := s.rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return "", err
		}
		for f, v := range m {
			lines = append(lines, fmt.Sprintf("%s=%q", f, v))
		}
		slices.Sort(lines)
	case "zset":
		zs, err := s.rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			return "", err
		}
		for _, z := range zs {
			lines = append(lines, fmt.Sprintf("%v %s", z.Member, strconv.FormatFloat(z.Score, 'f', -1, 64)))
		}
	case "set":
		if lines, err = s.rdb.SMembers(ctx, key).Result(); err != nil {
			return "", err
		}
		slices.Sort(lines)
	case "list":
		if lines, err = s.rdb.LRange(ctx, key, 0, -1).Result(); err != nil {
			return "", err
		}
	case "string":
		return s.rdb.Get(ctx, key).Result()
	case "none": // deleted between SCAN and TYPE
		return "", nil
	default:
		return "<" + typ + ">", nil
	}
	return typ + "\n" + strings.Join(lines, "\n"), nil
}
