package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// DeadLetters reads and removes messages of the dead-letter stream by
// sequence, for the operator service. It reads with the stream's MSG.GET
// (granted to the processor's user on CSP_DEADLETTER alone) rather than
// through a consumer, so paging leaves no consumer behind on the server
// and two operators paging at once do not disturb each other.
type DeadLetters struct {
	JS     jetstream.JetStream
	Stream string
}

func (d DeadLetters) stream(ctx context.Context) (jetstream.Stream, error) {
	s, err := d.JS.Stream(ctx, d.Stream)
	if err != nil {
		return nil, fmt.Errorf("bus: dead-letter stream %s: %w", d.Stream, err)
	}
	return s, nil
}

// Next returns the first dead letter with a sequence of at least from, of
// code when it is not empty; jetstream.ErrMsgNotFound when there is none.
func (d DeadLetters) Next(ctx context.Context, from uint64, code string) (*jetstream.RawStreamMsg, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return nil, err
	}
	filter := DeadLetterStreamSubjects
	if code != "" {
		filter = messages.DeadLetterSubject(code)
	}
	return s.GetMsg(ctx, max(from, 1), jetstream.WithGetMsgSubject(filter))
}

// Get returns the dead letter with sequence seq; jetstream.ErrMsgNotFound
// when there is none (never stored, removed, or aged out).
func (d DeadLetters) Get(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	s, err := d.stream(ctx)
	if err != nil {
		return nil, err
	}
	return s.GetMsg(ctx, seq)
}

// Delete removes the dead letter with sequence seq.
func (d DeadLetters) Delete(ctx context.Context, seq uint64) error {
	s, err := d.stream(ctx)
	if err != nil {
		return err
	}
	return s.DeleteMsg(ctx, seq)
}

// StoredBefore finds the dead letters stored before t: every one with a
// sequence below `below`, count of them. The stream stores in time order,
// so a binary search over the sequences finds the boundary in a few reads.
func (d DeadLetters) StoredBefore(ctx context.Context, t time.Time) (below, count uint64, err error) {
	s, err := d.stream(ctx)
	if err != nil {
		return 0, 0, err
	}
	info, err := s.Info(ctx, jetstream.WithDeletedDetails(true))
	if err != nil {
		return 0, 0, fmt.Errorf("bus: dead-letter stream %s: %w", d.Stream, err)
	}
	st := info.State
	if st.Msgs == 0 {
		return st.FirstSeq, 0, nil
	}
	lo, hi := st.FirstSeq, st.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := s.GetMsg(ctx, mid, jetstream.WithGetMsgSubject(DeadLetterStreamSubjects))
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			hi = mid // nothing stored at or after mid
		case err != nil:
			return 0, 0, fmt.Errorf("bus: dead-letter stream %s: read %d: %w", d.Stream, mid, err)
		case m.Time.Before(t):
			lo = m.Sequence + 1
		default:
			hi = mid // nothing is stored between mid and m
		}
	}
	count = lo - st.FirstSeq
	for _, del := range st.Deleted {
		if del >= st.FirstSeq && del < lo {
			count--
		}
	}
	return lo, count, nil
}

// PurgeBelow removes every dead letter with a sequence below below.
func (d DeadLetters) PurgeBelow(ctx context.Context, below uint64) error {
	s, err := d.stream(ctx)
	if err != nil {
		return err
	}
	return s.Purge(ctx, jetstream.WithPurgeSequence(below))
}

// HeaderReplayOf marks a replayed command with the sequence of the dead
// letter it came from, for the record (a replay dead-lettered again keeps
// it).
const HeaderReplayOf = "Csp-Replay-Of"

// DeadLetterSummary reads what a dead letter's headers and body say; the
// command's status in Redis is the caller's to fill in.
func DeadLetterSummary(m *jetstream.RawStreamMsg) messages.DeadLetterSummary {
	h := m.Header
	s := messages.DeadLetterSummary{Seq: m.Sequence, StoredAt: m.Time.UTC(), Code: h.Get(MetaDeadLetterCode),
		Reason: h.Get(MetaDeadLetterReason), OriginalSubject: h.Get(MetaOriginalSubject)}
	if t, err := time.Parse(time.RFC3339Nano, h.Get(MetaTimestamp)); err == nil {
		s.CommandStoredAt = t.UTC()
	}
	s.Attempts, _ = strconv.Atoi(h.Get(MetaDeadLetterAttempts))
	route, err := messages.ParseStoredCommandSubject(s.OriginalSubject)
	if err != nil {
		return s
	}
	s.PartnerID, s.Role, s.CustomerID, s.CommandType = route.PartnerID, string(route.Role), route.CustomerID, string(route.Type)
	if cmd, err := messages.DecodeCommand(route, m.Data); err == nil {
		s.CommandID = cmd.ID
	}
	return s
}

// Replay is a dead letter's command as a replay publishes it again.
type Replay struct {
	// Msg goes to the command's original csp.cmd subject with its original
	// Nats-Msg-Id.
	Msg     *nats.Msg
	Command messages.Command
}

// ErrNotReplayable is wrapped by ReplayOf for a dead letter whose command
// the processor would only dead-letter again for its form.
var ErrNotReplayable = errors.New("not replayable")

// ReplayOf rebuilds the command of a dead letter as its sender published
// it: the body unchanged, to the subject the command stream stored as the
// original (csp.cmdp.<slot>.<partner>.<role>.<customer>.<type> is
// published as csp.cmd.<partner>.<role>.<customer>.<type>, which the stream
// maps to the same slot), with the sender's Nats-Msg-Id (MetaOriginalMsgID;
// for a dead letter older than that header, messages.CommandMsgID, which
// every publisher of this module uses), the sender's headers (Csp-Sim-Time
// included, as a redelivery would see it; none the bus or the dead letter
// set) and HeaderReplayOf.
//
// Only a body that decodes as a command for its subject is replayable: any
// other would be dead-lettered again for the same reason, and a body kept
// only in part (over 64 KiB) cannot be rebuilt.
func ReplayOf(m *jetstream.RawStreamMsg) (Replay, error) {
	if m.Header.Get(MetaDeadLetterBodySize) != "" {
		return Replay{}, fmt.Errorf("%w: only the first %d bytes of its %s-byte body were kept", ErrNotReplayable,
			len(m.Data), m.Header.Get(MetaDeadLetterBodySize))
	}
	route, err := messages.ParseStoredCommandSubject(m.Header.Get(MetaOriginalSubject))
	if err != nil {
		return Replay{}, fmt.Errorf("%w: %v", ErrNotReplayable, err)
	}
	cmd, err := messages.DecodeCommand(route, m.Data)
	if err != nil {
		return Replay{}, fmt.Errorf("%w: its body does not decode as a command for %s: %v", ErrNotReplayable,
			m.Header.Get(MetaOriginalSubject), err)
	}
	msg := nats.NewMsg(messages.CommandSubject(route.PartnerID, route.Role, route.CustomerID, route.Type))
	msg.Data = slices.Clone(m.Data)
	for k, v := range m.Header {
		if senderHeader(k) && len(v) > 0 {
			msg.Header[k] = slices.Clone(v)
		}
	}
	id := m.Header.Get(MetaOriginalMsgID)
	if id == "" {
		id = messages.CommandMsgID(cmd.CustomerID, cmd.ID)
	}
	msg.Header.Set(jetstream.MsgIDHeader, id)
	msg.Header.Set(HeaderReplayOf, strconv.FormatUint(m.Sequence, 10))
	return Replay{Msg: msg, Command: cmd}, nil
}

// senderHeader reports whether a dead letter's header came from the
// command's sender: the bus's and the dead letter's own (Csp-*) and the
// server's (Nats-*) did not, except the simulated time.
func senderHeader(k string) bool {
	if strings.EqualFold(k, messages.HeaderSimulatedTime) {
		return true
	}
	lk := strings.ToLower(k)
	return !strings.HasPrefix(lk, "csp-") && !strings.HasPrefix(lk, "nats-")
}
