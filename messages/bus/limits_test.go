package bus_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// jsErrStoreFailed is JetStream's "stream store failed" API error code, the
// one a DiscardNew stream answers when it is full ("maximum bytes exceeded").
const jsErrStoreFailed = 10077

// Every stream gets its message size limit, byte limit and discard policy,
// also when it existed before with none of them (an older version's
// streams): EnsureStreams updates it and keeps what it stores.
func TestEnsureStreamsAppliesLimitsToExistingStreams(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx := ctxT(t)
	old := bus.StreamsConfig{Partitions: 4}
	for _, sc := range []jetstream.StreamConfig{bus.CommandStreamConfig(old), bus.EventStreamConfig(old), bus.DeadLetterStreamConfig(old)} {
		sc.MaxBytes, sc.MaxMsgSize, sc.Discard = -1, -1, jetstream.DiscardOld
		if _, err := js.CreateStream(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}

	check := func(cfg bus.StreamsConfig, want map[string][3]int64) {
		t.Helper()
		if err := bus.EnsureStreams(ctx, js, nc, cfg); err != nil {
			t.Fatalf("EnsureStreams(%+v): %v", cfg, err)
		}
		for name, w := range want {
			st, err := js.Stream(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			c := st.CachedInfo().Config
			if int64(c.MaxMsgSize) != w[0] || c.MaxBytes != w[1] || int64(c.Discard) != w[2] {
				t.Errorf("%s: max msg size %d, max bytes %d, discard %v; want %d, %d, %v",
					name, c.MaxMsgSize, c.MaxBytes, c.Discard, w[0], w[1], jetstream.DiscardPolicy(w[2]))
			}
		}
	}
	newP, oldP := int64(jetstream.DiscardNew), int64(jetstream.DiscardOld)
	check(old, map[string][3]int64{
		"CSP_COMMANDS":   {69_632, 2 << 30, newP},
		"CSP_EVENTS":     {1 << 20, 4 << 30, newP},
		"CSP_DEADLETTER": {77_824, 1 << 30, oldP},
	})
	// Configured limits, and -1 for none, reach the existing streams too.
	check(bus.StreamsConfig{Partitions: 4, CommandMaxBytes: 100 << 20, EventMaxBytes: -1, DeadLetterMaxBytes: 10 << 20},
		map[string][3]int64{
			"CSP_COMMANDS":   {69_632, 100 << 20, newP},
			"CSP_EVENTS":     {1 << 20, -1, newP},
			"CSP_DEADLETTER": {77_824, 10 << 20, oldP},
		})
	// A limit lowered below what the command stream holds drops nothing
	// (DiscardNew): the stored commands stay until they are consumed or age
	// out, and new ones are refused meanwhile.
	for i := 0; i < 3; i++ {
		if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", make([]byte, 30<<10)); err != nil {
			t.Fatal(err)
		}
	}
	check(bus.StreamsConfig{Partitions: 4, CommandMaxBytes: bus.CommandMaxMsgBytes},
		map[string][3]int64{"CSP_COMMANDS": {69_632, 69_632, newP}})
	st, _ := js.Stream(ctx, "CSP_COMMANDS")
	if n := st.CachedInfo().State.Msgs; n != 4 {
		t.Errorf("command stream holds %d messages after the updates, want all 4", n)
	}
	if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", []byte(`{}`)); err == nil {
		t.Error("a command was accepted by a command stream over its byte limit")
	}
}

func TestStreamsConfigRejectsByteLimitsThatHoldNoMessage(t *testing.T) {
	for _, c := range []bus.StreamsConfig{
		{CommandMaxBytes: -2},
		{EventMaxBytes: 1000},
		{DeadLetterMaxBytes: bus.DeadLetterMaxMsgBytes - 1},
	} {
		if err := c.WithDefaults().Validate(); err == nil || !strings.Contains(err.Error(), "MaxBytes") {
			t.Errorf("%+v: %v, want a MaxBytes error", c, err)
		}
	}
	ok := bus.StreamsConfig{CommandMaxBytes: bus.CommandMaxMsgBytes, EventMaxBytes: -1, DeadLetterMaxBytes: bus.DeadLetterMaxMsgBytes}
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}

// The largest body the codec accepts, sent with the longest headers our
// upstream sends, is stored; a body beyond the command stream's limit is
// refused by JetStream and the publisher sees why.
func TestOversizeCommandIsRefusedByJetStream(t *testing.T) {
	e := newEnv(t, 4)
	ctx := ctxT(t)
	subject := "csp.cmd.P1.admin_agent.C1.order.placed"
	largest := &nats.Msg{Subject: subject, Data: make([]byte, messages.MaxCommandBytes), Header: nats.Header{}}
	largest.Header.Set(jetstream.MsgIDHeader, strings.Repeat("c", 64)+":"+strings.Repeat("i", 128))
	largest.Header.Set(messages.HeaderSimulatedTime, "2026-12-05T04:00:00.123456789Z")
	if _, err := e.js.PublishMsg(ctx, largest); err != nil {
		t.Fatalf("a %d-byte body with the upstream's headers: %v", messages.MaxCommandBytes, err)
	}

	_, err := e.js.Publish(ctx, subject, make([]byte, bus.CommandMaxMsgBytes+1))
	if !errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum) {
		t.Fatalf("publish of a %d-byte command: %v, want %v", bus.CommandMaxMsgBytes+1, err, jetstream.ErrStreamMessageExceedsMaximum)
	}
	// Headers count: a body that fits alone is refused with headers that
	// take it over the limit.
	big := &nats.Msg{Subject: subject, Data: make([]byte, bus.CommandMaxMsgBytes-10), Header: nats.Header{"Pad": {strings.Repeat("x", 100)}}}
	if _, err := e.js.PublishMsg(ctx, big); !errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum) {
		t.Fatalf("publish of a command whose headers take it over the limit: %v", err)
	}
	st, _ := e.js.Stream(ctx, e.streams.CommandStream)
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("command stream holds %d messages, want only the one that fits", info.State.Msgs)
	}
}

// A full command stream refuses the next command with an error the upstream
// sees and keeps every stored one (DiscardNew); a full dead-letter stream
// makes room by dropping its oldest dead letter (DiscardOld).
func TestFullStreamsRefuseCommandsAndDropOldDeadLetters(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx := ctxT(t)
	cfg := bus.StreamsConfig{Partitions: 2, CommandMaxBytes: bus.CommandMaxMsgBytes, DeadLetterMaxBytes: bus.DeadLetterMaxMsgBytes}
	if err := bus.EnsureStreams(ctx, js, nc, cfg); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 30<<10) // two fit in CommandMaxMsgBytes, three do not
	var stored int
	var err error
	for stored = 0; stored < 10; stored++ {
		if _, err = js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", body); err != nil {
			break
		}
	}
	var apiErr *jetstream.APIError
	if stored != 2 || !errors.As(err, &apiErr) || apiErr.ErrorCode != jsErrStoreFailed || !strings.Contains(err.Error(), "maximum bytes exceeded") {
		t.Fatalf("after %d commands: %v, want the third refused with maximum bytes exceeded", stored, err)
	}
	st, _ := js.Stream(ctx, "CSP_COMMANDS")
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 || info.State.FirstSeq != 1 {
		t.Errorf("command stream holds %d messages from seq %d, want the first two", info.State.Msgs, info.State.FirstSeq)
	}

	for i := 0; i < 3; i++ {
		if _, err := js.Publish(ctx, "csp.dlq.malformed", body); err != nil {
			t.Fatalf("dead letter %d: %v", i+1, err)
		}
	}
	st, _ = js.Stream(ctx, "CSP_DEADLETTER")
	if info, err = st.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 || info.State.FirstSeq != 2 {
		t.Errorf("dead-letter stream holds %d messages from seq %d, want the last two", info.State.Msgs, info.State.FirstSeq)
	}
}
