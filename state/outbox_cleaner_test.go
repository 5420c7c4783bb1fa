package state

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// logRecorder is a Logger that keeps what it was given.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) log(msg string, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, fmt.Sprintf("%s: %v", msg, err))
}

func (l *logRecorder) has(substr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, substr) {
			return true
		}
	}
	return false
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
}

func TestOutboxCleanerDeletes(t *testing.T) {
	tests := []struct {
		name string
		opt  CleanerOptions
		// flushBeforeShutdown: the deletions must happen while running
		// (batch full or MaxDelay); otherwise only Shutdown may do them.
		flushBeforeShutdown bool
	}{
		{"a full batch flushes without waiting for MaxDelay", CleanerOptions{MaxBatch: 4, MaxDelay: time.Hour}, true},
		{"a partial batch flushes after MaxDelay", CleanerOptions{MaxBatch: 1000, MaxDelay: 2 * time.Millisecond}, true},
		{"Shutdown flushes a partial batch", CleanerOptions{MaxBatch: 1000, MaxDelay: time.Hour}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newTestStore(t, Options{})
			// c1 and c2 each have e0..e2 written; the cleaner is told about
			// e0 and e1 of both (4 IDs), so e2 of each must stay.
			for _, c := range []string{"c1", "c2"} {
				mustCommit(t, s, Commit{CustomerID: c, CommandID: "cmd", At: t0, Events: []OutboxEntry{ev("e0"), ev("e1"), ev("e2")}})
			}
			logs := &logRecorder{}
			tc.opt.Logger = logs.log
			cl := NewOutboxCleaner(s, tc.opt)
			cl.Start()
			t.Cleanup(func() { _ = cl.Shutdown(context.Background()) })

			cl.Enqueue("c1", "e0")
			cl.Enqueue("c2", "e0", "e1")
			cl.Enqueue("c1", "e1")

			onlyE2Left := func() bool {
				return slices.Equal(outboxIDs(t, s, "c1"), []string{"e2"}) && slices.Equal(outboxIDs(t, s, "c2"), []string{"e2"})
			}
			if tc.flushBeforeShutdown {
				waitFor(t, "the cleaner to delete e0 and e1", onlyE2Left)
			} else if got := outboxIDs(t, s, "c1"); len(got) != 3 {
				t.Fatalf("deleted before Shutdown although neither batch nor delay was reached: c1 outbox %q", got)
			}
			if err := cl.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if !onlyE2Left() {
				t.Errorf("after Shutdown: c1 outbox %q, c2 outbox %q, want [e2] each", outboxIDs(t, s, "c1"), outboxIDs(t, s, "c2"))
			}
			if logs.String() != "" {
				t.Errorf("unexpected log: %s", logs)
			}
		})
	}
}

func TestOutboxCleanerLogsFailedDeletions(t *testing.T) {
	// Port 1 on loopback refuses connections at once: every flush fails.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	logs := &logRecorder{}
	cl := NewOutboxCleaner(NewStore(dead, Options{}), CleanerOptions{MaxDelay: time.Millisecond, Logger: logs.log})
	cl.Start()

	cl.Enqueue("c1", "e1", "e2")
	waitFor(t, "the failed flush to be logged", func() bool { return logs.has("deleting 2 published events failed") })

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := cl.Shutdown(ctx)
	// Either Shutdown's deadline cut the retries short or the retries ran
	// out first; both must say so.
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		if !logs.has("shut down with 2 deletions undone") {
			t.Errorf("Shutdown timed out without logging the undone deletions:\n%s", logs)
		}
	case err == nil:
		if !logs.has("giving up on deleting 2 published events") {
			t.Errorf("Shutdown returned without logging the dropped deletions:\n%s", logs)
		}
	default:
		t.Errorf("Shutdown: %v", err)
	}

	cl.Enqueue("c1", "e3")
	if !logs.has(errCleanerClosed.Error()) {
		t.Errorf("Enqueue after Shutdown was not logged:\n%s", logs)
	}
}

func TestOutboxCleanerShutdownWithoutStartDrainsQueue(t *testing.T) {
	s, _ := newTestStore(t, Options{})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "cmd", At: t0, Events: []OutboxEntry{ev("e1"), ev("e2")}})
	cl := NewOutboxCleaner(s, CleanerOptions{})
	cl.Enqueue("c1", "e1")
	if err := cl.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := outboxIDs(t, s, "c1"); !reflect.DeepEqual(got, []string{"e2"}) {
		t.Errorf("outbox = %q, want [e2]", got)
	}
}
