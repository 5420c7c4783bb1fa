package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Holder is who holds a partition's lease, as the bucket says now.
type Holder struct {
	Replica string
	// Fence is the lease's fence: its first revision.
	Fence      uint64
	AcquiredAt time.Time
}

// Holders reads the lease of each of partitions partitions from bucket
// (DefaultBucket when empty): the holder by partition, absent for a
// partition nobody holds. It only reads (one direct get per partition);
// a missing bucket means no lease was ever taken.
func Holders(ctx context.Context, js jetstream.JetStream, bucket string, partitions int) (map[int]Holder, error) {
	if bucket == "" {
		bucket = DefaultBucket
	}
	out := map[int]Holder{}
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lease: bucket %s: %w", bucket, err)
	}
	for p := range partitions {
		e, err := kv.Get(ctx, partitionKey(p))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("lease: bucket %s: partition %d: %w", bucket, p, err)
		}
		var r record
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			return nil, fmt.Errorf("lease: bucket %s: partition %d: %w", bucket, p, err)
		}
		fence := r.Fence
		if fence == 0 { // the entry Create wrote: its revision is the fence
			fence = e.Revision()
		}
		out[p] = Holder{Replica: r.Replica, Fence: fence, AcquiredAt: r.AcquiredAt}
	}
	return out, nil
}
