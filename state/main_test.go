package state

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/state/redistest"
)

// Each test package gets its own redis-server; tests in this package flush it
// and must not run in parallel.
func TestMain(m *testing.M) { redistest.Main(m) }

// t0 is a fixed "now" for commits whose timing does not matter. Times built
// with time.UnixMilli compare equal to what the store decodes.
var t0 = time.UnixMilli(1_700_000_000_000)

func newTestStore(t *testing.T, opt Options) (*Store, *redis.Client) {
	t.Helper()
	rdb := redistest.Client(t)
	return NewStore(rdb, opt), rdb
}

func mustCommit(t *testing.T, s *Store, c Commit) CommitOutcome {
	t.Helper()
	out, err := s.Commit(context.Background(), c)
	if err != nil {
		t.Fatalf("Commit(%s/%s): %v", c.CustomerID, c.CommandID, err)
	}
	if out.Status != Committed {
		t.Fatalf("Commit(%s/%s) = %v, want Committed", c.CustomerID, c.CommandID, out.Status)
	}
	return out
}

func mustDump(t *testing.T, s *Store, customerID string) map[string]string {
	t.Helper()
	d, err := s.Dump(context.Background(), customerID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// waitFor polls cond until it holds or a 5s deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// outboxIDs returns the event IDs in a customer's outbox.
func outboxIDs(t *testing.T, s *Store, customerID string) []string {
	t.Helper()
	ids, err := s.rdb.HKeys(context.Background(), s.outboxKey(customerID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func ev(id string) OutboxEntry {
	return OutboxEntry{ID: id, Subject: "csp.events." + id, Data: []byte(`{"id":"` + id + `"}`)}
}

// written is e as the store returns it from a commit applied at at.
func written(e OutboxEntry, at time.Time) OutboxEntry {
	e.WrittenAt = time.UnixMilli(at.UnixMilli())
	return e
}

// show renders a Snapshot readably for failure messages.
func show(s Snapshot) string {
	fields := map[string]string{}
	for k, v := range s.Fields {
		fields[k] = string(v)
	}
	return fmt.Sprintf("{Version:%d Fields:%q Seen:%s}", s.Version, fields, showHit(s.Seen))
}

// showHit renders an InboxHit readably for failure messages.
func showHit(h *InboxHit) string {
	if h == nil {
		return "nil"
	}
	var pending []string
	for _, e := range h.Pending {
		pending = append(pending, fmt.Sprintf("%s@%d %s %q", e.ID, e.WrittenAt.UnixMilli(), e.Subject, e.Data))
	}
	return fmt.Sprintf("{Result:%q EventIDs:%q Pending:%q}", h.Result, h.EventIDs, pending)
}
