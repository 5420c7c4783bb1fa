package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// Subjects of the streams.
const (
	// CommandStreamSubjects is what the command stream captures: a partner,
	// a customer and a command type of at least one token. A command
	// published to a shorter subject (csp.cmd.P1.admin_agent.C1) is not captured, so the
	// publisher gets "no responders" instead of a PubAck for a command
	// nobody would ever process.
	CommandStreamSubjects = messages.CommandSubjectPrefix + ".*.*.*.>"
	// EventStreamSubjects and DeadLetterStreamSubjects are what the event
	// and dead-letter streams capture.
	EventStreamSubjects      = messages.EventSubjectPrefix + ".>"
	DeadLetterStreamSubjects = messages.DeadLetterPrefix + ".>"
)

// ErrTransformChanged is returned (wrapped) by EnsureStreams when the
// command stream exists with another subject transform, such as the
// per-partition transform {{partition(<P>,3)}} of older versions.
var ErrTransformChanged = errors.New("the command stream's subject transform is not the one this version needs")

// TransformUnsupportedError is returned by EnsureStreams when the server
// ignores stream subject transforms (nats-server before 2.10, such as the
// Debian package's 2.9.x).
type TransformUnsupportedError struct {
	Stream        string
	ServerVersion string
}

func (e *TransformUnsupportedError) Error() string {
	return fmt.Sprintf("bus: stream %s: NATS server %s does not support stream subject transforms; "+
		"version 2.10 or later is required", e.Stream, e.ServerVersion)
}

// CommandTransform is the command stream's subject transform:
// csp.cmd.<partner>.<role>.<customer>.<type...> is stored as
// csp.cmdp.<slot>.<partner>.<role>.<customer>.<type...>, slot = SlotOf(customer).
func CommandTransform() jetstream.SubjectTransformConfig {
	return jetstream.SubjectTransformConfig{
		Source: CommandStreamSubjects,
		Destination: messages.PartitionSubjectPrefix + ".{{partition(" + strconv.Itoa(Slots) +
			",3)}}.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}.>",
	}
}

// CommandStreamConfig is the command stream's configuration.
func CommandStreamConfig(c StreamsConfig) jetstream.StreamConfig {
	c = c.WithDefaults()
	tr := CommandTransform()
	return jetstream.StreamConfig{
		Name:             c.CommandStream,
		Description:      "CSP commands, stored per customer slot",
		Subjects:         []string{CommandStreamSubjects},
		SubjectTransform: &tr,
		Storage:          jetstream.FileStorage,
		Retention:        jetstream.LimitsPolicy,
		MaxAge:           c.CommandMaxAge,
		MaxBytes:         c.CommandMaxBytes,
		MaxMsgSize:       CommandMaxMsgBytes,
		Duplicates:       DuplicateWindow,
		Replicas:         c.Replicas,
		Discard:          CommandDiscard,
	}
}

// EventStreamConfig is the event stream's configuration.
func EventStreamConfig(c StreamsConfig) jetstream.StreamConfig {
	c = c.WithDefaults()
	return jetstream.StreamConfig{
		Name:        c.EventStream,
		Description: "CSP events published by the processor",
		Subjects:    []string{EventStreamSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      c.EventMaxAge,
		MaxBytes:    c.EventMaxBytes,
		MaxMsgSize:  EventMaxMsgBytes,
		Duplicates:  DuplicateWindow,
		Replicas:    c.Replicas,
		Discard:     EventDiscard,
	}
}

// DeadLetterStreamConfig is the dead-letter stream's configuration.
func DeadLetterStreamConfig(c StreamsConfig) jetstream.StreamConfig {
	c = c.WithDefaults()
	return jetstream.StreamConfig{
		Name:        c.DeadLetterStream,
		Description: "CSP commands that could not be processed",
		Subjects:    []string{DeadLetterStreamSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      c.DeadLetterMaxAge,
		MaxBytes:    c.DeadLetterMaxBytes,
		MaxMsgSize:  DeadLetterMaxMsgBytes,
		Duplicates:  DuplicateWindow,
		Replicas:    c.Replicas,
		Discard:     DeadLetterDiscard,
	}
}

// EnsureStreams creates the command, event and dead-letter streams, or
// updates them to cfg (limits and discard policies included, so a changed
// limit reaches streams created by an earlier version). It is idempotent and safe to run from every replica
// at start-up. The partition count does not touch the streams. It refuses
// an existing command stream with another subject transform
// (ErrTransformChanged), and fails when the server ignores subject transforms
// (nats-server 2.9.x): nc is used to name the server's version. On a
// cluster it returns once every stream has a leader; give ctx a deadline.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, nc *nats.Conn, cfg StreamsConfig) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("bus: streams config: %w", err)
	}
	version := "(unknown version)"
	if nc != nil {
		version = nc.ConnectedServerVersion()
	}
	if err := ensureCommandStream(ctx, js, version, cfg); err != nil {
		return explainStoreTooSmall(err, cfg)
	}
	for _, sc := range []jetstream.StreamConfig{EventStreamConfig(cfg), DeadLetterStreamConfig(cfg)} {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return explainStoreTooSmall(fmt.Errorf("bus: ensure stream %s: %w", sc.Name, err), cfg)
		}
	}
	return waitStreamLeaders(ctx, js, cfg)
}

// errCodeStorageExceeded is JetStream's "insufficient storage resources
// available" (10047): the server reserves a stream's MaxBytes on its store
// when the stream is created, and refuses when the store cannot hold them.
const errCodeStorageExceeded jetstream.ErrorCode = 10047

// explainStoreTooSmall names the settings to change when the server's store
// cannot reserve the streams' byte limits: the server's own message says
// only "insufficient storage resources available", which a newcomer on a
// nearly full disk cannot act on.
func explainStoreTooSmall(err error, cfg StreamsConfig) error {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode != errCodeStorageExceeded {
		return err
	}
	return fmt.Errorf("%w: the NATS server's JetStream store cannot reserve the streams' byte limits "+
		"(commands %d, events %d, dead letters %d bytes; the embedded server's store takes 75%% of the free disk "+
		"under DATA_DIR): free disk space, raise the server's max_file_store, or lower "+
		"COMMAND_STREAM_MAX_BYTES, EVENT_STREAM_MAX_BYTES and DEADLETTER_STREAM_MAX_BYTES",
		err, cfg.CommandMaxBytes, cfg.EventMaxBytes, cfg.DeadLetterMaxBytes)
}

func ensureCommandStream(ctx context.Context, js jetstream.JetStream, version string, cfg StreamsConfig) error {
	want := CommandStreamConfig(cfg)
	for attempt := 0; ; attempt++ {
		existing, err := js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			s, err := js.CreateStream(ctx, want)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) && attempt == 0 {
				continue // another replica created it meanwhile: check and update it
			}
			if errors.Is(err, jetstream.ErrStreamSubjectTransformNotSupported) {
				// The server created the stream without the transform.
				// Remove it again so nobody publishes commands that would
				// be stored unpartitioned and never consumed.
				_ = js.DeleteStream(ctx, want.Name)
				return transformUnsupported(version, want.Name)
			}
			if err != nil {
				return fmt.Errorf("bus: create stream %s: %w", want.Name, err)
			}
			if err := checkSubjectTransform(s.CachedInfo().Config, want.SubjectTransform, version); err != nil {
				_ = js.DeleteStream(ctx, want.Name)
				return err
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("bus: look up stream %s: %w", want.Name, err)
		}
		return updateCommandStream(ctx, js, version, cfg, existing.CachedInfo(), want)
	}
}

func updateCommandStream(ctx context.Context, js jetstream.JetStream, version string, cfg StreamsConfig,
	info *jetstream.StreamInfo, want jetstream.StreamConfig) error {
	if have := info.Config.SubjectTransform; have != nil {
		if have.Source != want.SubjectTransform.Source || have.Destination != want.SubjectTransform.Destination {
			return fmt.Errorf("bus: stream %s stores commands as %q, this version needs %q (one subject per slot of %d): %w; "+
				"stop every processor, let them drain the stream (every consumer has nothing pending), "+
				"delete the stream (nats stream rm %s) and its consumers, and start the processor: it creates the new one",
				want.Name, have.Destination, want.SubjectTransform.Destination, Slots, ErrTransformChanged, want.Name)
		}
	} else if info.State.Msgs > 0 {
		return fmt.Errorf("bus: stream %s exists without the partitioning subject transform and holds %d messages; "+
			"refusing to add partitioning to it (those commands would never be consumed)",
			want.Name, info.State.Msgs)
	}
	s, err := js.UpdateStream(ctx, want)
	if errors.Is(err, jetstream.ErrStreamSubjectTransformNotSupported) {
		return transformUnsupported(version, want.Name)
	}
	if err != nil {
		return fmt.Errorf("bus: update stream %s: %w", want.Name, err)
	}
	return checkSubjectTransform(s.CachedInfo().Config, want.SubjectTransform, version)
}

// checkSubjectTransform fails unless the stream configuration the server
// returned carries the transform that was asked for. nats-server 2.9.x
// accepts the configuration and silently drops the transform.
func checkSubjectTransform(got jetstream.StreamConfig, want *jetstream.SubjectTransformConfig, version string) error {
	if want == nil {
		return nil
	}
	if got.SubjectTransform == nil ||
		got.SubjectTransform.Source != want.Source ||
		got.SubjectTransform.Destination != want.Destination {
		return transformUnsupported(version, got.Name)
	}
	return nil
}

func transformUnsupported(version, stream string) error {
	return &TransformUnsupportedError{Stream: stream, ServerVersion: version}
}

// checkCommandStream fails unless the command stream exists with this
// version's subject transform.
func checkCommandStream(ctx context.Context, js jetstream.JetStream, stream string) error {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("bus: look up stream %s: %w", stream, err)
	}
	want := CommandTransform()
	have := s.CachedInfo().Config.SubjectTransform
	if have == nil || have.Destination != want.Destination {
		return fmt.Errorf("bus: stream %s does not store commands per slot (run EnsureStreams first): %w", stream, ErrTransformChanged)
	}
	return nil
}
