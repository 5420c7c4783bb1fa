package state

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// InboxHit is what the Commit that applied a command stored for it.
type InboxHit struct {
	Result   []byte        // the result stored by the Commit that applied the command
	EventIDs []string      // all event IDs that Commit emitted, in order
	Pending  []OutboxEntry // those of EventIDs still in the outbox (not yet confirmed published), in EventIDs order
	// Trimmed: the command was applied, but longer than InboxRetention
	// ago, so only its compact record remains (Options.AppliedRetention):
	// Result, EventIDs and Pending are empty. It is a duplicate all the
	// same and must change nothing; its events were confirmed long ago
	// (the outbox relay republishes any a crash left).
	Trimmed bool
}

// Snapshot is a customer's state as Load saw it.
type Snapshot struct {
	Version int64             // 0 when the customer has no state
	Fields  map[string][]byte // every entity field (not "v" or "fence"); (not "activity_trimmed" either); nil when Decoded is set
	// Decoded, on a cache hit, is the decoded state the caller gave its last
	// commit of the customer (Commit.Decoded) instead of the fields: the
	// caller decides on it without decoding anything. It is shared with
	// the cache and with concurrent decisions, so it must be treated as
	// immutable.
	Decoded any
	Seen    *InboxHit // non-nil when commandID was already applied (full inbox record or only the compact one)
	// Tombstones are the tombstones found of the fields asked for
	// (LoadReferencing), by field; archived entities (archive.go). A
	// cache hit has none.
	Tombstones map[string][]byte

	// sizes is the encoded size of each field, for the cache's budget
	// (nil after a load: computed from Fields).
	sizes map[string]int
}

// loadCmd reads a customer's state and looks the command up in the inbox.
// It only reads; it is a script so that state and inbox come from the same
// instant in one round trip.
//
// KEYS[1] -> <prefix>:{<customerID>}:state
// KEYS[2] -> <prefix>:{<customerID>}:inbox
// KEYS[3] -> <prefix>:{<customerID>}:outbox
// KEYS[4] -> <prefix>:{<customerID>}:applied
// KEYS[5] -> <prefix>:{<customerID>}:tombs
// ARGV[1] -> command ID ("" skips the inbox lookup)
// ARGV[2...] -> entity fields whose tombstones to read (archive.go)
//
// Returns {fields, found, record, pending, tombs}:
// fields  = HGETALL of the state hash (flat field, value, ...; includes "v"
// and "fence", which parseLoad leaves out),
// found   = 1 when the command is in the inbox, 2 when only its compact
// record remains (see commitCmd), else 0,
// record  = its inbox record ("" when not found),
// pending = {eventID, outboxRecord, ...} of its events still in the outbox,
// tombs   = {field, tombstone, ...} of the asked fields that have one.
var loadCmd = redis.NewScript(luaPendingEvents + `
local fields = redis.call('HGETALL', KEYS[1])
local tombs = {}
if #ARGV > 1 then
  local asked = {unpack(ARGV, 2)}
  local found = redis.call('HMGET', KEYS[5], unpack(asked))
  for j, t in ipairs(found) do
    if t then
      tombs[#tombs + 1] = asked[j]
      tombs[#tombs + 1] = t
    end
  end
end
if ARGV[1] == '' then
  return {fields, 0, '', {}, tombs}
end
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if rec then
  return {fields, 1, rec, pendingEvents(rec, KEYS[3]), tombs}
end
if redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return {fields, 2, '', {}, tombs}
end
return {fields, 0, '', {}, tombs}
`)

// Load reads the customer's state and checks the inbox for commandID in one
// round trip. An empty commandID skips the inbox check (Seen stays nil).
//
// With Options.WaitReplicas, a command found applied (full inbox record) is
// reported only once the replicas acknowledged its commit: the caller
// publishes Seen.Pending next, and the attempt that committed may have
// failed on a WAIT that fell short (replicas.go). Otherwise the error wraps
// ErrReplicasBehind.
func (s *Store) Load(ctx context.Context, customerID, commandID string) (Snapshot, error) {
	return s.LoadReferencing(ctx, customerID, commandID, nil)
}

// LoadReferencing is Load that also reads the tombstones of the given
// entity fields (Snapshot.Tombstones): the archived entities a command
// names (archive.go).
func (s *Store) LoadReferencing(ctx context.Context, customerID, commandID string, tombs []string) (Snapshot, error) {
	if err := checkCustomerID(customerID); err != nil {
		return Snapshot{}, err
	}
	keys := []string{s.stateKey(customerID), s.inboxKey(customerID), s.outboxKey(customerID), s.appliedKey(customerID), s.tombsKey(customerID)}
	args := make([]interface{}, 0, 1+len(tombs))
	args = append(args, commandID)
	for _, f := range tombs {
		args = append(args, f)
	}
	v, err := loadCmd.Run(ctx, s.rdb, keys, args...).Result()
	if err != nil {
		return Snapshot{}, fmt.Errorf("state: load %s: %w", customerID, err)
	}
	snap, err := parseLoad(v)
	if err == nil && snap.Seen != nil && !snap.Seen.Trimmed {
		if err := s.awaitReplicas(ctx, customerID, s.inboxKey(customerID), commandID); err != nil {
			return Snapshot{}, fmt.Errorf("state: load %s: command %s is applied on the master: %w", customerID, commandID, err)
		}
	}
	return snap, err
}

func parseLoad(v interface{}) (Snapshot, error) {
	const what = "load"
	r, err := replyArray(v, what)
	if err != nil {
		return Snapshot{}, err
	}
	if len(r) != 5 {
		return Snapshot{}, fmt.Errorf("state: load: reply has %d elements, want 5", len(r))
	}
	flat, err := replyStrings(r[0], what)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{Fields: make(map[string][]byte, len(flat)/2)}
	for i := 0; i+1 < len(flat); i += 2 {
		if flat[i] == versionField {
			if snap.Version, err = strconv.ParseInt(flat[i+1], 10, 64); err != nil {
				return Snapshot{}, fmt.Errorf("state: load: version %q: %w", flat[i+1], err)
			}
			continue
		}
		if flat[i] == fenceField || flat[i] == activityTrimmedField {
			continue
		}
		snap.Fields[flat[i]] = []byte(flat[i+1])
	}
	tombs, err := replyStrings(r[4], what)
	if err != nil {
		return Snapshot{}, err
	}
	for i := 0; i+1 < len(tombs); i += 2 {
		if snap.Tombstones == nil {
			snap.Tombstones = map[string][]byte{}
		}
		snap.Tombstones[tombs[i]] = []byte(tombs[i+1])
	}
	found, err := replyInt(r[1], what)
	if err != nil || found == 0 {
		return snap, err
	}
	if found == 2 {
		snap.Seen = &InboxHit{Trimmed: true}
		return snap, nil
	}
	rec, err := replyString(r[2], what)
	if err != nil {
		return Snapshot{}, err
	}
	pending, err := replyStrings(r[3], what)
	if err != nil {
		return Snapshot{}, err
	}
	if snap.Seen, err = decodeHit(rec, pending); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}
