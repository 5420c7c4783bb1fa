package state

import (
	"context"
	"fmt"
	"maps"
	"slices"
)

// Archive and tombstones (see the key table in keys.go). A closed entity
// past its retention horizon leaves the customer's state hash in the
// commit of the decision that archives it (Commit.Archive): its record
// goes to the archive hash, kept ArchiveRetention for history queries,
// and its tombstone to the tombstones hash, kept for good and read only
// for the fields a command names (LoadReferencing), so the state every
// command reads holds live entities only.

// appendArchive appends commitCmd's archive block to args (see its ARGV
// layout): the absent fields, then the archived (field, record,
// tombstone) triples in field order, so the same Commit always makes the
// same call.
func (c *Commit) appendArchive(args []interface{}, cutoff int64) []interface{} {
	args = append(args, len(c.Absent), len(c.Archive), cutoff)
	for _, f := range c.Absent {
		args = append(args, f)
	}
	for _, f := range slices.Sorted(maps.Keys(c.Archive)) {
		args = append(args, f, c.Archive[f], c.Tombstones[f])
	}
	return args
}

// Archive returns a customer's archived entity records by field (the full
// entity as it was when archived, until ArchiveRetention trims it), for
// history queries.
func (s *Store) Archive(ctx context.Context, customerID string) (map[string][]byte, error) {
	if err := checkCustomerID(customerID); err != nil {
		return nil, err
	}
	m, err := s.rdb.HGetAll(ctx, s.archiveKey(customerID)).Result()
	if err != nil {
		return nil, fmt.Errorf("state: archive of %s: %w", customerID, err)
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = []byte(v)
	}
	return out, nil
}
