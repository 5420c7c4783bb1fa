package state

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

func TestConcurrentCommitsOnOneVersionHaveOneWinner(t *testing.T) {
	const writers = 20
	s, _ := newTestStore(t, Options{})
	mustCommit(t, s, Commit{CustomerID: "c1", CommandID: "seed", At: t0})

	start := make(chan struct{})
	outcomes := make([]CommitOutcome, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			<-start
			outcomes[i], errs[i] = s.Commit(context.Background(), Commit{
				CustomerID: "c1", CommandID: fmt.Sprintf("cmd-%d", i), ExpectedVersion: 1, At: t0,
				Set:    map[string][]byte{"winner": []byte(fmt.Sprint(i))},
				Events: []OutboxEntry{ev(fmt.Sprintf("e%d", i))},
			})
		})
	}
	close(start)
	wg.Wait()

	winner, conflicts := -1, 0
	for i := range writers {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		switch outcomes[i].Status {
		case Committed:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both committed", winner, i)
			}
			winner = i
		case VersionConflict:
			conflicts++
		default:
			t.Errorf("writer %d: %v", i, outcomes[i].Status)
		}
	}
	if winner < 0 || conflicts != writers-1 {
		t.Fatalf("winner %d, %d conflicts; want one winner and %d conflicts", winner, conflicts, writers-1)
	}

	snap, err := s.Load(context.Background(), "c1", "")
	if err != nil {
		t.Fatal(err)
	}
	if snap.Version != 2 || string(snap.Fields["winner"]) != fmt.Sprint(winner) {
		t.Errorf("state = v%d winner %q, want v2 winner %d", snap.Version, snap.Fields["winner"], winner)
	}
	if ids := outboxIDs(t, s, "c1"); len(ids) != 1 || ids[0] != fmt.Sprintf("e%d", winner) {
		t.Errorf("outbox = %q, want only the winner's event", ids)
	}
}
