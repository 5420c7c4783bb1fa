package bus

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// nats-server 2.9.x (the Debian package) accepts a stream configuration
// with a subject transform and returns it without one. EnsureStreams must
// notice and say which server version is at fault.
func TestCheckSubjectTransformDetectsServerWithoutTransforms(t *testing.T) {
	want := CommandTransform(32)
	returned := CommandStreamConfig(StreamsConfig{})
	returned.SubjectTransform = nil // what 2.9.x answers

	err := checkSubjectTransform(returned, &want, "2.9.25")
	var tu *TransformUnsupportedError
	if !errors.As(err, &tu) || tu.ServerVersion != "2.9.25" || tu.Stream != "CSP_COMMANDS" {
		t.Fatalf("err = %v", err)
	}
	const msg = "NATS server 2.9.25 does not support stream subject transforms; version 2.10 or later is required"
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}

	other := CommandTransform(16)
	returned.SubjectTransform = &other
	if err := checkSubjectTransform(returned, &want, "2.10.0"); !errors.As(err, &tu) {
		t.Errorf("a different transform returned: err = %v", err)
	}

	returned.SubjectTransform = &jetstream.SubjectTransformConfig{Source: want.Source, Destination: want.Destination}
	if err := checkSubjectTransform(returned, &want, "2.10.0"); err != nil {
		t.Errorf("the asked-for transform returned: %v", err)
	}
	if err := checkSubjectTransform(EventStreamConfig(StreamsConfig{}), nil, "2.9.25"); err != nil {
		t.Errorf("no transform asked for: %v", err)
	}
}

func TestPartitionsOf(t *testing.T) {
	for _, n := range []int{1, 8, 32, 1024} {
		tr := CommandTransform(n)
		if got, ok := partitionsOf(&tr); !ok || got != n {
			t.Errorf("partitionsOf(%q) = %d, %v", tr.Destination, got, ok)
		}
	}
	if _, ok := partitionsOf(nil); ok {
		t.Error("nil transform has partitions")
	}
	if _, ok := partitionsOf(&jetstream.SubjectTransformConfig{Source: "a.>", Destination: "b.>"}); ok {
		t.Error("transform without partition() has partitions")
	}
}
