package messages

import (
	"time"

	"github.com/go-json-experiment/json"
)

// TestClockSubject is the request subject of test clocks (simulation mode
// only): the body is TestClockRequest, the reply TestClockReply. A test
// clock is a simulated time of its own for the customers attached to it
// at creation (customer.created's test_clock_id): their commands are
// decided at its time, and only its advances fire their timers; the
// global simulated clock (SimClockSubject) leaves them alone.
//
// Test clocks are requests, like the global clock, not commands on the
// command stream: a clock belongs to no customer, so it has no slot or
// partition to be ordered in, and an advance must wait until the timer
// commands it stored for customers of every partition are applied, which
// a command handler consuming one partition could not do without waiting
// on itself. The clock is kept in Redis, moves forward only, and a
// request asked again is harmless, so the durability and idempotence a
// command would give are kept.
const TestClockSubject = "csp.sim.testclock"

// Test clock actions.
const (
	// TestClockCreate creates the clock at FrozenTime; ID optional (one
	// is chosen and returned when empty).
	TestClockCreate = "create"
	// TestClockAdvance moves the clock forward to FrozenTime, firing its
	// customers' timers due by then; the reply comes once they are applied.
	TestClockAdvance = "advance"
)

// TestClockRequest creates or advances a test clock.
type TestClockRequest struct {
	Action      string `json:"action"`
	TestClockID string `json:"test_clock_id,omitempty"`
	// FrozenTime is the clock's time, RFC 3339.
	FrozenTime string `json:"frozen_time"`
}

// TestClockReply is the clock after the request, or why it was refused
// (Rejection: a specific code and rule; Error: the processor failed and
// the request may be asked again).
type TestClockReply struct {
	TestClockID string `json:"test_clock_id,omitempty"`
	FrozenTime  string `json:"frozen_time,omitempty"`
	// Fired counts the timer commands the advance stored and waited for.
	Fired     int        `json:"fired"`
	Rejection *Rejection `json:"rejection,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// DecodeTestClockRequest decodes a request strictly (as commands are) and
// returns its time; every failure is a *DecodeError.
func DecodeTestClockRequest(body []byte) (TestClockRequest, time.Time, error) {
	var req TestClockRequest
	if len(body) > MaxCommandBytes {
		return req, time.Time{}, decodeErr(CodeOversize, "body is %d bytes, the limit is %d", len(body), MaxCommandBytes)
	}
	if err := json.Unmarshal(body, &req, strict); err != nil {
		return req, time.Time{}, decodeErr(CodeMalformed, "%v", err)
	}
	if req.Action != TestClockCreate && req.Action != TestClockAdvance {
		return req, time.Time{}, decodeErr(CodeMalformed, "action %q is neither %q nor %q", req.Action, TestClockCreate, TestClockAdvance)
	}
	if req.TestClockID != "" && !ValidToken(req.TestClockID) {
		return req, time.Time{}, decodeErr(CodeInvalidID, "test_clock_id %q is not a valid identifier", req.TestClockID)
	}
	if req.Action == TestClockAdvance && req.TestClockID == "" {
		return req, time.Time{}, decodeErr(CodeMalformed, "an advance names its test_clock_id")
	}
	t, err := time.Parse(time.RFC3339Nano, req.FrozenTime)
	if err != nil {
		return req, time.Time{}, decodeErr(CodeMalformed, "frozen_time %q is not an RFC 3339 time", req.FrozenTime)
	}
	return req, t.UTC(), nil
}
