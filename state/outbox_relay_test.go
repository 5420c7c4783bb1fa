package state

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// publishRecorder is a publish func that records what it was given and can
// be told to fail for some customers.
type publishRecorder struct {
	mu     sync.Mutex
	got    map[string][]OutboxEntry // customer -> entries, in publish order
	failOn map[string]bool
	called chan struct{} // receives after every call (non-blocking)
}

func newPublishRecorder(failOn ...string) *publishRecorder {
	p := &publishRecorder{got: map[string][]OutboxEntry{}, failOn: map[string]bool{}, called: make(chan struct{}, 1)}
	for _, c := range failOn {
		p.failOn[c] = true
	}
	return p
}

func (p *publishRecorder) publish(_ context.Context, customerID string, entries []OutboxEntry) error {
	defer func() {
		select {
		case p.called <- struct{}{}:
		default:
		}
	}()
	if p.failOn[customerID] {
		return errors.New("nats: no responders")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got[customerID] = append(p.got[customerID], entries...)
	return nil
}

func (p *publishRecorder) ids() map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for c, es := range p.got {
		for _, e := range es {
			out[c] = append(out[c], e.ID)
		}
	}
	return out
}

func TestOutboxRelaySweepOnce(t *testing.T) {
	const minAge = time.Minute
	now := time.Now()
	old, older, young := now.Add(-2*minAge), now.Add(-3*minAge), now.Add(-minAge/2)

	// Commits are applied in order per customer, each on the previous version.
	type write struct {
		customerID string
		at         time.Time
		events     []string
	}
	tests := []struct {
		name          string
		writes        []write
		writtenAt     time.Time // of every write; zero: its at
		failOn        []string
		wantPublished map[string][]string // per customer, in publish order
		wantLeft      map[string][]string // outbox IDs left, sorted
		wantCount     int
		wantErr       bool
	}{
		{
			name: "old entries are republished in write order and deleted; young ones stay",
			writes: []write{
				// IDs sort differently from write order on purpose; the
				// second commit is stamped earlier (clock skew between
				// processors) and must still come after the first.
				{"c1", old, []string{"z1", "a2"}},
				{"c1", older, []string{"m3"}},
				{"c1", young, []string{"b4"}},
				{"c2", old, []string{"x1"}},
				{"c3", young, []string{"y1"}},
			},
			wantPublished: map[string][]string{"c1": {"z1", "a2", "m3"}, "c2": {"x1"}},
			wantLeft:      map[string][]string{"c1": {"b4"}, "c2": nil, "c3": {"y1"}},
			wantCount:     4,
		},
		{
			name:          "nothing older than MinAge publishes nothing",
			writes:        []write{{"c1", young, []string{"e1"}}},
			wantPublished: map[string][]string{},
			wantLeft:      map[string][]string{"c1": {"e1"}},
		},
		{
			// Simulation mode: the command's time is months ago, the write
			// is now. Age is the write's, or the relay would republish
			// events still being published by the command's own handler.
			name:          "a command at a simulated time long ago written just now is young",
			writes:        []write{{"c1", now.AddDate(0, -10, 0), []string{"e1"}}},
			writtenAt:     young,
			wantPublished: map[string][]string{},
			wantLeft:      map[string][]string{"c1": {"e1"}},
		},
		{
			name:          "a failed publish keeps that customer's entries and the sweep goes on",
			writes:        []write{{"c1", old, []string{"e1"}}, {"c2", old, []string{"e2"}}},
			failOn:        []string{"c1"},
			wantPublished: map[string][]string{"c2": {"e2"}},
			wantLeft:      map[string][]string{"c1": {"e1"}, "c2": nil},
			wantCount:     1,
			wantErr:       true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, rdb := newTestStore(t, Options{})
			versions := map[string]int64{}
			for i, w := range tc.writes {
				var events []OutboxEntry
				for _, id := range w.events {
					events = append(events, ev(id))
				}
				versions[w.customerID] = mustCommit(t, s, Commit{
					CustomerID: w.customerID, CommandID: "cmd-" + string(rune('a'+i)),
					ExpectedVersion: versions[w.customerID], At: w.at, WrittenAt: tc.writtenAt, Events: events,
				}).Version
			}
			// Another store's outboxes share the server but not the prefix.
			foreign := NewStore(rdb, Options{Prefix: "other"})
			mustCommit(t, foreign, Commit{CustomerID: "c1", CommandID: "cmd", At: old, Events: []OutboxEntry{ev("foreign")}})

			p := newPublishRecorder(tc.failOn...)
			r := NewOutboxRelay(s, p.publish, RelayOptions{MinAge: minAge})
			n, err := r.SweepOnce(context.Background())
			if (err != nil) != tc.wantErr {
				t.Errorf("SweepOnce error = %v, want error %v", err, tc.wantErr)
			}
			if n != tc.wantCount {
				t.Errorf("SweepOnce republished %d, want %d", n, tc.wantCount)
			}
			if got := p.ids(); !reflect.DeepEqual(got, tc.wantPublished) {
				t.Errorf("published %q, want %q", got, tc.wantPublished)
			}
			for c, want := range tc.wantLeft {
				got := outboxIDs(t, s, c)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s outbox = %q, want %q", c, got, want)
				}
			}
			if got := outboxIDs(t, foreign, "c1"); len(got) != 1 {
				t.Errorf("relay touched another prefix's outbox: %q", got)
			}
		})
	}
}

func TestOutboxRelayPublishesStoredEntries(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	at := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	e := OutboxEntry{ID: "e1", Subject: "csp.events.c1.created", Data: []byte{0, 1, 0xff}}
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd", At: at, Events: []OutboxEntry{e}})

	p := newPublishRecorder()
	if _, err := NewOutboxRelay(s, p.publish, RelayOptions{}).SweepOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.WrittenAt = at
	if got := p.got["c1"]; !reflect.DeepEqual(got, []OutboxEntry{e}) {
		t.Errorf("published %+v, want %+v", got, e)
	}
}

func TestOutboxRelayStartSweepsAtOnceAndShutdownStops(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd", At: time.Now().Add(-time.Hour), Events: []OutboxEntry{ev("e1")}})

	p := newPublishRecorder()
	logs := &logRecorder{}
	// Interval is an hour: only the immediate sweep can publish in time.
	r := NewOutboxRelay(s, p.publish, RelayOptions{Interval: time.Hour, Logger: logs.log})
	r.Start()
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })

	select {
	case <-p.called:
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not sweep")
	}
	waitFor(t, "the republished entry to be deleted", func() bool { return len(outboxIDs(t, s, "c1")) == 0 })
	waitFor(t, "the republish to be logged", func() bool { return logs.has("republished 1 events") })

	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
	default:
		t.Error("Shutdown returned before the loop stopped")
	}
}

func TestOutboxRelayShutdownWithoutStart(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	r := NewOutboxRelay(s, newPublishRecorder().publish, RelayOptions{})
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Start() // after Shutdown: must not start a loop
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// With several replicas each relays only the customers of the partitions it
// holds: a customer it does not own keeps its entries for its owner.
func TestOutboxRelaySweepsOnlyTheCustomersItOwns(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	at := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	for _, c := range []string{"mine", "theirs"} {
		mustCommit(t, s, Commit{CustomerID: c, CommandID: "cmd", At: at,
			Events: []OutboxEntry{{ID: c + "-e1", Subject: "csp.events." + c + ".created", Data: []byte("{}")}}})
	}
	p := newPublishRecorder()
	owns := func(customerID string) bool { return customerID == "mine" }
	n, err := NewOutboxRelay(s, p.publish, RelayOptions{Owns: owns}).SweepOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]string{"mine": {"mine-e1"}}; n != 1 || !reflect.DeepEqual(p.ids(), want) {
		t.Fatalf("republished %d: %v, want 1: %v", n, p.ids(), want)
	}
	left, err := s.readOutbox(context.Background(), "theirs")
	if err != nil || len(left) != 1 {
		t.Fatalf("the other replica's customer has %d entries left (%v), want 1", len(left), err)
	}
}

// A sweep records what it left: entries younger than MinAge and those it
// could not publish, with the oldest one's write time; what it published
// is gone from the count. The trace context stored with an entry reaches
// publish.
func TestOutboxRelayBacklogIsWhatTheSweepLeft(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	old := time.UnixMilli(time.Now().Add(-time.Hour).UnixMilli())
	failedAt := old.Add(-time.Minute)
	young := time.UnixMilli(time.Now().UnixMilli())
	traced := ev("e1")
	traced.TraceParent, traced.TraceState = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v"
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd", At: old, WrittenAt: old, Events: []OutboxEntry{traced}})
	mustCommit(t, s, Commit{CustomerID: "c2", CommandID: "cmd", At: young, WrittenAt: young, Events: []OutboxEntry{ev("e2")}})
	mustCommit(t, s, Commit{CustomerID: "c3", CommandID: "cmd", At: failedAt, WrittenAt: failedAt, Events: []OutboxEntry{ev("e3"), ev("e4")}})

	p := newPublishRecorder("c3")
	r := NewOutboxRelay(s, p.publish, RelayOptions{MinAge: time.Minute})
	if b := r.Backlog(); b != (Backlog{}) {
		t.Fatalf("backlog before any sweep: %+v", b)
	}
	if _, err := r.SweepOnce(context.Background()); err == nil {
		t.Fatal("SweepOnce: no error for c3's failed publish")
	}
	b := r.Backlog()
	if b.Entries != 3 || !b.Oldest.Equal(failedAt) || b.SweptAt.IsZero() {
		t.Fatalf("backlog %+v, want 3 entries (c2's young one, c3's two unpublished), the oldest written at %v", b, failedAt)
	}
	if got := p.got["c1"]; len(got) != 1 || got[0].TraceParent != traced.TraceParent || got[0].TraceState != "k=v" {
		t.Fatalf("published %+v, want e1 with its trace context", got)
	}
}
