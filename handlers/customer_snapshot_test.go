package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/state"
)

// customerSnapshot is every Redis key of one customer (state.Store.Dump
// finds them by SCAN, so a key the store does not know about shows too)
// and its entries in the timer index, for "bad input changes nothing".
//
// It is taken once the customer's outbox is empty: outbox entries live
// from a commit until their events are acknowledged (the cleaner then
// deletes them, milliseconds later), so they say when the snapshot was
// taken, not what the customer is. Everything else is compared byte for
// byte, except what recording a rejected command must write
// (requireUnchangedBut), and that is checked exactly instead.
type customerSnapshot struct {
	dump    map[string]string // state.Store.Dump: every key, rendered
	state   map[string]string // the state hash, raw
	inbox   map[string]string
	inboxTS map[string]float64
	timers  []string // timer index entries naming the customer, with their scores
	prefix  string
}

func (e *env) snapshotCustomer(customer string) customerSnapshot {
	e.t.Helper()
	ctx := context.Background()
	prefix := state.DefaultPrefix + ":{" + customer + "}:"
	deadline := time.Now().Add(10 * time.Second)
	for n, err := e.rdb.HLen(ctx, prefix+"outbox").Result(); n > 0 || err != nil; n, err = e.rdb.HLen(ctx, prefix+"outbox").Result() {
		if time.Now().After(deadline) {
			e.t.Fatalf("outbox of %s still holds %d entries (%v)", customer, n, err)
		}
		time.Sleep(5 * time.Millisecond) // polling the cleaner's work, with a deadline
	}
	s := customerSnapshot{prefix: prefix, inboxTS: map[string]float64{}}
	var err error
	if s.dump, err = e.store.Dump(ctx, customer); err != nil {
		e.t.Fatal(err)
	}
	if s.state, err = e.rdb.HGetAll(ctx, prefix+"state").Result(); err != nil {
		e.t.Fatal(err)
	}
	if s.inbox, err = e.rdb.HGetAll(ctx, prefix+"inbox").Result(); err != nil {
		e.t.Fatal(err)
	}
	zs, err := e.rdb.ZRangeWithScores(ctx, prefix+"inboxts", 0, -1).Result()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, z := range zs {
		s.inboxTS[z.Member.(string)] = z.Score
	}
	keys, err := e.rdb.Keys(ctx, state.DefaultPrefix+":timers:*").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		zs, err := e.rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, z := range zs {
			var entry state.TimerEntry
			if err := json.Unmarshal([]byte(z.Member.(string)), &entry); err != nil {
				e.t.Fatalf("timer index %s: %v", k, err)
			}
			if entry.CustomerID == customer {
				s.timers = append(s.timers, fmt.Sprintf("%s %s %v", k, z.Member, z.Score))
			}
		}
	}
	slices.Sort(s.timers)
	if len(s.timers) == 0 || len(s.state) < 2 {
		e.t.Fatalf("snapshot of %s holds no timers or no state: %+v", customer, s)
	}
	return s
}

// requireUnchangedBut fails unless after is s byte for byte, except what
// recording the rejected commands writes. A rejection is recorded like any
// applied command, so that a redelivery of it is answered the same (G1):
// it bumps the version counter (the commit's concurrency token, not
// business state) and adds its inbox record and time. So: every state
// field but the counter is unchanged and the counter grew by exactly the
// number of rejected commands; every earlier inbox record and time is
// unchanged and the only new ones are the rejected commands', each saying
// rejected with its code; every other key, and every timer index entry of
// the customer, is unchanged; no key appeared.
func (s customerSnapshot) requireUnchangedBut(t *testing.T, after customerSnapshot, rejected map[string]string) {
	t.Helper()
	recorded := map[string]bool{s.prefix + "state": true, s.prefix + "inbox": true, s.prefix + "inboxts": true}
	for k, v := range s.dump {
		if recorded[k] {
			continue
		}
		if after.dump[k] != v {
			t.Fatalf("key %s changed:\nbefore %s\nafter  %s", k, v, after.dump[k])
		}
	}
	for k := range after.dump {
		if _, ok := s.dump[k]; !ok {
			t.Fatalf("key %s appeared: %s", k, after.dump[k])
		}
	}
	for f, v := range s.state {
		if f != "v" && after.state[f] != v {
			t.Fatalf("state field %s changed:\nbefore %s\nafter  %s", f, v, after.state[f])
		}
	}
	if len(after.state) != len(s.state) {
		t.Fatalf("state has %d fields, had %d", len(after.state), len(s.state))
	}
	vBefore, err1 := strconv.Atoi(s.state["v"])
	vAfter, err2 := strconv.Atoi(after.state["v"])
	if err1 != nil || err2 != nil || vAfter-vBefore != len(rejected) {
		t.Fatalf("version went from %d to %d, want +%d (one per rejected command)", vBefore, vAfter, len(rejected))
	}
	for id, rec := range s.inbox {
		if after.inbox[id] != rec || after.inboxTS[id] != s.inboxTS[id] {
			t.Fatalf("inbox record of %s changed", id)
		}
	}
	if len(after.inbox) != len(s.inbox)+len(rejected) || len(after.inboxTS) != len(after.inbox) {
		t.Fatalf("inbox has %d records (%d times), want %d + %d rejected", len(after.inbox), len(after.inboxTS), len(s.inbox), len(rejected))
	}
	for id, code := range rejected {
		var rec struct {
			R []byte `json:"r"`
		}
		var res inboxResult
		if err := json.Unmarshal([]byte(after.inbox[id]), &rec); err != nil || json.Unmarshal(rec.R, &res) != nil || res.Outcome != "rejected" || res.Code != code {
			t.Fatalf("inbox record of %s: %s (%v), want rejected %s", id, after.inbox[id], err, code)
		}
		if _, ok := after.inboxTS[id]; !ok {
			t.Fatalf("rejected command %s has no inbox time", id)
		}
	}
	if !slices.Equal(after.timers, s.timers) {
		t.Fatalf("timer index entries changed:\nbefore %v\nafter  %v", s.timers, after.timers)
	}
}
