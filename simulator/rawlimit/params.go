package rawlimit

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// Defaults for zero Params fields. The sizes are those of make bench's
// typical command and event (README: Throughput).
const (
	DefaultCommands         = 10_000
	DefaultEventsPerCommand = 1
	DefaultCommandBytes     = 400
	DefaultEventBytes       = 700
	DefaultStateBytes       = 2_000
	// DefaultCustomers: the load spreads over at least 10,000 customers, so
	// every partition has many and JetStream's per-subject state is as large
	// as in a real run.
	DefaultCustomers = 10_000
	// DefaultMaxInFlight bounds the upstream's unacknowledged async
	// publishes.
	DefaultMaxInFlight = 4096
)

// Params describes the load. Zero fields take the defaults above;
// Partitions defaults to bus.DefaultPartitions and RedisLanes to Partitions.
type Params struct {
	Commands int // N
	// EventsPerCommand is K, the mean number of events per command. A
	// fractional K alternates floor and ceil (2.6 -> 2, 3, 3, 2, 3, ...):
	// command i gets floor((i+1)K) - floor(iK), so N commands carry exactly
	// floor(NK) events.
	EventsPerCommand                     float64
	CommandBytes, EventBytes, StateBytes int
	Partitions                           int
	Customers                            int
	RedisLanes                           int

	// MaxInFlight bounds the upstream's unacknowledged command publishes.
	MaxInFlight int
	// RedisOps is how many commit scripts (and, separately, round trips)
	// MeasureRedis runs in all; default Commands.
	RedisOps int
	// KeepRedisKeys leaves the customers' keys in Redis after MeasureRedis
	// (for inspection); by default they are deleted so a large run does not
	// leave hundreds of megabytes behind.
	KeepRedisKeys bool
}

// Result holds the measured rates. MeasureJetStream fills the JetStream
// fields, MeasureRedis the Redis ones; Merge combines the two.
type Result struct {
	// CommandsPerSec = N / (first command publish .. last event received).
	CommandsPerSec float64
	// PublishesPerSec is the upstream's command PubAcks per second (first
	// publish .. last PubAck), while the consumers already run.
	PublishesPerSec float64
	// EventsPerSec is events received per second over Elapsed.
	EventsPerSec float64
	// Elapsed is the first publish .. last event; PublishElapsed the first
	// publish .. last command PubAck.
	Elapsed, PublishElapsed time.Duration
	// Commands published, Events the distinct events received (exactly
	// EventsTotal(N, K) on success), DuplicateEvents deliveries of an event
	// already received (0 on success).
	Commands, Events, DuplicateEvents int

	// RedisScriptsPerSec: commit scripts per second from RedisLanes lanes.
	RedisScriptsPerSec float64
	// RedisRoundTripsPerSec: PINGs per second from the same lanes.
	RedisRoundTripsPerSec float64
	// RedisScripts and RedisRoundTrips are the counts measured; RedisElapsed
	// and RedisRoundTripElapsed their durations.
	RedisScripts, RedisRoundTrips       int
	RedisElapsed, RedisRoundTripElapsed time.Duration
	// RedisPrefix is the key prefix of the run's customers (state.Options
	// Prefix), to inspect them when Params.KeepRedisKeys is set.
	RedisPrefix string
}

// Merge returns r with the Redis fields taken from redis.
func (r Result) Merge(redis Result) Result {
	r.RedisScriptsPerSec = redis.RedisScriptsPerSec
	r.RedisRoundTripsPerSec = redis.RedisRoundTripsPerSec
	r.RedisScripts, r.RedisRoundTrips = redis.RedisScripts, redis.RedisRoundTrips
	r.RedisElapsed, r.RedisRoundTripElapsed = redis.RedisElapsed, redis.RedisRoundTripElapsed
	r.RedisPrefix = redis.RedisPrefix
	return r
}

// String is a one-line report of the parts measured.
func (r Result) String() string {
	var parts []string
	if r.Commands > 0 {
		parts = append(parts, fmt.Sprintf("jetstream: %.0f commands/s (%d commands, %d events in %v; %.0f command PubAcks/s, %.0f events/s)",
			r.CommandsPerSec, r.Commands, r.Events, r.Elapsed.Round(time.Millisecond), r.PublishesPerSec, r.EventsPerSec))
	}
	if r.RedisScripts > 0 {
		parts = append(parts, fmt.Sprintf("redis: %.0f commit scripts/s, %.0f round trips/s", r.RedisScriptsPerSec, r.RedisRoundTripsPerSec))
	}
	if len(parts) == 0 {
		return "nothing measured"
	}
	return strings.Join(parts, "; ")
}

// WithDefaults returns p with every zero field set to its default.
func (p Params) WithDefaults() Params {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.Commands, DefaultCommands)
	if p.EventsPerCommand == 0 {
		p.EventsPerCommand = DefaultEventsPerCommand
	}
	def(&p.CommandBytes, DefaultCommandBytes)
	def(&p.EventBytes, DefaultEventBytes)
	def(&p.StateBytes, DefaultStateBytes)
	def(&p.Partitions, bus.DefaultPartitions)
	def(&p.Customers, DefaultCustomers)
	def(&p.RedisLanes, p.Partitions)
	def(&p.MaxInFlight, DefaultMaxInFlight)
	def(&p.RedisOps, p.Commands)
	return p
}

// Validate reports fields out of range (after defaults).
func (p Params) Validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("%s %d is not positive", name, v))
		}
	}
	positive("commands", p.Commands)
	positive("command bytes", p.CommandBytes)
	positive("event bytes", p.EventBytes)
	positive("state bytes", p.StateBytes)
	positive("customers", p.Customers)
	positive("redis lanes", p.RedisLanes)
	positive("max in flight", p.MaxInFlight)
	positive("redis ops", p.RedisOps)
	if p.EventsPerCommand < 0 || math.IsNaN(p.EventsPerCommand) || math.IsInf(p.EventsPerCommand, 0) || p.EventsPerCommand > 1000 {
		errs = append(errs, fmt.Errorf("events per command %v out of range 0..1000", p.EventsPerCommand))
	}
	if p.Partitions < 1 || p.Partitions > bus.MaxPartitions {
		errs = append(errs, fmt.Errorf("partitions %d out of range 1..%d", p.Partitions, bus.MaxPartitions))
	}
	if p.Customers > 999_999 {
		// Customer IDs are C-%06d.
		errs = append(errs, fmt.Errorf("customers %d above 999999", p.Customers))
	}
	if p.Customers < p.RedisLanes {
		errs = append(errs, fmt.Errorf("customers %d fewer than redis lanes %d (each lane has its own customers)", p.Customers, p.RedisLanes))
	}
	return errors.Join(errs...)
}

// eventsBefore is how many events the commands before command i carry:
// floor(i*K). Float multiplication is monotone in i, so the per-command
// counts eventsBefore(i+1)-eventsBefore(i) are never negative and always
// add up to eventsBefore(N), whatever the rounding.
func eventsBefore(i int, k float64) int { return int(math.Floor(float64(i) * k)) }

// EventsTotal is how many events N commands carry at a mean of K.
func EventsTotal(n int, k float64) int { return eventsBefore(n, k) }

// CustomerID is the customer of the i-th customer slot.
func CustomerID(i int) string { return fmt.Sprintf("C-%06d", i) }
