package simulator

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

// Redeliveries sums the commands the broker delivered more than once
// over the command stream's consumers (NumRedelivered).
func Redeliveries(ctx context.Context, js jetstream.JetStream, commandStream string) (int64, error) {
	s, err := js.Stream(ctx, commandStream)
	if err != nil {
		return 0, err
	}
	var n int64
	l := s.ListConsumers(ctx)
	for ci := range l.Info() {
		n += int64(ci.NumRedelivered)
	}
	return n, l.Err()
}

// StreamMessages is how many messages a stream holds (the dead letters).
func StreamMessages(ctx context.Context, js jetstream.JetStream, stream string) (int64, error) {
	info, err := streamInfo(ctx, js, stream)
	if err != nil {
		return 0, err
	}
	return int64(info.State.Msgs), nil
}

// streamInfo looks a stream up and reads its info.
func streamInfo(ctx context.Context, js jetstream.JetStream, stream string) (*jetstream.StreamInfo, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	return s.Info(ctx)
}

// Shape is what the processor's traffic looked like per command: the
// raw-limit measurement repeats it without logic.
type Shape struct {
	EventsPerCommand         float64
	CommandBytes, EventBytes int
}

// MeasureShape reads the command and event streams' message counts and
// sizes (timer commands included: they are commands the processor
// consumes and acknowledges like any other).
func MeasureShape(ctx context.Context, js jetstream.JetStream, streams bus.StreamsConfig) (Shape, error) {
	info := func(name string) (*jetstream.StreamInfo, error) {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return nil, err
		}
		return s.Info(ctx)
	}
	cmds, err := info(streams.CommandStream)
	if err != nil {
		return Shape{}, err
	}
	evs, err := info(streams.EventStream)
	if err != nil {
		return Shape{}, err
	}
	if cmds.State.Msgs == 0 || evs.State.Msgs == 0 {
		return Shape{}, errors.New("no traffic to measure")
	}
	return Shape{
		EventsPerCommand: float64(evs.State.Msgs) / float64(cmds.State.Msgs),
		CommandBytes:     int(cmds.State.Bytes / cmds.State.Msgs),
		EventBytes:       int(evs.State.Bytes / evs.State.Msgs),
	}, nil
}
