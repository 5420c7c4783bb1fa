package state

import (
	"context"
	"testing"
	"time"
)

// A dead-lettered command is recorded apart from the customer's state and
// kept as long as the inbox keeps applied commands.
func TestDeadLetteredIsRecordedForTheInboxRetention(t *testing.T) {
	ctx := context.Background()
	s, rdb := newTestStore(t, Options{InboxRetention: time.Hour})
	if dead, err := s.DeadLettered(ctx, "C1", "cmd-1"); err != nil || dead {
		t.Fatalf("before: %v %v", dead, err)
	}
	if err := s.MarkDeadLettered(ctx, "C1", "cmd-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if dead, err := s.DeadLettered(ctx, "C1", "cmd-1"); err != nil || !dead {
		t.Fatalf("after: %v %v", dead, err)
	}
	if dead, _ := s.DeadLettered(ctx, "C1", "cmd-2"); dead {
		t.Fatal("another command counts as dead-lettered")
	}
	if applied, _ := s.Applied(ctx, "C1", "cmd-1"); applied {
		t.Fatal("a dead-lettered command counts as applied")
	}
	if ttl := rdb.PTTL(ctx, s.deadKey("C1")).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("ttl %v, want the inbox retention", ttl)
	}
	if snap, err := s.Load(ctx, "C1", "cmd-1"); err != nil || snap.Version != 0 || len(snap.Fields) != 0 || snap.Seen != nil {
		t.Fatalf("state after marking: %+v %v", snap, err)
	}
}
