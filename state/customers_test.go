package state

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// counter is an update closure that sets "n" to one more than the state it
// is given holds, with one event, and counts its runs; before each run it
// calls meanwhile (another writer acting between the load and the commit).
type counter struct {
	customer, command string
	runs              int
	meanwhile         func(run int)
}

func (c *counter) update(snap Snapshot) (*Commit, error) {
	c.runs++
	if c.meanwhile != nil {
		c.meanwhile(c.runs)
	}
	n, _ := strconv.Atoi(string(snap.Fields["n"]))
	return &Commit{CustomerID: c.customer, CommandID: c.command, Set: map[string][]byte{"n": []byte(strconv.Itoa(n + 1))},
		Events: []OutboxEntry{ev(c.command + "-e")}, Result: []byte("ok"), At: t0}, nil
}

// otherWriter commits to customer behind the repository's back, as another
// replica would.
func otherWriter(t *testing.T, s *Store, customer string) func(int) {
	return func(run int) {
		snap, err := s.Load(context.Background(), customer, "")
		if err != nil {
			t.Fatal(err)
		}
		mustCommit(t, s, Commit{CustomerID: customer, CommandID: "other-" + strconv.Itoa(run), ExpectedVersion: snap.Version,
			Set: map[string][]byte{"n": []byte("100")}, Result: []byte("ok"), At: t0})
	}
}

func TestCustomersApply(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// setup runs first, on a repository of its own (so the repository
		// under test has nothing cached unless the case says so).
		setup      func(t *testing.T, s *Store, c *Customers)
		meanwhile  func(t *testing.T, s *Store) func(int)
		wantStatus CommitStatus
		wantErr    error
		wantRuns   int
		wantN      string // the stored "n" afterwards
		wantEvents []string
	}{
		{
			name:       "a first command is decided once and committed with its events",
			wantStatus: Committed, wantRuns: 1, wantN: "1", wantEvents: []string{"cmd-e"},
		},
		{
			name: "a command applied before is not decided again; its unconfirmed events come back",
			setup: func(t *testing.T, s *Store, c *Customers) {
				if _, err := c.Apply(ctx, "c1", "cmd", (&counter{customer: "c1", command: "cmd"}).update); err != nil {
					t.Fatal(err)
				}
			},
			wantStatus: Duplicate, wantRuns: 0, wantN: "1", wantEvents: []string{"cmd-e"},
		},
		{
			name:       "a version conflict decides again on the other writer's state",
			meanwhile:  func(t *testing.T, s *Store) func(int) { f := otherWriter(t, s, "c1"); return onlyOnRun(1, f) },
			wantStatus: Committed, wantRuns: 2, wantN: "101", wantEvents: []string{"cmd-e"},
		},
		{
			name:      "a customer that changes under every decision fails with ErrKeptChanging",
			meanwhile: func(t *testing.T, s *Store) func(int) { return otherWriter(t, s, "c1") },
			wantErr:   ErrKeptChanging, wantRuns: MaxConflictRetries + 1, wantN: "100",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{})
			if tc.setup != nil {
				tc.setup(t, s, NewCustomers(s, 0))
			}
			u := &counter{customer: "c1", command: "cmd"}
			if tc.meanwhile != nil {
				u.meanwhile = tc.meanwhile(t, s)
			}
			got, err := NewCustomers(s, 0).Apply(ctx, "c1", "cmd", u.update)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Apply: error %v, want %v", err, tc.wantErr)
			}
			if got.Status != tc.wantStatus || u.runs != tc.wantRuns {
				t.Fatalf("Apply: status %v after %d decisions, want %v after %d", got.Status, u.runs, tc.wantStatus, tc.wantRuns)
			}
			var ids []string
			for _, e := range got.Events {
				ids = append(ids, e.ID)
			}
			if strings.Join(ids, ",") != strings.Join(tc.wantEvents, ",") {
				t.Fatalf("events %v, want %v", ids, tc.wantEvents)
			}
			snap, err := s.Load(ctx, "c1", "")
			if err != nil {
				t.Fatal(err)
			}
			if n := string(snap.Fields["n"]); n != tc.wantN {
				t.Fatalf("stored n = %q, want %q", n, tc.wantN)
			}
		})
	}
}

// The cache is what the repository committed: the next command of the
// customer is decided on it without a load, and a stale entry (another
// writer committed since) costs one conflict, never a decision on the
// stale state that commits.
func TestCustomersApplyDecidesOnTheCacheAndCatchesItsStaleness(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, Options{})
	c := NewCustomers(s, 0)
	if _, err := c.Apply(ctx, "c1", "cmd-1", (&counter{customer: "c1", command: "cmd-1"}).update); err != nil {
		t.Fatal(err)
	}
	otherWriter(t, s, "c1")(1) // n = 100 at version 2; the cache still says n = 1 at version 1
	u := &counter{customer: "c1", command: "cmd-2"}
	var seen []string
	decide := func(snap Snapshot) (*Commit, error) {
		seen = append(seen, string(snap.Fields["n"]))
		return u.update(snap)
	}
	if _, err := c.Apply(ctx, "c1", "cmd-2", decide); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "1,100" {
		t.Fatalf("decided on n = %v, want first the cached 1, then the stored 100", seen)
	}
	snap, _ := s.Load(ctx, "c1", "")
	if string(snap.Fields["n"]) != "101" {
		t.Fatalf("stored n = %q, want 101", snap.Fields["n"])
	}
}

// An update that returns no commit writes nothing, not even the inbox.
func TestCustomersApplyWithoutACommitWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, Options{})
	got, err := NewCustomers(s, 0).Apply(ctx, "c1", "timer-not-due", func(Snapshot) (*Commit, error) { return nil, nil })
	if err != nil || got.Status != 0 || len(got.Events) != 0 {
		t.Fatalf("Apply = %+v, %v; want nothing", got, err)
	}
	if d := mustDump(t, s, "c1"); len(d) != 0 {
		t.Fatalf("keys written: %v", d)
	}
}

func onlyOnRun(n int, f func(int)) func(int) {
	return func(run int) {
		if run == n {
			f(run)
		}
	}
}

// A commit that gives its decoded state (Commit.Decoded) is remembered as
// that state: the customer's next decision gets it back, without fields to
// decode; a stale one is caught like stale fields; and a commit made on it
// without a decoded state of its own is not cached (there are no fields to
// apply it to), so the decision after it reads Redis.
func TestCustomersApplyCachesTheDecodedStateTheCommitGave(t *testing.T) {
	ctx := context.Background()
	s, _ := newTestStore(t, Options{})
	c := NewCustomers(s, 0)
	type decoded struct{ n int }
	// decodedCounter keeps n both stored and decoded, and records what
	// each decision was given.
	var seen []string
	decodedCounter := func(command string, giveDecoded bool) Update {
		return func(snap Snapshot) (*Commit, error) {
			n := 0
			if d, ok := snap.Decoded.(decoded); ok {
				n = d.n
				seen = append(seen, "decoded "+strconv.Itoa(n))
			} else {
				n, _ = strconv.Atoi(string(snap.Fields["n"]))
				seen = append(seen, "fields "+strconv.Itoa(n))
			}
			commit := &Commit{CustomerID: "c1", CommandID: command, Set: map[string][]byte{"n": []byte(strconv.Itoa(n + 1))}, Result: []byte("ok"), At: t0}
			if giveDecoded {
				commit.Decoded = decoded{n + 1}
			}
			return commit, nil
		}
	}
	for i, step := range []struct {
		giveDecoded bool
		meanwhile   func()
	}{
		{giveDecoded: true},  // loads n = 0 from Redis, caches decoded 1
		{giveDecoded: true},  // decided on decoded 1
		{giveDecoded: false}, // decided on decoded 2; commits 3 without a decoded state
		{giveDecoded: true},  // nothing cached: reads 3 from Redis
		{giveDecoded: true, meanwhile: func() { otherWriter(t, s, "c1")(1) }}, // decoded 4 is stale: conflict, then 100 from Redis
	} {
		if step.meanwhile != nil {
			step.meanwhile()
		}
		if _, err := c.Apply(ctx, "c1", "cmd-"+strconv.Itoa(i), decodedCounter("cmd-"+strconv.Itoa(i), step.giveDecoded)); err != nil {
			t.Fatal(err)
		}
	}
	want := "fields 0,decoded 1,decoded 2,fields 3,decoded 4,fields 100"
	if got := strings.Join(seen, ","); got != want {
		t.Fatalf("decisions were given\n %s\nwant\n %s", got, want)
	}
	if snap, _ := s.Load(ctx, "c1", ""); string(snap.Fields["n"]) != "101" {
		t.Fatalf("stored n = %q, want 101", snap.Fields["n"])
	}
}
