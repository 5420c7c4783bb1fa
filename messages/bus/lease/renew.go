package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// renewLoop renews the member key and every lease every TTL/3, apart from
// the Owner calls, which may take long (Release waits for in-flight
// commands) and must not delay a renewal. It runs until Shutdown has
// released every lease.
func (k *Keeper) renewLoop() {
	defer close(k.renewDone)
	tick := time.NewTicker(k.cfg.interval())
	defer tick.Stop()
	for {
		select {
		case <-k.stopRenew:
			return
		case <-tick.C:
		}
		k.renewAll()
	}
}

func (k *Keeper) renewAll() {
	k.mu.Lock()
	leaving := k.leaving
	var ls []*lease
	for _, l := range k.leases {
		if l.state == held || l.state == releasing {
			ls = append(ls, l)
		}
	}
	k.mu.Unlock()
	var wg sync.WaitGroup
	if !leaving {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(k.runCtx, k.cfg.interval())
			defer cancel()
			if err := k.putMember(ctx); err != nil {
				k.cfg.Logger("lease: renew member key", err)
			}
		})
	}
	// Concurrently, so one slow write does not push the others past
	// their deadlines.
	for _, l := range ls {
		wg.Go(func() { k.renew(l) })
	}
	wg.Wait()
}

func (k *Keeper) putMember(ctx context.Context) error {
	value, _ := json.Marshal(member{Replica: k.cfg.ReplicaID, Instance: k.instance, StartedAt: time.Now().UTC()})
	if _, err := k.kv.Put(ctx, memberKey(k.cfg.ReplicaID), value); err != nil {
		return fmt.Errorf("lease: put member key: %w", err)
	}
	return nil
}

// renew writes the lease again on the revision this keeper last wrote.
// Success moves the deadline to the start of this write + TTL − margin; a
// revision mismatch means someone else wrote the key (it expired and was
// taken, or was deleted), so the lease is lost at once; any other failure
// leaves the deadline where it was.
func (k *Keeper) renew(l *lease) {
	l.kvMu.Lock()
	defer l.kvMu.Unlock()
	k.mu.Lock()
	st := l.state
	k.mu.Unlock()
	if st != held && st != releasing {
		return
	}
	value, _ := json.Marshal(record{Replica: k.cfg.ReplicaID, Instance: k.instance, Fence: l.fence, AcquiredAt: l.acquiredAt})
	ctx, cancel := context.WithTimeout(k.runCtx, k.cfg.interval())
	defer cancel()
	start := time.Now()
	rev, err := k.kv.Update(ctx, partitionKey(l.p), value, l.rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) && k.stillOurs(ctx, l) {
		rev, err = k.kv.Update(ctx, partitionKey(l.p), value, l.rev)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case err == nil:
		l.rev = rev
		l.failing = false
		if l.state == held || l.state == releasing {
			l.validUntil = start.Add(k.cfg.TTL - k.cfg.SafetyMargin)
			l.timer.Reset(time.Until(l.validUntil))
		}
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		k.lose(l, "its key was written by someone else", true)
	case !l.failing: // once per outage, not once per renewal
		l.failing = true
		k.cfg.Logger(fmt.Sprintf("lease: renew partition %d (lost in %v unless renewed)", l.p, time.Until(l.validUntil).Round(time.Millisecond)), err)
	}
}

// stillOurs reports whether partition l.p's key was last written by this
// keeper's renewal of l after all (an Update whose reply was lost, e.g.
// across a stream leader change), adopting that write's revision. Only
// this instance writes records with its instance ID and this fence, so no
// one else can have held the key in between. The deadline stays at the
// last confirmed renewal's, earlier than that write's expiry. l.kvMu held.
func (k *Keeper) stillOurs(ctx context.Context, l *lease) bool {
	e, err := k.kv.Get(ctx, partitionKey(l.p))
	if err != nil {
		return false
	}
	var rec record
	if json.Unmarshal(e.Value(), &rec) != nil || rec.Instance != k.instance || rec.Fence != l.fence {
		return false
	}
	l.rev = e.Revision()
	return true
}

// checkDeadline runs when l's deadline timer fires.
func (k *Keeper) checkDeadline(l *lease) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if time.Now().Before(l.validUntil) { // renewed meanwhile
		return
	}
	k.lose(l, "no renewal before its deadline", false)
}

// lose stops the partition of a lease that may be someone else's by now:
// Owner.Release at once (after an Acquire in progress, which is
// cancelled), then the key's delete in case it is still ours. Release's
// deadline is when the server may expire the entry, or now when the key
// was taken: someone else may work the partition already. k.mu held.
func (k *Keeper) lose(l *lease, why string, taken bool) {
	if l.state != held && l.state != releasing {
		return
	}
	wasReleasing := l.state == releasing
	l.state = lost
	l.active.Store(false)
	l.timer.Stop()
	l.cancelAcq()
	k.cfg.Logger(fmt.Sprintf("lease: %s lost partition %d: %s", k.cfg.ReplicaID, l.p, why), errors.New("lease lost"))
	if wasReleasing { // its release is under way and forgets it
		return
	}
	// The server expires the entry no earlier than the last renewal's
	// start + TTL, SafetyMargin after the deadline.
	expiry := l.validUntil.Add(k.cfg.SafetyMargin)
	if taken {
		expiry = time.Now()
	}
	k.calls.Add(1)
	go func() {
		defer k.calls.Done()
		ctx, cancel := context.WithDeadline(k.runCtx, expiry)
		err := k.stopWork(ctx, l)
		cancel()
		if err != nil {
			k.cfg.Logger(fmt.Sprintf("lease: owner could not stop lost partition %d", l.p), err)
		}
		l.kvMu.Lock()
		if err == nil {
			k.deleteKey(l.p, l.rev)
		}
		l.kvMu.Unlock()
		k.mu.Lock()
		k.forget(l)
		k.mu.Unlock()
	}()
}
