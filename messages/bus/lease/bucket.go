package lease

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// bucketStream is the stream behind a KV bucket (nats.go's naming).
func bucketStream(bucket string) string { return "KV_" + bucket }

// firstFence is the first sequence of a bucket created at now: see the
// package doc (fences survive the bucket being created again).
func firstFence(now time.Time) uint64 { return uint64(now.UnixMilli()) * 1000 }

// bucketConfig is the stream nats.go's CreateKeyValue would make for a
// bucket with this TTL, History 1 and LimitMarkerTTL = TTL, plus FirstSeq,
// which the KV API cannot set.
func bucketConfig(cfg Config, now time.Time) jetstream.StreamConfig {
	dup := cfg.TTL
	if dup > 2*time.Minute {
		dup = 2 * time.Minute
	}
	return jetstream.StreamConfig{
		Name:                   bucketStream(cfg.Bucket),
		Description:            "processor partition leases (messages/bus/lease)",
		Subjects:               []string{"$KV." + cfg.Bucket + ".>"},
		MaxMsgsPerSubject:      1,
		MaxBytes:               -1,
		MaxAge:                 cfg.TTL,
		MaxMsgSize:             -1,
		MaxMsgs:                -1,
		MaxConsumers:           -1,
		Storage:                jetstream.FileStorage,
		Replicas:               cfg.Replicas,
		AllowRollup:            true,
		DenyDelete:             true,
		Duplicates:             dup,
		AllowDirect:            true,
		Discard:                jetstream.DiscardNew,
		AllowMsgTTL:            true,
		SubjectDeleteMarkerTTL: cfg.TTL,
		FirstSeq:               firstFence(now),
	}
}

// ensureBucket creates the lease bucket, or checks the existing one. A
// bucket whose TTL is shorter than cfg.TTL (or unset) is lengthened:
// keepers already running assumed the shorter TTL and stay safe when
// entries live longer. A longer one is left alone (shortening it under
// running keepers would let their leases expire before their deadlines);
// this keeper's own deadlines use cfg.TTL, which is safe, but a crashed
// replica's partitions wait for the bucket's TTL.
func ensureBucket(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.KeyValue, error) {
	name := bucketStream(cfg.Bucket)
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, bucketConfig(cfg, time.Now()))
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another keeper was faster
			s, err = js.Stream(ctx, name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lease: bucket %s: %w", cfg.Bucket, err)
	}
	cur := s.CachedInfo().Config
	if cur.MaxMsgsPerSubject != 1 {
		return nil, fmt.Errorf("lease: bucket %s keeps %d values per key, want 1", cfg.Bucket, cur.MaxMsgsPerSubject)
	}
	switch {
	case cur.MaxAge == 0 || cur.MaxAge < cfg.TTL:
		was := cur.MaxAge
		cur.MaxAge = cfg.TTL
		if _, err := js.UpdateStream(ctx, cur); err != nil {
			return nil, fmt.Errorf("lease: bucket %s: lengthen its TTL from %v to %v: %w", cfg.Bucket, was, cfg.TTL, err)
		}
		cfg.Logger(fmt.Sprintf("lease: bucket %s: TTL lengthened from %v to %v", cfg.Bucket, was, cfg.TTL), nil)
	case cur.MaxAge > cfg.TTL:
		cfg.Logger(fmt.Sprintf("lease: bucket %s has a TTL of %v, longer than LEASE_TTL %v: a crashed replica's partitions wait %v; "+
			"shorten the bucket's TTL only while no processor runs", cfg.Bucket, cur.MaxAge, cfg.TTL, cur.MaxAge), nil)
	}
	if cur.SubjectDeleteMarkerTTL == 0 {
		cfg.Logger(fmt.Sprintf("lease: bucket %s has no expiry markers: expired leases are taken over at the next periodic look", cfg.Bucket), nil)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("lease: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}
