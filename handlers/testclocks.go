package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
)

// testClock returns the time a customer's command is decided at, and what
// the rules need to know of the test clock a customer.created names. A
// customer on a test clock lives at that clock's time (TCK-2), whatever
// the broker's timestamp or the global simulated clock say.
func (h *CommandHandler) testClock(ctx context.Context, cmd messages.Command, st rules.CustomerState, now time.Time) (time.Time, *rules.TestClockFact, error) {
	id := ""
	if st.Customer != nil {
		id = st.Customer.TestClockID
	} else if c, ok := cmd.Data.(*messages.CustomerCreatedData); ok {
		id = c.TestClockID
	}
	if id == "" {
		return now, nil, nil
	}
	fact := &rules.TestClockFact{ID: id, Enabled: h.Clock == SimulatedClock}
	if !fact.Enabled {
		return now, fact, nil
	}
	t, ok, err := h.Store.TestClock(ctx, id)
	if err != nil {
		return now, nil, err
	}
	if ok {
		fact.Exists, fact.Now, now = true, t, t
	}
	return now, fact, nil
}

// testClockQueue is the queue group of the test clock subscription: one
// replica answers each request.
const testClockQueue = "csp-testclock"

// subscribeTestClocks answers test clock requests in every mode, so that a
// processor not in simulation mode refuses them specifically (TCK-1)
// instead of leaving them unanswered.
func (s *Scheduler) subscribeTestClocks(ctx context.Context) (*nats.Subscription, error) {
	sub, err := s.NATS.QueueSubscribe(messages.TestClockSubject, testClockQueue, func(m *nats.Msg) {
		reply := s.answerTestClock(ctx, m.Data)
		b, _ := json.Marshal(reply)
		_ = m.Respond(b)
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler: subscribe %s: %w", messages.TestClockSubject, err)
	}
	return sub, nil
}

func (s *Scheduler) answerTestClock(ctx context.Context, body []byte) messages.TestClockReply {
	req, at, err := messages.DecodeTestClockRequest(body)
	if de, ok := messages.AsDecodeError(err); ok {
		return messages.TestClockReply{Rejection: &messages.Rejection{Code: rules.CodeInvalidCommand, Rule: "GEN-6",
			Description: de.Error(), Data: map[string]string{"reason": de.Code}, Source: rules.Source}}
	}
	enabled := s.Clock == SimulatedClock
	reply := messages.TestClockReply{TestClockID: req.TestClockID}
	if req.Action == messages.TestClockCreate {
		if req.TestClockID == "" {
			req.TestClockID = "TC-" + uuid.NewString()
			reply.TestClockID = req.TestClockID
		}
		if reply.Rejection = rules.DecideTestClockCreate(enabled, req.TestClockID, at, nil); reply.Rejection != nil {
			return reply
		}
		now, _, err := s.Store.CreateTestClock(ctx, req.TestClockID, at)
		if err != nil {
			reply.Error = err.Error()
			return reply
		}
		// An existing clock: a retry of this creation (same time) or a
		// clash (another time, TCK-3).
		reply.Rejection = rules.DecideTestClockCreate(enabled, req.TestClockID, at, &now)
		reply.FrozenTime = now.UTC().Format(time.RFC3339Nano)
		return reply
	}
	if !enabled {
		reply.Rejection = rules.DecideTestClockAdvance(false, req.TestClockID, at, nil)
		return reply
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok, err := s.Store.TestClock(ctx, req.TestClockID)
	if err != nil {
		reply.Error = err.Error()
		return reply
	}
	var current *time.Time
	if ok {
		current = &cur
	}
	if reply.Rejection = rules.DecideTestClockAdvance(true, req.TestClockID, at, current); reply.Rejection != nil {
		return reply
	}
	reply.Fired, err = s.advanceTestClock(ctx, req.TestClockID, at)
	if err != nil {
		reply.Error = err.Error()
	}
	now, _, _ := s.Store.TestClock(ctx, req.TestClockID)
	reply.FrozenTime = now.UTC().Format(time.RFC3339Nano)
	return reply
}

// advanceTestClock moves a test clock to `to` one due instant of its
// customers' timers at a time (TCK-4): the clock stands at the instant
// while those timers' commands are decided, and the next instant waits
// until they are applied, so a timer one of them sets fires in its place.
// The clock's index is one key whatever the customers' slots, so the
// replica answering reaches every timer of the clock; the commands it
// stores go to their customers' partitions and are applied by whichever
// replica owns them, and the wait reads their inboxes in Redis. One
// replica runs one clock move at a time (s.mu); two replicas may run two
// advances of one clock at once only when a caller asks again while the
// first still runs: a timer both store is applied once (Nats-Msg-Id, the
// inbox), and the clock keeps the later of their times, so a timer may
// then be decided at a later instant of its clock than its own.
func (s *Scheduler) advanceTestClock(ctx context.Context, id string, to time.Time) (int, error) {
	total := 0
	for {
		next, err := s.Store.DueTestClockTimers(ctx, id, to, 1)
		if err != nil {
			return total, err
		}
		if len(next) == 0 {
			break
		}
		at := next[0].DueAt
		if _, err := s.Store.SetTestClock(ctx, id, at); err != nil {
			return total, err
		}
		due, err := s.Store.DueTestClockTimers(ctx, id, at, batchPerSlot)
		if err != nil {
			return total, err
		}
		if err := s.storeTimerCommands(ctx, due, false); err != nil {
			return total, err
		}
		if err := s.Store.UnindexTestClockTimers(ctx, id, due); err != nil {
			return total, err
		}
		total += len(due)
		if err := s.waitApplied(ctx, due); err != nil {
			return total, err
		}
	}
	_, err := s.Store.SetTestClock(ctx, id, to)
	return total, err
}
