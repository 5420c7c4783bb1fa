package state

import (
	"fmt"
	"strings"
)

// Key layout. Every key of one customer carries the customer ID as its hash
// tag ({...}), so all of them live in one Redis Cluster slot and a single Lua
// script may touch them together.
//
//	key                               type  contents
//	<prefix>:{<customerID>}:state     hash  "v" = version (missing = 0), "fence" = highest lease fence
//	                                        committed with (missing = 0, commit.go), "activity_trimmed" = newest
//	                                        instant trimmed from the activity list (activity.go), every other
//	                                        field = entity bytes
//	<prefix>:{<customerID>}:inbox     hash  commandID -> inbox record (JSON: stored result, emitted event IDs)
//	<prefix>:{<customerID>}:inboxts   zset  commandID -> applied-at unix millis, to trim the inbox by age
//	<prefix>:{<customerID>}:applied   zset  commandID -> applied-at unix millis of commands whose inbox
//	                                        record was trimmed (the compact record, kept AppliedRetention)
//	<prefix>:{<customerID>}:outbox    hash  eventID -> outbox record (JSON: subject, data, written-at, order)
//	<prefix>:{<customerID>}:dead      hash  commandID -> time it was dead-lettered (deadletter.go)
//	<prefix>:{<customerID>}:archive   hash  entity field (as in state, e.g. "sub:<id>") -> the entity's JSON when it
//	                                        left the state (archive.go); trimmed after ArchiveRetention
//	<prefix>:{<customerID>}:archivets zset  entity field -> archived-at unix millis, to trim the archive by age
//	<prefix>:{<customerID>}:tombs     hash  entity field -> tombstone JSON (what the rules still read of an archived
//	                                        entity); kept for the customer's lifetime
//	<prefix>:{<customerID>}:activity  list  software activity log, oldest first: "<instant> <entry>", capped by
//	                                        the commit that appends (activity.go)
//	<prefix>:{<customerID>}:replsync  string marker written before a WAIT for replicas, expires after 1 ms (replicas.go)
//
// The prefix defaults to "csp".

// versionField is the state hash field that holds the customer's version.
const versionField = "v"

// fenceField is the state hash field that holds the highest lease fence
// the customer was committed with (commitCmd). Like versionField it is no
// entity field: Load leaves it out and commits may not set it.
const fenceField = "fence"

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "csp"

func (s *Store) customerKey(customerID, suffix string) string {
	return s.prefix + ":{" + customerID + "}:" + suffix
}

func (s *Store) stateKey(customerID string) string   { return s.customerKey(customerID, "state") }
func (s *Store) inboxKey(customerID string) string   { return s.customerKey(customerID, "inbox") }
func (s *Store) inboxTSKey(customerID string) string { return s.customerKey(customerID, "inboxts") }
func (s *Store) outboxKey(customerID string) string  { return s.customerKey(customerID, "outbox") }
func (s *Store) appliedKey(customerID string) string { return s.customerKey(customerID, "applied") }
func (s *Store) archiveKey(customerID string) string { return s.customerKey(customerID, "archive") }
func (s *Store) archiveTSKey(customerID string) string {
	return s.customerKey(customerID, "archivets")
}
func (s *Store) tombsKey(customerID string) string { return s.customerKey(customerID, "tombs") }

// outboxPattern is the SCAN MATCH pattern for every customer's outbox.
func (s *Store) outboxPattern() string { return globEscape(s.prefix) + ":{*}:outbox" }

// customerPattern is the SCAN MATCH pattern for every key of one customer.
func (s *Store) customerPattern(customerID string) string {
	return globEscape(s.prefix) + ":{" + globEscape(customerID) + "}:*"
}

// customerFromOutboxKey is the inverse of outboxKey; ok is false for keys
// that only look like outbox keys.
func (s *Store) customerFromOutboxKey(key string) (customerID string, ok bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+":{")
	if !ok {
		return "", false
	}
	customerID, ok = strings.CutSuffix(rest, "}:outbox")
	if !ok || checkCustomerID(customerID) != nil {
		return "", false
	}
	return customerID, true
}

// checkCustomerID rejects IDs that would break the one-slot guarantee: Redis
// hashes only up to the first '}', and "{}" makes it hash the whole key, so
// a customer ID with braces would spread its keys over several slots.
func checkCustomerID(id string) error {
	if id == "" {
		return fmt.Errorf("state: empty customer ID")
	}
	if strings.ContainsAny(id, "{}") {
		return fmt.Errorf("state: customer ID %q contains '{' or '}'", id)
	}
	return nil
}

// globEscape escapes the SCAN MATCH metacharacters in s.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
