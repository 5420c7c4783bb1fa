package state

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
)

// Commit is one command's decision, to be applied atomically.
type Commit struct {
	CustomerID, CommandID string
	ExpectedVersion       int64             // the Snapshot.Version the decision was made on
	Set                   map[string][]byte // entity fields to write (field names must not be "v" or "fence")
	Delete                []string          // entity fields to delete (must not also be in Set)
	Events                []OutboxEntry     // appended to the outbox, in order
	Result                []byte            // stored in the inbox under CommandID
	At                    time.Time         // applied-at for the inbox zset and "now" for trimming; time.Now() if zero
	// Fence is the lease fence of the partition owner making the commit
	// (messages/bus/lease): a commit fenced lower than the highest fence
	// the customer has committed with is refused as Fenced, since a
	// replica that acquired the partition later has already written.
	// 0 is neither checked nor recorded (static ownership). At most
	// MaxFence.
	Fence uint64
	// WrittenAt is when the outbox entries are written by the wall clock,
	// which the relay's MinAge is measured against; At when zero. It differs
	// from At when At is a simulated time: a simulated January must not
	// make an event written a millisecond ago look months old to the relay.
	WrittenAt time.Time
	// Timers are added to the timer index of Slot (the customer's slot,
	// bus.SlotOf) before the commit runs, whatever its outcome (see
	// timer_index.go: the index is a superset of the live timers).
	Timers []TimerEntry
	Slot   int
	// TestClock, when set, is the test clock the customer lives on: its
	// timers go to that clock's index instead of the slot's, so only the
	// clock's advances fire them (testclocks.go).
	TestClock string
	// Decoded, when set, is the customer's whole state after this commit
	// in the caller's decoded form (Set and Delete applied). On Committed
	// Customers.Apply caches it, and the customer's next decision gets it
	// as Snapshot.Decoded instead of bytes to decode. The caller must never
	// change it afterwards. The store itself ignores it.
	Decoded any

	// Archive moves entities out of the state: field -> the entity's
	// record for the archive; each field is deleted from the state and
	// must not be in Set or Delete. Tombstones holds the tombstone of
	// every archived field (archive.go).
	Archive    map[string][]byte
	Tombstones map[string][]byte
	// Absent are entity fields the decision found neither in the state
	// nor among the tombstones it was given: the commit is refused as a
	// VersionConflict when one of them is tombstoned (the decision was
	// made on state loaded without that tombstone, see Customers.Apply).
	Absent []string

	// Activity are appended to the customer's activity list (activity.go)
	// in order, which is then trimmed to its newest ActivityMax records
	// (at least 1 when Activity is set). ActivityTrimmedThrough, when set,
	// is an instant up to which records may be missing already (a log
	// moved from an earlier format): the list's marker becomes the later
	// of it and what it was.
	Activity               []ActivityRecord
	ActivityMax            int
	ActivityTrimmedThrough time.Time
}

// MaxFence is the highest Fence a commit may carry: the script compares
// fences as Lua numbers (doubles), exact up to 2^53.
const MaxFence = 1<<53 - 1

// CommitStatus says how Commit ended.
type CommitStatus int

const (
	// Committed: the writes were applied and the version bumped.
	Committed CommitStatus = iota + 1
	// Duplicate: the command was already applied (its full inbox record or,
	// after InboxRetention, its compact record is there); nothing was
	// written.
	Duplicate
	// VersionConflict: the state changed since the decision was made;
	// nothing was written. Reload and decide again.
	VersionConflict
	// Fenced: the customer has committed with a higher fence than the
	// commit's, so the replica making it no longer owns the partition;
	// nothing was written.
	Fenced
)

func (s CommitStatus) String() string {
	switch s {
	case Committed:
		return "Committed"
	case Duplicate:
		return "Duplicate"
	case VersionConflict:
		return "VersionConflict"
	case Fenced:
		return "Fenced"
	}
	return fmt.Sprintf("CommitStatus(%d)", int(s))
}

// CommitOutcome is the result of Commit.
type CommitOutcome struct {
	Status CommitStatus
	// Version is the version after the commit (Committed) or the current
	// version (VersionConflict, Duplicate).
	Version int64
	Seen    *InboxHit // for Duplicate: what the first application stored (with pending outbox entries), or only Trimmed
}

// commitCmd applies one command to one customer. All checks come before the
// first write, so a Duplicate or VersionConflict leaves every key untouched;
// and since Redis does not abort a script for OOM once it has written, the
// writes either all happen or the script was refused before the first one.
//
// A command is known as applied in two ways: its full inbox record (result
// and event IDs, kept InboxRetention, what a redelivery needs to republish
// pending events), and once that is trimmed, its compact record in the
// applied zset (ID and applied-at only, kept AppliedRetention, which covers
// the command stream's MaxAge). Both are checked before anything else.
// Trimming moves a full record past InboxRetention to the compact record
// (with its original applied-at, so every command costs one zset entry
// after its first week) and drops compact records past AppliedRetention,
// each at most ARGV[6] per call.
//
// KEYS[1] -> <prefix>:{<customerID>}:state
// KEYS[2] -> <prefix>:{<customerID>}:inbox
// KEYS[3] -> <prefix>:{<customerID>}:inboxts
// KEYS[4] -> <prefix>:{<customerID>}:outbox
// KEYS[5] -> <prefix>:{<customerID>}:applied
// KEYS[6] -> <prefix>:{<customerID>}:archive
// KEYS[7] -> <prefix>:{<customerID>}:archivets
// KEYS[8] -> <prefix>:{<customerID>}:tombs
// KEYS[9] -> <prefix>:{<customerID>}:activity
// ARGV[1] -> command ID
// ARGV[2] -> expected version
// ARGV[3] -> applied-at, unix millis (inboxts score)
// ARGV[4] -> inbox cutoff, unix millis: full records scored below it are trimmed
// ARGV[5] -> applied cutoff, unix millis: compact records scored below it are trimmed
// ARGV[6] -> max entries trimmed per kind
// ARGV[7] -> inbox record
// ARGV[8] -> nSet, ARGV[9] -> nDel, ARGV[10] -> nEvents
// ARGV[11] -> fence, decimal ("0": not checked, not recorded)
// ARGV[12...] -> nSet (field, value) pairs, then nDel fields,
// then nEvents (eventID, outboxRecord) pairs,
// then the archive block (archive.go), starting at A = 12 + 2*nSet + nDel + 2*nEvents:
// ARGV[A] -> nAbsent, ARGV[A+1] -> nArchive, ARGV[A+2] -> archive cutoff, unix millis: archive records
// archived before it are trimmed (at most ARGV[6] per call), then nAbsent fields (refused as a version
// conflict when any is in the tombstones), then nArchive (field, archiveRecord, tombstone) triples: each
// field is deleted from the state, its record written to the archive (scored with ARGV[3]) and its
// tombstone to the tombstones.
// then the activity block (Commit.Activity, activity.go), at i after the
// archive block:
//
//	KEYS[9]   -> <prefix>:{<customerID>}:activity (list)
//	ARGV[i]   -> nAct, records to append
//	ARGV[i+1] -> the list's cap (records kept, newest)
//	ARGV[i+2] -> an instant records may be missing through ("" none)
//	ARGV[i+3...] -> nAct list elements, oldest first
//
// The activity list's marker, the newest instant trimmed from it, is the
// state hash's field "activity_trimmed", for the same reason as the fence.
//
// The highest fence committed with is the state hash's field "fence"
// (fenceField): one HGET on a key the script reads anyway, where a key of
// its own would cost one more key per customer.
//
// Returns {1, newVersion} when committed,
// {2, currentVersion, record, pending} when the command is in the inbox
// (pending = {eventID, outboxRecord, ...} still in the outbox),
// {3, currentVersion} on a version conflict,
// {4, currentVersion} when only the compact record remains (a duplicate
// with nothing left to republish),
// {5, currentVersion} when the fence is lower than the recorded one.
var commitCmd = redis.NewScript(luaPendingEvents + `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
local fence = tonumber(ARGV[11])
if fence > 0 and fence < tonumber(redis.call('HGET', KEYS[1], 'fence') or '0') then
  return {5, v}
end
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if rec then
  return {2, v, rec, pendingEvents(rec, KEYS[4])}
end
if redis.call('ZSCORE', KEYS[5], ARGV[1]) then
  return {4, v}
end
if v ~= tonumber(ARGV[2]) then
  return {3, v}
end
-- archive block: the absent check, before any write
local nSet0, nDel0, nEv0 = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local arc = 12 + 2 * nSet0 + nDel0 + 2 * nEv0
local nAbsent, nArchive = tonumber(ARGV[arc]), tonumber(ARGV[arc + 1])
for j = arc + 3, arc + 2 + nAbsent do
  if redis.call('HEXISTS', KEYS[8], ARGV[j]) == 1 then
    return {3, v}
  end
end
-- end of the archive block's checks

local nSet, nDel, nEv = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local i = 12
for _ = 1, nSet do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, nDel do
  redis.call('HDEL', KEYS[1], ARGV[i])
  i = i + 1
end
local nv = redis.call('HINCRBY', KEYS[1], 'v', 1)
if fence > 0 then
  -- Not lower than the recorded one (checked above), so this keeps the highest.
  redis.call('HSET', KEYS[1], 'fence', ARGV[11])
end
for _ = 1, nEv do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
-- archive block: move the archived entities, trim old archive records
for j = arc + 3 + nAbsent, arc + 2 + nAbsent + 3 * nArchive, 3 do
  redis.call('HDEL', KEYS[1], ARGV[j])
  redis.call('HSET', KEYS[6], ARGV[j], ARGV[j + 1])
  redis.call('ZADD', KEYS[7], ARGV[3], ARGV[j])
  redis.call('HSET', KEYS[8], ARGV[j], ARGV[j + 2])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', '(' .. ARGV[arc + 2], 'LIMIT', 0, tonumber(ARGV[6]))
for _, f in ipairs(expired) do
  redis.call('HDEL', KEYS[6], f)
  redis.call('ZREM', KEYS[7], f)
end
-- end of the archive block
i = arc + 3 + nAbsent + 3 * nArchive

-- Activity block: append, trim to the cap, keep the newest instant trimmed
-- (elements start with a fixed-width instant: string order is time order).
local nAct, actMax, seed = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]
i = i + 3
if nAct > 0 or seed ~= '' then
  local was = redis.call('HGET', KEYS[1], 'activity_trimmed')
  local through = was
  if seed ~= '' and (not through or seed > through) then
    through = seed
  end
  for _ = 1, nAct do
    redis.call('RPUSH', KEYS[9], ARGV[i])
    i = i + 1
  end
  local drop = redis.call('LLEN', KEYS[9]) - actMax
  if nAct > 0 and drop > 0 then
    local at = string.sub(redis.call('LINDEX', KEYS[9], drop - 1), 1, 30) -- activityAtLen
    if not through or at > through then
      through = at
    end
    redis.call('LTRIM', KEYS[9], drop, -1)
  end
  if through and through ~= was then
    redis.call('HSET', KEYS[1], 'activity_trimmed', through)
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])

local limit, appliedCutoff = tonumber(ARGV[6]), tonumber(ARGV[5])
local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[4], 'WITHSCORES', 'LIMIT', 0, limit)
for j = 1, #old, 2 do
  local id, at = old[j], old[j + 1]
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  if tonumber(at) >= appliedCutoff then
    redis.call('ZADD', KEYS[5], at, id)
  end
end
local gone = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[5], 'LIMIT', 0, limit)
for _, id in ipairs(gone) do
  redis.call('ZREM', KEYS[5], id)
end
return {1, nv}
`)

// commitTrimmedDuplicate is commitCmd's status for a command known only by
// its compact record; Commit reports it as Duplicate.
const commitTrimmedDuplicate = 4

// commitFenced is commitCmd's status for a commit fenced lower than the
// customer's highest; Commit reports it as Fenced.
const commitFenced = 5

// Commit applies one command atomically (see commitCmd): if CommandID is
// already in the inbox it returns Duplicate with what was stored (only
// Seen.Trimmed when just its compact record remains), if the
// version moved it returns VersionConflict, if a higher fence committed
// before it returns Fenced, and in all three cases it writes nothing.
// Otherwise it writes the fields, bumps the version, appends the events to
// the outbox and records the command in the inbox.
//
// A commit with no Set or Delete still records the inbox and outbox and
// bumps the version, so a rejected command is answered the same way when it
// is redelivered.
func (s *Store) Commit(ctx context.Context, c Commit) (CommitOutcome, error) {
	if err := c.check(); err != nil {
		return CommitOutcome{}, err
	}
	at := c.At
	if at.IsZero() {
		at = time.Now()
	}
	written := c.WrittenAt
	if written.IsZero() {
		written = at
	}
	newVersion := c.ExpectedVersion + 1 // what the outbox records carry if the commit goes through

	eventIDs := make([]string, len(c.Events))
	for i, e := range c.Events {
		eventIDs[i] = e.ID
	}
	rec, err := encodeInbox(c.Result, eventIDs)
	if err != nil {
		return CommitOutcome{}, fmt.Errorf("state: commit %s/%s: %w", c.CustomerID, c.CommandID, err)
	}

	args := make([]interface{}, 0, 14+2*len(c.Set)+len(c.Delete)+2*len(c.Events)+len(c.Activity))
	args = append(args,
		c.CommandID,
		c.ExpectedVersion,
		at.UnixMilli(),
		at.Add(-s.retention).UnixMilli(),
		at.Add(-s.applied).UnixMilli(),
		inboxTrimBatch,
		rec,
		len(c.Set), len(c.Delete), len(c.Events),
		c.Fence,
	)
	// Sorted so that the same Commit always produces the same script call.
	for _, f := range slices.Sorted(maps.Keys(c.Set)) {
		args = append(args, f, c.Set[f])
	}
	for _, f := range c.Delete {
		args = append(args, f)
	}
	for i, e := range c.Events {
		r, err := encodeOutbox(e, written, newVersion, i)
		if err != nil {
			return CommitOutcome{}, fmt.Errorf("state: commit %s/%s: event %s: %w", c.CustomerID, c.CommandID, e.ID, err)
		}
		args = append(args, e.ID, r)
	}
	args = c.appendArchive(args, at.Add(-s.archive).UnixMilli())
	args = c.appendActivityArgs(args)

	keys := []string{
		s.stateKey(c.CustomerID),
		s.inboxKey(c.CustomerID),
		s.inboxTSKey(c.CustomerID),
		s.outboxKey(c.CustomerID),
		s.appliedKey(c.CustomerID),
		s.archiveKey(c.CustomerID),
		s.archiveTSKey(c.CustomerID),
		s.tombsKey(c.CustomerID),
		s.activityKey(c.CustomerID),
	}
	var (
		v      interface{}
		acked  int64
		waited bool // WAIT ran behind the script on its connection
	)
	_, cluster := s.rdb.(*redis.ClusterClient)
	switch {
	case s.waitReplicas > 0 && cluster:
		v, acked, err = s.commitAndWaitOnMaster(ctx, c, keys, args)
		waited = true
	case s.waitReplicas > 0 && len(c.Timers) == 0:
		v, acked, err = s.commitAndWait(ctx, s.rdb, keys, args)
		waited = true
	default:
		v, err = s.indexAndCommit(ctx, c, keys, args)
	}
	if err != nil {
		return CommitOutcome{}, fmt.Errorf("state: commit %s/%s: %w", c.CustomerID, c.CommandID, err)
	}
	out, err := parseCommit(v)
	if err != nil || s.waitReplicas == 0 {
		return out, err
	}
	// A commit made here, or one found made (perhaps by an attempt whose
	// WAIT fell short), counts only once the replicas have it.
	switch {
	case out.Status == Committed && waited:
		err = s.checkAcked(acked)
	case out.Status == Committed || (out.Status == Duplicate && !out.Seen.Trimmed):
		err = s.awaitReplicas(ctx, c.CustomerID, s.inboxKey(c.CustomerID), c.CommandID)
	}
	if err != nil {
		return CommitOutcome{}, fmt.Errorf("state: commit %s/%s (applied on the master, not yet on enough replicas): %w",
			c.CustomerID, c.CommandID, err)
	}
	return out, nil
}

// indexAndCommit indexes c.Timers, then runs the commit script. On one Redis
// server both go in a single round trip, as MULTI ZADD EVALSHA EXEC: the
// index is written first and a ZADD refused while queuing (out of memory)
// aborts the EXEC, so a commit never lands without its index entries. On
// Redis Cluster the index key and the customer's keys hash to different
// slots, possibly on different nodes, so they take two round trips in that
// order. A round trip saved shortens the wait of every command behind this
// one of its customer.
func (s *Store) indexAndCommit(ctx context.Context, c Commit, keys []string, args []interface{}) (interface{}, error) {
	if len(c.Timers) == 0 {
		return commitCmd.Run(ctx, s.rdb, keys, args...).Result()
	}
	if _, cluster := s.rdb.(*redis.ClusterClient); cluster {
		if err := s.indexTimersAt(ctx, s.commitIndexKey(c), c.Timers); err != nil {
			return nil, err
		}
		return commitCmd.Run(ctx, s.rdb, keys, args...).Result()
	}
	zs, err := timerZs(c.Timers)
	if err != nil {
		return nil, err
	}
	var index *redis.IntCmd
	var commit *redis.Cmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		index = p.ZAdd(ctx, s.commitIndexKey(c), zs...)
		commit = commitCmd.EvalSha(ctx, p, keys, args...)
		return nil
	})
	if err := index.Err(); err != nil {
		return nil, fmt.Errorf("index %d timers in %s: %w", len(zs), s.commitIndexKey(c), err)
	}
	if redis.HasErrorPrefix(commit.Err(), "NOSCRIPT") {
		// The server lost its script cache (restart, SCRIPT FLUSH); the
		// index is written, so send the script itself.
		return commitCmd.Run(ctx, s.rdb, keys, args...).Result()
	}
	if err != nil {
		return nil, err
	}
	return commit.Result()
}

func parseCommit(v interface{}) (CommitOutcome, error) {
	const what = "commit"
	r, err := replyArray(v, what)
	if err != nil {
		return CommitOutcome{}, err
	}
	if len(r) < 2 {
		return CommitOutcome{}, fmt.Errorf("state: commit: reply has %d elements", len(r))
	}
	status, err := replyInt(r[0], what)
	if err != nil {
		return CommitOutcome{}, err
	}
	version, err := replyInt(r[1], what)
	if err != nil {
		return CommitOutcome{}, err
	}
	if status == commitTrimmedDuplicate {
		return CommitOutcome{Status: Duplicate, Version: version, Seen: &InboxHit{Trimmed: true}}, nil
	}
	if status == commitFenced {
		return CommitOutcome{Status: Fenced, Version: version}, nil
	}
	out := CommitOutcome{Status: CommitStatus(status), Version: version}
	switch out.Status {
	case Committed, VersionConflict:
		return out, nil
	case Duplicate:
		if len(r) != 4 {
			return CommitOutcome{}, fmt.Errorf("state: commit: duplicate reply has %d elements, want 4", len(r))
		}
		rec, err := replyString(r[2], what)
		if err != nil {
			return CommitOutcome{}, err
		}
		pending, err := replyStrings(r[3], what)
		if err != nil {
			return CommitOutcome{}, err
		}
		out.Seen, err = decodeHit(rec, pending)
		return out, err
	}
	return CommitOutcome{}, fmt.Errorf("state: commit: unknown status %d", status)
}

// check rejects commits the script would store wrongly or that would break
// an invariant, before anything is sent.
func (c *Commit) check() error {
	fail := func(format string, a ...interface{}) error {
		return fmt.Errorf("state: commit %s/%s: %s", c.CustomerID, c.CommandID, fmt.Sprintf(format, a...))
	}
	if err := checkCustomerID(c.CustomerID); err != nil {
		return err
	}
	if c.CommandID == "" {
		return fail("empty command ID")
	}
	if c.ExpectedVersion < 0 {
		return fail("negative expected version %d", c.ExpectedVersion)
	}
	if c.Fence > MaxFence {
		return fail("fence %d above %d", c.Fence, uint64(MaxFence))
	}
	if len(c.Timers) > 0 && (c.Slot < 0 || c.Slot >= TimerSlots) {
		return fail("slot %d out of range 0..%d", c.Slot, TimerSlots-1)
	}
	if len(c.Activity) > 0 && c.ActivityMax < 1 {
		return fail("activity cap %d with %d records", c.ActivityMax, len(c.Activity))
	}
	for f := range c.Set {
		if f == "" || f == versionField || f == fenceField || f == activityTrimmedField {
			return fail("cannot set field %q", f)
		}
	}
	for _, f := range c.Delete {
		if f == "" || f == versionField || f == fenceField || f == activityTrimmedField {
			return fail("cannot delete field %q", f)
		}
		if _, ok := c.Set[f]; ok {
			return fail("field %q is both set and deleted", f)
		}
	}
	for f := range c.Archive {
		if f == "" || f == versionField || f == fenceField {
			return fail("cannot archive field %q", f)
		}
		if _, ok := c.Set[f]; ok || slices.Contains(c.Delete, f) {
			return fail("field %q is both archived and set or deleted", f)
		}
		if _, ok := c.Tombstones[f]; !ok {
			return fail("archived field %q has no tombstone", f)
		}
	}
	if len(c.Tombstones) != len(c.Archive) {
		return fail("%d tombstones for %d archived fields", len(c.Tombstones), len(c.Archive))
	}
	seen := make(map[string]bool, len(c.Events))
	for _, e := range c.Events {
		// IDs and subjects travel as JSON strings, which would silently
		// replace invalid UTF-8; refuse them instead.
		if e.ID == "" || !utf8.ValidString(e.ID) {
			return fail("invalid event ID %q", e.ID)
		}
		if seen[e.ID] {
			return fail("event ID %q appears twice", e.ID)
		}
		seen[e.ID] = true
		if e.Subject == "" || !utf8.ValidString(e.Subject) {
			return fail("event %s: invalid subject %q", e.ID, e.Subject)
		}
	}
	return nil
}
