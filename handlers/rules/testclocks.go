package rules

import (
	"fmt"
	"time"

	"github.com/cspreseller/csp-processor/messages"
)

// Test clock rejection codes (TCK-1..TCK-4).
const (
	CodeTestClocksNotEnabled = "test_clocks_not_enabled"
	CodeTestClockNotFound    = "test_clock_not_found"
	CodeTestClockExists      = "test_clock_exists"
	CodeTestClockBackwards   = "test_clock_backwards"
)

// TestClockFact is what the handler read of a test clock before the rules
// decide: whether the processor runs in simulation mode, and the clock's
// time if it exists.
type TestClockFact struct {
	ID      string
	Enabled bool
	Exists  bool
	Now     time.Time
}

// testClockAttachment decides whether a new customer may live on the test
// clock it names (TCK-1: simulation mode only; TCK-2: the clock exists).
func testClockAttachment(id string, fact *TestClockFact) *messages.Rejection {
	if id == "" {
		return nil
	}
	if fact == nil || !fact.Enabled {
		return notEnabled(id)
	}
	if !fact.Exists {
		return reject(CodeTestClockNotFound, "TCK-2", fmt.Sprintf("test clock %s does not exist", id),
			map[string]string{"test_clock_id": id})
	}
	return nil
}

func notEnabled(id string) *messages.Rejection {
	return reject(CodeTestClocksNotEnabled, "TCK-1", "test clocks exist only on a processor in simulation mode",
		map[string]string{"test_clock_id": id})
}

// DecideTestClockCreate decides a request to create test clock id at
// start (TCK-1, TCK-3). existing is the clock's time if the ID is taken:
// the same start again is a retry and accepted.
func DecideTestClockCreate(enabled bool, id string, start time.Time, existing *time.Time) *messages.Rejection {
	if !enabled {
		return notEnabled(id)
	}
	if existing != nil && !existing.Equal(start) {
		return reject(CodeTestClockExists, "TCK-3",
			fmt.Sprintf("test clock %s exists at %s", id, existing.UTC().Format(time.RFC3339Nano)),
			map[string]string{"test_clock_id": id, "frozen_time": existing.UTC().Format(time.RFC3339Nano)})
	}
	return nil
}

// DecideTestClockAdvance decides a request to move test clock id to to
// (TCK-1, TCK-2, TCK-4). current is the clock's time, nil when it does not
// exist. Moving to the time it shows is accepted and fires nothing new.
func DecideTestClockAdvance(enabled bool, id string, to time.Time, current *time.Time) *messages.Rejection {
	switch {
	case !enabled:
		return notEnabled(id)
	case current == nil:
		return reject(CodeTestClockNotFound, "TCK-2", fmt.Sprintf("test clock %s does not exist", id),
			map[string]string{"test_clock_id": id})
	case to.Before(*current):
		cur := current.UTC().Format(time.RFC3339Nano)
		return reject(CodeTestClockBackwards, "TCK-4",
			fmt.Sprintf("test clock %s shows %s; it cannot move back to %s", id, cur, to.UTC().Format(time.RFC3339Nano)),
			map[string]string{"test_clock_id": id, "frozen_time": cur, "requested": to.UTC().Format(time.RFC3339Nano)})
	}
	return nil
}
