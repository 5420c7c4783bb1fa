package lease

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"
)

const (
	// DefaultBucket is the KV bucket of the leases (LEASE_BUCKET). The
	// shipped NATS permissions grant the processor this name only.
	DefaultBucket = "CSP_LEASES"
	// DefaultTTL is how long a lease outlives its last renewal (LEASE_TTL).
	// A killed replica's partitions are taken over within TTL + the
	// server's expiry granularity (a few hundred ms) thanks to the expiry
	// markers, or TTL + one renewal interval (TTL/3) if a marker is missed:
	// 3 s gives at most 4 s, under the 5 s failover target, while a
	// replica still survives one lost renewal (renewals every 1 s, deadline
	// 2.5 s after a renewal started).
	DefaultTTL = 3 * time.Second
	// MinTTL is the shortest TTL: the server keeps expiry markers at
	// least a second, and shorter leases would be lost to ordinary pauses.
	MinTTL = time.Second
	// maxPartitions mirrors bus.MaxPartitions (lease does not import bus).
	maxPartitions = 1024
)

// Config configures a Keeper.
type Config struct {
	// Bucket is the KV bucket (default DefaultBucket).
	Bucket string
	// ReplicaID names this replica in leases and member keys (REPLICA_ID;
	// default DefaultReplicaID()). Letters, digits, '-' and '_'. It must
	// differ between replicas running at once.
	ReplicaID string
	// Partitions is the number of command partitions (required).
	Partitions int
	// TTL is the lease time to live (default DefaultTTL, at least MinTTL).
	// Renewals run every TTL/3.
	TTL time.Duration
	// SafetyMargin is how much earlier than the server a keeper gives up
	// a lease it could not renew (default TTL/6; below TTL/3). See the
	// package doc on clocks.
	SafetyMargin time.Duration
	// Replicas is the bucket's replica count when it is created: the
	// streams' (default 1).
	Replicas int
	// Logger receives failures (err != nil) and lease changes (err == nil).
	// Default: log/slog.
	Logger func(msg string, err error)
}

var replicaIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// DefaultReplicaID is the host name (characters a KV key cannot hold
// replaced by '-') and a random suffix, different for every process.
func DefaultReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	host = strings.Map(func(r rune) rune {
		if r < 128 && replicaIDPattern.MatchString(string(r)) {
			return r
		}
		return '-'
	}, host)
	return host + "-" + randomHex(4)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.Bucket == "" {
		c.Bucket = DefaultBucket
	}
	if c.ReplicaID == "" {
		c.ReplicaID = DefaultReplicaID()
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.SafetyMargin == 0 {
		c.SafetyMargin = c.TTL / 6
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Logger == nil {
		c.Logger = func(msg string, err error) {
			if err != nil {
				slog.Error(msg, "err", err)
				return
			}
			slog.Info(msg)
		}
	}
	return c
}

// Validate reports every field out of range.
func (c Config) Validate() error {
	var errs []error
	if c.Bucket == "" || !replicaIDPattern.MatchString(c.Bucket) {
		errs = append(errs, fmt.Errorf("bucket %q: letters, digits, '-' and '_' only", c.Bucket))
	}
	if !replicaIDPattern.MatchString(c.ReplicaID) {
		errs = append(errs, fmt.Errorf("replica ID %q: letters, digits, '-' and '_' only", c.ReplicaID))
	}
	if c.Partitions < 1 || c.Partitions > maxPartitions {
		errs = append(errs, fmt.Errorf("partitions %d out of range 1..%d", c.Partitions, maxPartitions))
	}
	if c.TTL < MinTTL {
		errs = append(errs, fmt.Errorf("lease TTL %v below %v", c.TTL, MinTTL))
	}
	if c.SafetyMargin <= 0 || c.SafetyMargin >= c.TTL/3 {
		errs = append(errs, fmt.Errorf("safety margin %v not in (0, TTL/3 = %v)", c.SafetyMargin, c.TTL/3))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d out of range 1..5", c.Replicas))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lease: config: %w", err)
	}
	return nil
}

// interval is the time between renewals.
func (c Config) interval() time.Duration { return c.TTL / 3 }

// Setting names (environment variables) FromEnv reads.
const (
	EnvReplicaID = "REPLICA_ID"
	EnvTTL       = "LEASE_TTL"
	EnvBucket    = "LEASE_BUCKET"
)

// FromEnv returns c with the fields the environment sets (REPLICA_ID,
// LEASE_TTL as a Go duration, LEASE_BUCKET) replaced; unset ones keep c's
// value, so defaults still apply. getenv is os.Getenv in the processor.
func (c Config) FromEnv(getenv func(string) string) (Config, error) {
	if v := getenv(EnvReplicaID); v != "" {
		c.ReplicaID = v
	}
	if v := getenv(EnvBucket); v != "" {
		c.Bucket = v
	}
	if v := getenv(EnvTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return c, fmt.Errorf("lease: %s=%q: %w", EnvTTL, v, err)
		}
		c.TTL = d
	}
	return c, nil
}
