package lease

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

const (
	partitionKeyPrefix = "partition."
	memberKeyPrefix    = "member."
)

func partitionKey(p int) string       { return partitionKeyPrefix + strconv.Itoa(p) }
func memberKey(replica string) string { return memberKeyPrefix + replica }

// record is the value of a partition key.
type record struct {
	Replica  string `json:"replica"`
	Instance string `json:"instance"`
	// Fence is 0 in the entry Create wrote (its own revision is the
	// fence) and the fence in every renewal.
	Fence      uint64    `json:"fence"`
	AcquiredAt time.Time `json:"acquired_at"`
}

// member is the value of a member key.
type member struct {
	Replica   string    `json:"replica"`
	Instance  string    `json:"instance"`
	StartedAt time.Time `json:"started_at"`
}

// view is the bucket as this keeper's watcher last saw it. It only guides
// the keeper (which partitions look free, how many members live); every
// write is a compare-and-set, so a stale view costs a failed Create, never
// a second owner. An entry counts as gone once its key was deleted or
// expired (the watcher sees the marker) or, should a marker be missed,
// once the watcher has not seen it written for longer than stale.
type view struct {
	stale time.Duration

	mu         sync.Mutex
	partitions map[int]time.Time    // held partition -> when last seen written (local clock)
	members    map[string]time.Time // live replica ID -> when last seen written
}

func newView(stale time.Duration) *view {
	return &view{stale: stale, partitions: map[int]time.Time{}, members: map[string]time.Time{}}
}

// apply records one watched entry and reports whether the keeper should
// look at once: something was freed, or a member joined.
func (v *view) apply(e jetstream.KeyValueEntry) (changed bool) {
	gone := e.Operation() != jetstream.KeyValuePut
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	switch key := e.Key(); {
	case strings.HasPrefix(key, partitionKeyPrefix):
		p, err := strconv.Atoi(key[len(partitionKeyPrefix):])
		if err != nil {
			return false
		}
		if gone {
			delete(v.partitions, p)
			return true
		}
		v.partitions[p] = now
	case strings.HasPrefix(key, memberKeyPrefix):
		id := key[len(memberKeyPrefix):]
		if gone {
			delete(v.members, id)
			return true
		}
		var m member
		if json.Unmarshal(e.Value(), &m) != nil {
			return false
		}
		seen, known := v.members[id]
		v.members[id] = now
		return !known || now.Sub(seen) > v.stale
	}
	return false
}

// liveMembers counts the members seen written within stale, self always
// included.
func (v *view) liveMembers(self string) int {
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 1
	for id, seen := range v.members {
		if id != self && now.Sub(seen) <= v.stale {
			n++
		}
	}
	return n
}

// looksFree reports whether partition p has no live holder in the view.
func (v *view) looksFree(p int) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	seen, ok := v.partitions[p]
	return !ok || time.Since(seen) > v.stale
}
