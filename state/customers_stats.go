package state

import "sync/atomic"

// CustomerStats counts what Customers.Apply did since the repository was
// made. They let an operator see how often a command's state came from
// Redis rather than the cache, and how often writers collided.
type CustomerStats struct {
	// Applies is the number of Apply calls (commands handled).
	Applies uint64
	// Loads counts state loads from Redis (cache misses, each conflict's
	// reload included); CacheHits the decisions made on cached state.
	Loads, CacheHits uint64
	// Committed, VersionConflict and Fenced count commits by their status.
	// Duplicate counts commands found applied before, by the load's inbox
	// check or by the commit: both end the command the same way.
	Committed, Duplicate, VersionConflict, Fenced uint64
}

// customerCounters are CustomerStats as the concurrent Apply calls update
// them.
type customerCounters struct {
	applies, loads, cacheHits                     atomic.Uint64
	committed, duplicate, versionConflict, fenced atomic.Uint64
}

// commit counts one commit's outcome.
func (c *customerCounters) commit(s CommitStatus) {
	switch s {
	case Committed:
		c.committed.Add(1)
	case Duplicate:
		c.duplicate.Add(1)
	case VersionConflict:
		c.versionConflict.Add(1)
	case Fenced:
		c.fenced.Add(1)
	}
}

// Stats returns the counts so far. Each is read on its own, so a snapshot
// taken while commands run may be a few commands apart between fields.
func (c *Customers) Stats() CustomerStats {
	s := &c.stats
	return CustomerStats{
		Applies: s.applies.Load(), Loads: s.loads.Load(), CacheHits: s.cacheHits.Load(),
		Committed: s.committed.Load(), Duplicate: s.duplicate.Load(),
		VersionConflict: s.versionConflict.Load(), Fenced: s.fenced.Load(),
	}
}
