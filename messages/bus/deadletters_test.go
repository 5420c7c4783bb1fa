package bus_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// deadLetterOf publishes msg as a command, consumes it and dead-letters it
// with code, as the processor's handler does; it returns the dead letter's
// sequence.
func (e *env) deadLetterOf(t *testing.T, msg *nats.Msg, code string) uint64 {
	t.Helper()
	if _, err := e.js.PublishMsg(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{})
	ch, err := sub.Subscribe(ctxT(t), "commands")
	if err != nil {
		t.Fatal(err)
	}
	cmd := receive(t, ch, 10*time.Second)
	dl, err := bus.NewDeadLetter(cmd, code, "it failed")
	if err != nil {
		t.Fatal(err)
	}
	if err := newPublisher(t, e.js, 0).Publish("", dl); err != nil {
		t.Fatal(err)
	}
	cmd.Ack()
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := e.js.Stream(ctxT(t), e.streams.DeadLetterStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.LastSeq
}

// A dead letter keeps its command's Nats-Msg-Id, and its replay is the
// command as its sender published it: the body, the csp.cmd subject, the
// original Nats-Msg-Id and the sender's headers, none of the bus's or the
// dead letter's; the command stream stores it in the customer's slot as
// before. A body that does not decode is not replayable.
func TestDeadLetterReplayIsTheCommandAsSent(t *testing.T) {
	e := newEnv(t, 1)
	cmd := messages.Command{ID: "cmd-1", Type: messages.CmdSubscriptionSuspend, CustomerID: "C-REPLAY",
		Data: &messages.SuspendData{SubscriptionID: "sub-1", Reason: "fraud"}}
	msg, err := messages.NewCommandMsg("P-1", messages.RoleAdminAgent, cmd)
	if err != nil {
		t.Fatal(err)
	}
	msg.Header.Set("Traceparent", "00-trace-span-01")
	msg.Header.Set(messages.HeaderSimulatedTime, "2026-03-10T10:00:00Z")
	seq := e.deadLetterOf(t, msg, messages.CodeInternalError)
	dls := bus.DeadLetters{JS: e.js, Stream: e.streams.DeadLetterStream}
	m, err := dls.Get(ctxT(t), seq)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get(bus.MetaOriginalMsgID); got != "C-REPLAY:cmd-1" {
		t.Fatalf("dead letter's %s = %q", bus.MetaOriginalMsgID, got)
	}
	s := bus.DeadLetterSummary(m)
	if s.Code != messages.CodeInternalError || s.CustomerID != "C-REPLAY" || s.PartnerID != "P-1" || s.CommandID != "cmd-1" ||
		s.CommandType != string(messages.CmdSubscriptionSuspend) || s.CommandStoredAt.IsZero() || s.Reason != "it failed" {
		t.Fatalf("summary %+v", s)
	}

	r, err := bus.ReplayOf(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		jetstream.MsgIDHeader:        "C-REPLAY:cmd-1",
		"Traceparent":                "00-trace-span-01",
		messages.HeaderSimulatedTime: "2026-03-10T10:00:00Z",
		bus.HeaderReplayOf:           strconv.FormatUint(seq, 10),
	}
	if r.Msg.Subject != msg.Subject || string(r.Msg.Data) != string(msg.Data) || len(r.Msg.Header) != len(want) {
		t.Fatalf("replay %s %s %v", r.Msg.Subject, r.Msg.Data, r.Msg.Header)
	}
	for k, v := range want {
		if got := r.Msg.Header.Get(k); got != v {
			t.Errorf("replay header %s = %q, want %q", k, got, v)
		}
	}
	ack, err := e.js.PublishMsg(ctxT(t), r.Msg)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := e.js.Stream(ctxT(t), e.streams.CommandStream)
	if err != nil {
		t.Fatal(err)
	}
	again, err := stored.GetMsg(ctxT(t), ack.Sequence)
	if err != nil {
		t.Fatal(err)
	}
	if again.Subject != s.OriginalSubject {
		t.Fatalf("the replay is stored as %s, the original as %s", again.Subject, s.OriginalSubject)
	}

	bad := nats.NewMsg("csp.cmd.P-1.admin_agent.C-REPLAY.subscription.suspend")
	bad.Data = []byte(`{"id": "x", not json`)
	badSeq := e.deadLetterOf(t, bad, messages.CodeMalformed)
	bm, err := dls.Get(ctxT(t), badSeq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.ReplayOf(bm); !errors.Is(err, bus.ErrNotReplayable) {
		t.Fatalf("a malformed body's replay: %v", err)
	}
}

// The dead letters stored before a time are found by sequence, the removed
// ones not counted; a purge below that sequence removes exactly them.
func TestDeadLettersStoredBeforeATime(t *testing.T) {
	e := newEnv(t, 1)
	ctx := ctxT(t)
	dls := bus.DeadLetters{JS: e.js, Stream: e.streams.DeadLetterStream}
	var seqs []uint64
	for i := range 5 {
		ack, err := e.js.Publish(ctx, messages.DeadLetterSubject("malformed"), []byte(strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, ack.Sequence)
	}
	fourth, err := dls.Get(ctx, seqs[3])
	if err != nil {
		t.Fatal(err)
	}
	if err := dls.Delete(ctx, seqs[1]); err != nil {
		t.Fatal(err)
	}
	below, count, err := dls.StoredBefore(ctx, fourth.Time)
	if err != nil {
		t.Fatal(err)
	}
	if below != seqs[3] || count != 2 {
		t.Fatalf("before the fourth: below %d, count %d; want %d, 2", below, count, seqs[3])
	}
	if _, count, _ := dls.StoredBefore(ctx, time.Unix(0, 0)); count != 0 {
		t.Fatalf("%d stored before 1970", count)
	}
	if err := dls.PurgeBelow(ctx, below); err != nil {
		t.Fatal(err)
	}
	first, err := dls.Next(ctx, 1, "")
	if err != nil || first.Sequence != seqs[3] {
		t.Fatalf("first after the purge: %v %v", first, err)
	}
	if _, err := dls.Next(ctx, 1, "internal_error"); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Fatalf("a code with no dead letter: %v", err)
	}
}
