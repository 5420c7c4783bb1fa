package lease

import (
	"context"
	"testing"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// Holders reads who holds each partition's lease, with the fence the
// holder works under: before any keeper started there is no bucket and no
// holder; with two keepers each partition names the one whose Owned lists
// it, at the fence its Acquire was given.
func TestHoldersNamesEachPartitionsKeeperAndFence(t *testing.T) {
	s := natstest.RunServer(t)
	_, js := natstest.Connect(t, s)
	ctx := context.Background()
	if none, err := Holders(ctx, js, "", testPartitions); err != nil || len(none) != 0 {
		t.Fatalf("before any keeper: %v %v", none, err)
	}
	r := newRecorder()
	a := startKeeper(t, s, r, "a")
	b := startKeeper(t, s, r, "b")
	waitUntil(t, converge, "16/16", func() bool { return r.shares(16, 16) })
	holders, err := Holders(ctx, js, DefaultBucket, testPartitions)
	if err != nil {
		t.Fatal(err)
	}
	if len(holders) != testPartitions {
		t.Fatalf("%d holders of %d partitions", len(holders), testPartitions)
	}
	for _, k := range []*testKeeper{a, b} {
		for _, p := range k.Owned() {
			h := holders[p]
			k.mu.Lock()
			fence := k.leases[p].fence
			k.mu.Unlock()
			if h.Replica != k.ReplicaID() || h.Fence != fence || h.AcquiredAt.IsZero() {
				t.Errorf("partition %d: holder %+v, want %s at fence %d", p, h, k.ReplicaID(), fence)
			}
		}
	}
}
