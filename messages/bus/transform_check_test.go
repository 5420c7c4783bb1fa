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
	want := CommandTransform()
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

	other := CommandTransform()
	other.Destination = strings.Replace(other.Destination, "partition(1024,", "partition(16,", 1)
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

// Partitions are equal contiguous ranges of slots that cover every slot
// once, and PartitionOfSlot agrees with PartitionSlots.
func TestPartitionsAreContiguousSlotRanges(t *testing.T) {
	for n := 1; n <= Slots; n *= 2 {
		next := 0
		for p := range n {
			first, end := PartitionSlots(p, n)
			if first != next || end-first != Slots/n {
				t.Fatalf("%d partitions: partition %d covers [%d,%d), want to start at %d and hold %d", n, p, first, end, next, Slots/n)
			}
			for s := first; s < end; s++ {
				if got := PartitionOfSlot(s, n); got != p {
					t.Fatalf("%d partitions: slot %d in partition %d, PartitionOfSlot says %d", n, s, p, got)
				}
			}
			filters := PartitionFilters(p, n)
			if n == 1 && (len(filters) != 1 || filters[0] != "csp.cmdp.>") {
				t.Errorf("one partition filters %v", filters)
			}
			if n > 1 && (len(filters) != end-first || filters[0] != SlotFilter(first)) {
				t.Errorf("%d partitions: partition %d filters %v", n, p, filters)
			}
			next = end
		}
		if next != Slots {
			t.Fatalf("%d partitions end at slot %d", n, next)
		}
	}
	for _, n := range []int{0, 3, 12, 2048, -4} {
		if validPartitions(n) {
			t.Errorf("%d partitions accepted", n)
		}
	}
	for _, c := range []string{"C1", "cust-77", "x"} {
		if got, want := PartitionOf(c, 32), SlotOf(c)*32/Slots; got != want {
			t.Errorf("PartitionOf(%s, 32) = %d, want %d", c, got, want)
		}
	}
}
