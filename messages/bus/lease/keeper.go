package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// Lease is a partition this replica holds, with its fence token.
type Lease struct {
	Partition int
	Fence     uint64
}

// Owner works the partitions the keeper hands it. Acquire starts working
// the partition and returns once started; Release stops it and returns
// once nothing of it is in flight. The keeper never calls them
// concurrently for one partition, and calls Release only after an Acquire
// that returned nil. When the lease was lost (not renewed in time, or
// taken), Release's ctx has a deadline: the earliest moment the server
// may let another replica have the partition (already past when the key
// was taken). Release must stop the partition all the same once ctx is
// done, cutting off the work in flight instead of waiting for it; the
// fence refuses whatever commit that work would make after the next
// owner's. An error from Release means the partition may still be
// worked: its key is then left to expire rather than deleted.
type Owner interface {
	Acquire(ctx context.Context, l Lease) error
	Release(ctx context.Context, partition int) error
}

// startTimeout bounds Start's watcher's first look at the bucket (the
// bucket's set-up is retried up to bus.DefaultStartupTimeout).
const startTimeout = 30 * time.Second

// maxFence mirrors state.MaxFence: the commit script compares fences
// exactly only up to 2^53.
const maxFence = 1<<53 - 1

// leaseState is where a held lease is in its life.
type leaseState int

const (
	held      leaseState = iota + 1 // acquired; worked once Acquire returned
	releasing                       // given up on purpose: still renewed until Release returned
	lost                            // deadline passed or the key moved: being released, no longer renewed
	gone                            // out of the keeper's hands
)

// lease is one partition this keeper holds.
type lease struct {
	p          int
	fence      uint64
	acquiredAt time.Time // wall clock, for the record

	kvMu    sync.Mutex // serialises this lease's KV writes (renewal, delete)
	rev     uint64     // revision of the last write; kvMu
	failing bool       // the last renewal failed (logged); kvMu

	ops     sync.Mutex  // serialises Owner calls for the partition
	started bool        // Acquire returned nil; ops
	active  atomic.Bool // started and not yet being released (Owned)

	// Keeper.mu:
	state      leaseState
	validUntil time.Time // local monotonic deadline
	timer      *time.Timer
	cancelAcq  context.CancelFunc
}

// Keeper holds this replica's share of the partition leases and tells the
// Owner which partitions to work (see the package doc).
type Keeper struct {
	js       jetstream.JetStream
	cfg      Config
	owner    Owner
	instance string

	kv      jetstream.KeyValue
	view    *view
	watcher jetstream.KeyWatcher

	mu      sync.Mutex
	leases  map[int]*lease // every partition with an Owner call possibly pending
	leaving bool

	poke      chan struct{} // buffered 1: look now
	quit      chan struct{} // closed by Shutdown: no more acquisitions
	stopRenew chan struct{} // closed by Shutdown once every lease is released
	runCtx    context.Context
	cancel    context.CancelFunc
	loops     sync.WaitGroup // reconcile loop
	renewDone chan struct{}
	watchDone chan struct{}
	calls     sync.WaitGroup // Owner calls in flight

	startOnce sync.Once
	startErr  error
	started   atomic.Bool
	stopOnce  sync.Once
	stopErr   error
}

// NewKeeper returns a keeper for cfg (defaults filled in) that hands its
// leases to owner. Nothing happens before Start.
func NewKeeper(js jetstream.JetStream, cfg Config, owner Owner) (*Keeper, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if owner == nil {
		return nil, errors.New("lease: no owner")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Keeper{
		js: js, cfg: cfg, owner: owner, instance: randomHex(8),
		view:   newView(cfg.TTL + cfg.interval()),
		leases: map[int]*lease{},
		poke:   make(chan struct{}, 1), quit: make(chan struct{}), stopRenew: make(chan struct{}),
		renewDone: make(chan struct{}), watchDone: make(chan struct{}),
		runCtx: ctx, cancel: cancel,
	}, nil
}

// ReplicaID is the replica ID the keeper holds leases as.
func (k *Keeper) ReplicaID() string { return k.cfg.ReplicaID }

// Start sets up the bucket, registers this replica as a member, waits for
// the watcher's first look at the bucket and starts acquiring. Calling it
// again returns the first call's result.
func (k *Keeper) Start() error {
	k.startOnce.Do(func() {
		k.startErr = k.start()
		if k.startErr != nil {
			k.cancel()
		}
	})
	return k.startErr
}

func (k *Keeper) start() error {
	// Asked again while JetStream does not answer: replicas started
	// together on a fresh cluster create the bucket at once.
	var kv jetstream.KeyValue
	if err := bus.RetryStartup(k.runCtx, 0, "lease bucket", func(ctx context.Context) (err error) {
		kv, err = ensureBucket(ctx, k.js, k.cfg)
		return err
	}); err != nil {
		return err
	}
	k.kv = kv
	ctx, cancel := context.WithTimeout(k.runCtx, startTimeout)
	defer cancel()
	w, err := kv.WatchAll(k.runCtx)
	if err != nil {
		return fmt.Errorf("lease: watch bucket %s: %w", k.cfg.Bucket, err)
	}
	k.watcher = w
	if err := k.putMember(ctx); err != nil {
		_ = w.Stop()
		return err
	}
	if err := k.firstLook(ctx); err != nil {
		_ = w.Stop()
		return err
	}
	go k.watchLoop()
	go k.renewLoop()
	k.loops.Add(1)
	go k.reconcileLoop()
	k.started.Store(true)
	return nil
}

// firstLook reads the watcher's initial values, up to its end-of-initial
// marker (nil).
func (k *Keeper) firstLook(ctx context.Context) error {
	for {
		select {
		case e, ok := <-k.watcher.Updates():
			if !ok {
				return fmt.Errorf("lease: watch bucket %s: closed", k.cfg.Bucket)
			}
			if e == nil {
				return nil
			}
			k.view.apply(e)
		case <-ctx.Done():
			return fmt.Errorf("lease: first look at bucket %s: %w", k.cfg.Bucket, ctx.Err())
		}
	}
}

func (k *Keeper) watchLoop() {
	defer close(k.watchDone)
	for {
		select {
		case e, ok := <-k.watcher.Updates():
			if !ok {
				return
			}
			if e != nil && k.view.apply(e) {
				k.lookNow()
			}
		case <-k.renewDone: // shut down; the watcher may not close its channel on a dead connection
			return
		}
	}
}

func (k *Keeper) lookNow() {
	select {
	case k.poke <- struct{}{}:
	default:
	}
}

// Owned lists the partitions this replica works: acquired, started, and
// not being released.
func (k *Keeper) Owned() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []int
	for p, l := range k.leases {
		if l.state == held && l.active.Load() {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Shutdown stops acquiring, deletes this replica's member key and
// releases every lease (Owner.Release, then the key's delete, so the
// others take over at once), renewing them until released. If ctx
// expires first, the Owner calls' context is cancelled, the leases not yet
// released are left to expire, and ctx's error is returned.
func (k *Keeper) Shutdown(ctx context.Context) error {
	k.stopOnce.Do(func() { k.stopErr = k.shutdown(ctx) })
	return k.stopErr
}

func (k *Keeper) shutdown(ctx context.Context) error {
	close(k.quit)
	k.startOnce.Do(func() {}) // a Start after Shutdown does nothing
	if !k.started.Load() {
		k.cancel()
		return nil
	}
	k.loops.Wait() // no acquisition in flight from here on

	k.mu.Lock()
	k.leaving = true
	var all []*lease
	for _, l := range k.leases {
		all = append(all, l)
	}
	k.mu.Unlock()
	if err := k.kv.Delete(ctx, memberKey(k.cfg.ReplicaID)); err != nil {
		k.cfg.Logger("lease: delete member key", err)
	}
	for _, l := range all {
		k.release(l)
	}
	released := make(chan struct{})
	go func() { k.calls.Wait(); close(released) }()
	var err error
	select {
	case <-released:
	case <-ctx.Done():
		err = ctx.Err()
		k.cancel()
		<-released
	}
	_ = k.watcher.Stop()
	close(k.stopRenew)
	<-k.renewDone
	<-k.watchDone
	k.cancel()
	return err
}

func (k *Keeper) reconcileLoop() {
	defer k.loops.Done()
	tick := time.NewTicker(k.cfg.interval())
	defer tick.Stop()
	for {
		select {
		case <-k.quit:
			return
		default:
		}
		k.reconcile()
		select {
		case <-k.quit:
			return
		case <-tick.C:
		case <-k.poke:
		}
	}
}

// reconcile moves this keeper's holding towards its fair share: releases
// the surplus, least preferred first, or acquires free partitions, most
// preferred first.
func (k *Keeper) reconcile() {
	share := fairShare(k.cfg.Partitions, k.view.liveMembers(k.cfg.ReplicaID))
	k.mu.Lock()
	var mine []int
	for p, l := range k.leases {
		if l.state == held {
			mine = append(mine, p)
		}
	}
	k.mu.Unlock()
	if len(mine) > share {
		surplus := byPreference(k.cfg.ReplicaID, mine)[share:]
		for _, p := range surplus {
			k.mu.Lock()
			l := k.leases[p]
			k.mu.Unlock()
			if l != nil {
				k.release(l)
			}
		}
		return
	}
	need := share - len(mine)
	if need == 0 {
		return
	}
	var free []int
	k.mu.Lock()
	for p := range k.cfg.Partitions {
		if _, ours := k.leases[p]; !ours && k.view.looksFree(p) {
			free = append(free, p)
		}
	}
	k.mu.Unlock()
	for _, p := range byPreference(k.cfg.ReplicaID, free) {
		if need == 0 {
			return
		}
		select {
		case <-k.quit:
			return
		default:
		}
		got, err := k.acquire(p)
		if err != nil {
			// NATS is failing; one log line a round, not one per partition.
			k.cfg.Logger(fmt.Sprintf("lease: acquire partition %d", p), err)
			return
		}
		if got {
			need--
		}
	}
}

// acquire creates partition p's key and, if it was free, hands the lease
// to the Owner. It reports whether it got the lease; err is a failure to
// ask.
func (k *Keeper) acquire(p int) (bool, error) {
	start := time.Now()
	value, _ := json.Marshal(record{Replica: k.cfg.ReplicaID, Instance: k.instance, AcquiredAt: start.UTC()})
	ctx, cancel := context.WithTimeout(k.runCtx, k.cfg.interval())
	defer cancel()
	rev, err := k.kv.Create(ctx, partitionKey(p), value)
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return false, nil
	case err != nil:
		return false, err
	case rev > maxFence:
		k.deleteKey(p, rev)
		return false, fmt.Errorf("fence %d above %d: the bucket must be created anew", rev, uint64(maxFence))
	}
	acqCtx, cancelAcq := context.WithCancel(k.runCtx)
	l := &lease{p: p, fence: rev, acquiredAt: start.UTC(), rev: rev, state: held, validUntil: start.Add(k.cfg.TTL - k.cfg.SafetyMargin), cancelAcq: cancelAcq}
	k.mu.Lock()
	l.timer = time.AfterFunc(time.Until(l.validUntil), func() { k.checkDeadline(l) })
	k.leases[p] = l
	k.calls.Add(1)
	k.mu.Unlock()
	go k.startWork(acqCtx, l)
	return true, nil
}

// startWork calls Owner.Acquire unless the lease was lost or given up
// before its turn.
func (k *Keeper) startWork(ctx context.Context, l *lease) {
	defer k.calls.Done()
	l.ops.Lock()
	k.mu.Lock()
	st := l.state
	k.mu.Unlock()
	var err error
	if st == held {
		if err = k.owner.Acquire(ctx, Lease{Partition: l.p, Fence: l.fence}); err == nil {
			l.started = true
			l.active.Store(true)
		}
	}
	l.ops.Unlock()
	if st != held {
		return
	}
	if err != nil {
		k.cfg.Logger(fmt.Sprintf("lease: owner could not start partition %d; giving the lease up", l.p), err)
		k.release(l)
		return
	}
	k.cfg.Logger(fmt.Sprintf("lease: %s works partition %d (fence %d)", k.cfg.ReplicaID, l.p, l.fence), nil)
}

// release gives a held lease up: Owner.Release (the lease still renewed),
// then the key's delete on its last revision, so the next owner can start
// at once.
func (k *Keeper) release(l *lease) {
	k.mu.Lock()
	if l.state != held {
		k.mu.Unlock()
		return
	}
	l.state = releasing
	l.active.Store(false)
	k.calls.Add(1)
	k.mu.Unlock()
	go func() {
		defer k.calls.Done()
		err := k.stopWork(k.runCtx, l)
		k.mu.Lock()
		k.forget(l)
		k.mu.Unlock()
		if err != nil {
			// Not known to have stopped: the key is left to expire, not
			// renewed any more, and the fence covers a straggler.
			k.cfg.Logger(fmt.Sprintf("lease: owner could not stop partition %d; its lease expires in %v", l.p, k.cfg.TTL), err)
			return
		}
		// If the lease was lost meanwhile, this delete is a no-op unless
		// the key is still ours.
		l.kvMu.Lock()
		k.deleteKey(l.p, l.rev)
		l.kvMu.Unlock()
	}()
}

// stopWork calls Owner.Release if Acquire had started the partition.
func (k *Keeper) stopWork(ctx context.Context, l *lease) error {
	l.ops.Lock()
	defer l.ops.Unlock()
	if !l.started {
		return nil
	}
	l.started = false
	l.active.Store(false)
	if err := k.owner.Release(ctx, l.p); err != nil {
		return err
	}
	k.cfg.Logger(fmt.Sprintf("lease: %s released partition %d", k.cfg.ReplicaID, l.p), nil)
	return nil
}

// forget drops l from the keeper; k.mu held.
func (k *Keeper) forget(l *lease) {
	l.state = gone
	l.timer.Stop()
	l.cancelAcq()
	if k.leases[l.p] == l {
		delete(k.leases, l.p)
	}
}

// deleteKey deletes partition p's key if its revision is still rev, that
// is if nobody wrote it since this keeper did.
func (k *Keeper) deleteKey(p int, rev uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.interval())
	defer cancel()
	err := k.kv.Delete(ctx, partitionKey(p), jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		k.cfg.Logger(fmt.Sprintf("lease: delete the key of partition %d (it expires in %v)", p, k.cfg.TTL), err)
	}
}
