package bus

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
)

// Defaults. See README.md next to this file for why each value is what it is.
const (
	DefaultCommandStream    = "CSP_COMMANDS"
	DefaultEventStream      = "CSP_EVENTS"
	DefaultDeadLetterStream = "CSP_DEADLETTER"

	// DefaultPartitions is the number of command partitions, each a range
	// of Slots/DefaultPartitions slots with its own consumer. Changing it
	// regroups slots into new consumers and leaves the stream alone (see
	// README.md next to this file for the procedure).
	DefaultPartitions = 32
	// MaxPartitions bounds the partition count: one slot per partition.
	MaxPartitions = Slots

	// DefaultMaxInFlight is how many commands of one partition may be in
	// flight at once (at most one per customer): the consumer's
	// MaxAckPending. Measured with BenchmarkSubscriberThroughput (README.md
	// next to this file). MaxMaxInFlight bounds it.
	DefaultMaxInFlight = 16
	MaxMaxInFlight     = 64

	// DefaultMaxAge is every stream's default MaxAge. For the command
	// stream it is also how long the processor must remember an applied
	// command ID (a command still in the stream can be delivered again):
	// the processor sets the store's applied retention to at least
	// CommandMaxAge, and state.DefaultAppliedRetention is tested to be no
	// shorter than this default.
	DefaultMaxAge = 30 * 24 * time.Hour
	// DuplicateWindow is the JetStream de-duplication window of every stream:
	// a message published again with the same Nats-Msg-Id within this window
	// is stored once.
	DuplicateWindow = 2 * time.Minute

	DefaultConsumerPrefix = "processor"
	// DefaultAckWait bounds how long a crashed processor stalls the
	// partitions it had in flight: the server redelivers their commands
	// this long after the last ack or in-progress. Long work does not hit
	// it: the subscriber sends in-progress every AckWait/3. It equals the
	// default lease TTL (lease.DefaultTTL), so a killed replica's
	// partitions resume when their leases expire, the unacked commands
	// being back by then, rather than an ack wait later.
	DefaultAckWait              = 3 * time.Second
	DefaultShutdownTimeout      = 30 * time.Second
	DefaultRetryInitialInterval = 50 * time.Millisecond
	DefaultRetryMaxInterval     = 5 * time.Second

	DefaultPublishTimeout = 10 * time.Second
)

// Config groups everything a processor needs to talk to JetStream. The zero
// value is usable: every zero field takes its default (see WithDefaults).
type Config struct {
	Streams    StreamsConfig
	Subscriber SubscriberConfig
	Publisher  PublisherConfig
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Streams = c.Streams.WithDefaults()
	c.Subscriber = c.Subscriber.WithDefaults()
	c.Publisher = c.Publisher.WithDefaults()
	return c
}

// StreamsConfig describes the three streams. Zero fields take defaults.
type StreamsConfig struct {
	// CommandStream, EventStream and DeadLetterStream are the stream names
	// (no dots, wildcards or spaces).
	CommandStream    string
	EventStream      string
	DeadLetterStream string

	// Partitions is the number of command partitions: a power of two,
	// 1..MaxPartitions. Partition p covers the slots PartitionSlots(p, n).
	Partitions int

	// Replicas is the replica count of every stream (and of the consumers,
	// which inherit it). 1 on a single server; 3 on a 3-node cluster.
	Replicas int

	// CommandMaxAge, EventMaxAge and DeadLetterMaxAge bound how long a
	// message is kept (Limits retention). Default 30 days.
	CommandMaxAge    time.Duration
	EventMaxAge      time.Duration
	DeadLetterMaxAge time.Duration

	// CommandMaxBytes, EventMaxBytes and DeadLetterMaxBytes bound each
	// stream's size on disk (StreamConfig.MaxBytes): 0 takes the default
	// (Default*MaxBytes), -1 means no limit but the server's store. A full
	// stream refuses new commands and events and drops its oldest dead
	// letters (see the Discard policies in limits.go). A positive limit
	// must hold at least one message of the stream's MaxMsgSize.
	CommandMaxBytes    int64
	EventMaxBytes      int64
	DeadLetterMaxBytes int64
}

// WithDefaults returns c with every zero field set to its default.
func (c StreamsConfig) WithDefaults() StreamsConfig {
	if c.CommandStream == "" {
		c.CommandStream = DefaultCommandStream
	}
	if c.EventStream == "" {
		c.EventStream = DefaultEventStream
	}
	if c.DeadLetterStream == "" {
		c.DeadLetterStream = DefaultDeadLetterStream
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.CommandMaxAge == 0 {
		c.CommandMaxAge = DefaultMaxAge
	}
	if c.EventMaxAge == 0 {
		c.EventMaxAge = DefaultMaxAge
	}
	if c.DeadLetterMaxAge == 0 {
		c.DeadLetterMaxAge = DefaultMaxAge
	}
	if c.CommandMaxBytes == 0 {
		c.CommandMaxBytes = DefaultCommandMaxBytes
	}
	if c.EventMaxBytes == 0 {
		c.EventMaxBytes = DefaultEventMaxBytes
	}
	if c.DeadLetterMaxBytes == 0 {
		c.DeadLetterMaxBytes = DefaultDeadLetterMaxBytes
	}
	return c
}

// Validate reports the first invalid field of c (after defaults).
func (c StreamsConfig) Validate() error {
	var errs []error
	for _, n := range []struct{ field, name string }{
		{"CommandStream", c.CommandStream},
		{"EventStream", c.EventStream},
		{"DeadLetterStream", c.DeadLetterStream},
	} {
		if !validName(n.name) {
			errs = append(errs, fmt.Errorf("%s %q is not a valid stream name (no dots, wildcards, spaces or slashes)", n.field, n.name))
		}
	}
	if c.CommandStream == c.EventStream || c.CommandStream == c.DeadLetterStream || c.EventStream == c.DeadLetterStream {
		errs = append(errs, errors.New("the command, event and dead-letter streams need three different names"))
	}
	if !validPartitions(c.Partitions) {
		errs = append(errs, fmt.Errorf("partitions %d: want a power of two from 1 to %d (each partition is an equal range of the %d slots)",
			c.Partitions, MaxPartitions, Slots))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas %d out of range 1..5", c.Replicas))
	}
	if c.CommandMaxAge < 0 || c.EventMaxAge < 0 || c.DeadLetterMaxAge < 0 {
		errs = append(errs, errors.New("a stream max age is negative"))
	}
	for _, b := range []struct {
		field      string
		max, atMsg int64
	}{
		{"CommandMaxBytes", c.CommandMaxBytes, CommandMaxMsgBytes},
		{"EventMaxBytes", c.EventMaxBytes, EventMaxMsgBytes},
		{"DeadLetterMaxBytes", c.DeadLetterMaxBytes, DeadLetterMaxMsgBytes},
	} {
		if b.max < -1 || (b.max >= 0 && b.max < b.atMsg) {
			errs = append(errs, fmt.Errorf("%s %d: want -1 (no limit) or at least %d bytes, the stream's largest message",
				b.field, b.max, b.atMsg))
		}
	}
	return errors.Join(errs...)
}

// SubscriberConfig configures a CommandSubscriber. Zero fields take defaults.
type SubscriberConfig struct {
	// ConsumerPrefix names the durable consumers: "<prefix>-<count>p<NN>"
	// (ConsumerName). Every replica of the processor uses the same prefix.
	ConsumerPrefix string

	// Partitions lists the partitions this subscriber consumes from
	// Subscribe on (static ownership). Nil or empty means all of them.
	// Ignored when Dynamic. Replicas may consume overlapping sets only
	// with MaxInFlight 1: with more, two replicas could each hold a
	// command of one customer.
	Partitions []int

	// Dynamic: Subscribe starts no partition; StartPartition and
	// StopPartition start and stop them (a lease keeper decides which).
	Dynamic bool

	// MaxInFlight is how many commands of one partition may be in flight
	// at once, at most one per customer (the consumer's MaxAckPending),
	// 1..MaxMaxInFlight; DefaultMaxInFlight when zero.
	MaxInFlight int

	// AckWait is how long the server waits for an ack before redelivering.
	// The subscriber sends "in progress" every AckWait/3 while a command is
	// with the handler or waiting for an in-process retry.
	AckWait time.Duration

	// ShutdownTimeout bounds how long Close (or cancelling the Subscribe
	// context) waits for the handlers of in-flight commands.
	ShutdownTimeout time.Duration

	// RetryInitialInterval and RetryMaxInterval shape the exponential backoff
	// before a nacked command is handed to the handler again.
	RetryInitialInterval time.Duration
	RetryMaxInterval     time.Duration

	// PullMaxMessages is the client-side pull batch (1..MaxMaxInFlight);
	// MaxInFlight when zero. The server never has more than MaxInFlight
	// messages of a partition out anyway.
	PullMaxMessages int

	Logger watermill.LoggerAdapter
}

// WithDefaults returns c with every zero field set to its default.
func (c SubscriberConfig) WithDefaults() SubscriberConfig {
	if c.ConsumerPrefix == "" {
		c.ConsumerPrefix = DefaultConsumerPrefix
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.RetryInitialInterval == 0 {
		c.RetryInitialInterval = DefaultRetryInitialInterval
	}
	if c.RetryMaxInterval == 0 {
		c.RetryMaxInterval = DefaultRetryMaxInterval
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.PullMaxMessages == 0 {
		c.PullMaxMessages = c.MaxInFlight
	}
	if c.Logger == nil {
		c.Logger = watermill.NopLogger{}
	}
	return c
}

// Validate reports invalid fields of c (after defaults).
func (c SubscriberConfig) Validate() error {
	var errs []error
	if !validName(c.ConsumerPrefix) {
		errs = append(errs, fmt.Errorf("consumer prefix %q is not a valid consumer name", c.ConsumerPrefix))
	}
	if c.AckWait < 300*time.Millisecond {
		errs = append(errs, fmt.Errorf("ack wait %v is below 300ms", c.AckWait))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("shutdown timeout is negative"))
	}
	if c.RetryInitialInterval <= 0 || c.RetryMaxInterval < c.RetryInitialInterval {
		errs = append(errs, fmt.Errorf("retry intervals %v..%v are not increasing", c.RetryInitialInterval, c.RetryMaxInterval))
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > MaxMaxInFlight {
		errs = append(errs, fmt.Errorf("max in flight %d out of range 1..%d", c.MaxInFlight, MaxMaxInFlight))
	}
	if c.PullMaxMessages < 1 || c.PullMaxMessages > MaxMaxInFlight {
		errs = append(errs, fmt.Errorf("pull max messages %d out of range 1..%d", c.PullMaxMessages, MaxMaxInFlight))
	}
	return errors.Join(errs...)
}

// PublisherConfig configures a Publisher. Zero fields take defaults.
type PublisherConfig struct {
	// Timeout bounds one Publish call: sending every message and waiting
	// for every PubAck.
	Timeout time.Duration
}

// WithDefaults returns c with every zero field set to its default.
func (c PublisherConfig) WithDefaults() PublisherConfig {
	if c.Timeout == 0 {
		c.Timeout = DefaultPublishTimeout
	}
	return c
}

// validName reports whether s can be a JetStream stream or consumer name.
func validName(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	return !strings.ContainsAny(s, ".*> \t\r\n/\\")
}
