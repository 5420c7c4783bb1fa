package bus_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// fnv1a32 is FNV-1a 32, written out here so the test does not trust the
// package's SlotOf to check the server's mapping.
func fnv1a32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// The server stores every command under its customer's slot, which is
// bus.SlotOf, and each partition's consumer sees exactly its slots.
func TestTransformStoresCommandsUnderCustomerSlot(t *testing.T) {
	const n = 32
	e := newEnv(t, n)
	ctx := ctxT(t)

	seq1 := e.publishCommand(t, "P1", "C1", "order.placed", `{}`)
	seq2 := e.publishCommand(t, "P1", "C2", "subscription.cancel", `{}`)
	stream, err := e.js.Stream(ctx, e.streams.CommandStream)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		seq                   uint64
		customer, subjectTail string
	}{
		{seq1, "C1", "P1.admin_agent.C1.order.placed"},
		{seq2, "C2", "P1.admin_agent.C2.subscription.cancel"},
	} {
		m, err := stream.GetMsg(ctx, c.seq)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("csp.cmdp.%d.%s", fnv1a32(c.customer)%bus.Slots, c.subjectTail)
		if m.Subject != want {
			t.Errorf("seq %d stored as %q, want %q", c.seq, m.Subject, want)
		}
		if slot := bus.SlotOf(c.customer); uint32(slot) != fnv1a32(c.customer)%bus.Slots {
			t.Errorf("SlotOf(%s) = %d, want %d", c.customer, slot, fnv1a32(c.customer)%bus.Slots)
		}
		route, err := messages.ParseStoredCommandSubject(m.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if route.CustomerID != c.customer || route.PartnerID != "P1" || route.Slot != bus.SlotOf(c.customer) {
			t.Errorf("route %+v", route)
		}
	}

	// Many customers and partners: the server's slot is always
	// SlotOf(customer), whatever the partner and the type.
	const customers = 300
	var seqs []uint64
	for i := 0; i < customers; i++ {
		seqs = append(seqs, e.publishCommand(t, fmt.Sprintf("P%d", i%7), fmt.Sprintf("cust-%d_x", i), "subscription.autorenew.set", `{}`))
	}
	perPartition := map[int]uint64{bus.PartitionOf("C1", n): 1}
	perPartition[bus.PartitionOf("C2", n)]++
	for i, seq := range seqs {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		customer := fmt.Sprintf("cust-%d_x", i)
		perPartition[bus.PartitionOf(customer, n)]++
		want := fmt.Sprintf("csp.cmdp.%d.P%d.admin_agent.%s.subscription.autorenew.set", bus.SlotOf(customer), i%7, customer)
		if m.Subject != want {
			t.Fatalf("stored as %q, want %q", m.Subject, want)
		}
	}
	if len(perPartition) < n/2 {
		t.Errorf("300 customers fell into only %d of %d partitions", len(perPartition), n)
	}

	// A consumer filtered on its slots' subjects sees exactly that
	// partition, although its filters are not inside the stream's subjects.
	consumers, err := bus.EnsureConsumers(ctx, e.js, e.streams, bus.SubscriberConfig{})
	if err != nil {
		t.Fatalf("EnsureConsumers: %v", err)
	}
	if len(consumers) != n {
		t.Fatalf("%d consumers, want %d", len(consumers), n)
	}
	for p, c := range consumers {
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first, end := bus.PartitionSlots(p, n)
		if info.Name != fmt.Sprintf("processor-p%02dof%d", p, n) || len(info.Config.FilterSubjects) != end-first ||
			info.Config.FilterSubjects[0] != fmt.Sprintf("csp.cmdp.%d.>", first) ||
			info.Config.FilterSubjects[end-first-1] != fmt.Sprintf("csp.cmdp.%d.>", end-1) {
			t.Errorf("consumer %d: name %s filters %v", p, info.Name, info.Config.FilterSubjects)
		}
		if info.Config.MaxAckPending != bus.DefaultMaxInFlight || info.Config.AckPolicy != jetstream.AckExplicitPolicy ||
			info.Config.MaxDeliver != -1 || info.Config.DeliverPolicy != jetstream.DeliverAllPolicy ||
			info.Config.AckWait != bus.DefaultAckWait {
			t.Errorf("consumer %d config %+v", p, info.Config)
		}
		if info.NumPending != perPartition[p] {
			t.Errorf("partition %d: consumer has %d pending, %d commands were published to it", p, info.NumPending, perPartition[p])
		}
	}
}

func TestCommandWithoutTypeIsRefusedByTheBroker(t *testing.T) {
	e := newEnv(t, 4)
	for _, subj := range []string{"csp.cmd.P1.admin_agent.C1", "csp.cmd.P1.admin_agent", "csp.cmd.P1"} {
		_, err := e.js.Publish(ctxT(t), subj, []byte(`{}`))
		if !errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.Errorf("publish to %s: err %v, want no stream response", subj, err)
		}
	}
	// Publishing straight to a partition subject is not captured either:
	// a sender cannot choose a partition.
	if _, err := e.js.Publish(ctxT(t), "csp.cmdp.0.P1.admin_agent.C1.order.placed", []byte(`{}`)); !errors.Is(err, jetstream.ErrNoStreamResponse) {
		t.Errorf("publish to a partition subject: err %v, want no stream response", err)
	}
}

func TestEnsureStreamsIsIdempotentAndRefusesNewPartitionCount(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx := ctxT(t)
	cfg := bus.StreamsConfig{Partitions: 8, EventMaxAge: 48 * time.Hour}

	for i := 0; i < 3; i++ {
		if err := bus.EnsureStreams(ctx, js, nc, cfg); err != nil {
			t.Fatalf("EnsureStreams #%d: %v", i+1, err)
		}
	}
	names := map[string]bool{}
	for name := range js.StreamNames(ctx).Name() {
		names[name] = true
	}
	if len(names) != 3 || !names["CSP_COMMANDS"] || !names["CSP_EVENTS"] || !names["CSP_DEADLETTER"] {
		t.Fatalf("streams %v", names)
	}
	for _, c := range []struct {
		name, subject string
		maxAge        time.Duration
		transform     bool
	}{
		{"CSP_COMMANDS", "csp.cmd.*.*.*.>", 30 * 24 * time.Hour, true},
		{"CSP_EVENTS", "csp.evt.>", 48 * time.Hour, false},
		{"CSP_DEADLETTER", "csp.dlq.>", 30 * 24 * time.Hour, false},
	} {
		st, err := js.Stream(ctx, c.name)
		if err != nil {
			t.Fatal(err)
		}
		sc := st.CachedInfo().Config
		if len(sc.Subjects) != 1 || sc.Subjects[0] != c.subject || sc.Storage != jetstream.FileStorage ||
			sc.Retention != jetstream.LimitsPolicy || sc.MaxAge != c.maxAge || sc.Duplicates != 2*time.Minute ||
			sc.Replicas != 1 || (sc.SubjectTransform != nil) != c.transform {
			t.Errorf("%s config %+v", c.name, sc)
		}
	}

	// A command stored, then EnsureStreams again with another max age:
	// updated, nothing lost.
	if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	cfg.CommandMaxAge = 7 * 24 * time.Hour
	if err := bus.EnsureStreams(ctx, js, nc, cfg); err != nil {
		t.Fatalf("EnsureStreams with a new max age: %v", err)
	}
	st, _ := js.Stream(ctx, "CSP_COMMANDS")
	if info := st.CachedInfo(); info.Config.MaxAge != 7*24*time.Hour || info.State.Msgs != 1 {
		t.Errorf("after update: max age %v, %d messages", info.Config.MaxAge, info.State.Msgs)
	}

	// Another partition count changes nothing in the stream.
	cfg.Partitions = 16
	if err := bus.EnsureStreams(ctx, js, nc, cfg); err != nil {
		t.Fatalf("EnsureStreams with 16 partitions: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.SubjectTransform == nil || info.Config.SubjectTransform.Destination != bus.CommandTransform().Destination ||
		info.State.Msgs != 1 {
		t.Errorf("transform %+v, %d messages", info.Config.SubjectTransform, info.State.Msgs)
	}
}

// A command stream of an older version, stored per partition with
// {{partition(<P>,3)}}, is refused with what to do, and left as it is.
func TestEnsureStreamsRefusesTheOldPerPartitionTransform(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx := ctxT(t)
	old := bus.CommandStreamConfig(bus.StreamsConfig{})
	tr := *old.SubjectTransform
	tr.Destination = strings.Replace(tr.Destination, "partition(1024,", "partition(32,", 1)
	old.SubjectTransform = &tr
	if _, err := js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", nil); err != nil {
		t.Fatal(err)
	}
	err := bus.EnsureStreams(ctx, js, nc, bus.StreamsConfig{})
	if !errors.Is(err, bus.ErrTransformChanged) || !strings.Contains(err.Error(), "partition(32,3)") ||
		!strings.Contains(err.Error(), "drain") || !strings.Contains(err.Error(), "nats stream rm CSP_COMMANDS") {
		t.Fatalf("EnsureStreams on a per-partition stream: %v", err)
	}
	st, err := js.Stream(ctx, "CSP_COMMANDS")
	if err != nil {
		t.Fatal(err)
	}
	if info := st.CachedInfo(); info.Config.SubjectTransform.Destination != tr.Destination || info.State.Msgs != 1 {
		t.Errorf("the old stream changed: %+v, %d messages", info.Config.SubjectTransform, info.State.Msgs)
	}
	// A subscriber refuses it as well.
	sub, err := bus.NewCommandSubscriber(js, bus.StreamsConfig{}, bus.SubscriberConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if _, err := sub.Subscribe(ctx, "commands"); !errors.Is(err, bus.ErrTransformChanged) {
		t.Errorf("Subscribe on a per-partition stream: %v", err)
	}
}

func TestEnsureStreamsRefusesToPartitionAnUnpartitionedStreamWithMessages(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	ctx := ctxT(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "CSP_COMMANDS", Subjects: []string{"csp.cmd.>"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "csp.cmd.P1.admin_agent.C1.order.placed", nil); err != nil {
		t.Fatal(err)
	}
	err := bus.EnsureStreams(ctx, js, nc, bus.StreamsConfig{})
	if err == nil || !strings.Contains(err.Error(), "without the partitioning subject transform") {
		t.Fatalf("EnsureStreams: %v", err)
	}
}

func TestEnsureStreamsValidatesConfig(t *testing.T) {
	s := natstest.RunServer(t)
	nc, js := natstest.Connect(t, s)
	for _, cfg := range []bus.StreamsConfig{
		{CommandStream: "csp.commands"},
		{Partitions: -1},
		{Partitions: bus.MaxPartitions + 1},
		{Partitions: 12},
		{EventStream: "CSP_COMMANDS"},
	} {
		if err := bus.EnsureStreams(ctxT(t), js, nc, cfg); err == nil {
			t.Errorf("EnsureStreams(%+v) accepted", cfg)
		}
	}
	names := 0
	for range js.StreamNames(ctxT(t)).Name() {
		names++
	}
	if names != 0 {
		t.Errorf("%d streams created from invalid configs", names)
	}
}

// A store too small for the streams' byte limits (JetStream reserves them
// at creation) stops EnsureStreams with the settings to change, not only
// the server's "insufficient storage resources available".
func TestEnsureStreamsNamesTheLimitsWhenTheStoreIsTooSmall(t *testing.T) {
	s, err := bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: t.TempDir(), Options: &server.Options{JetStreamMaxStore: 1 << 30}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, js := natstest.Connect(t, s)
	err = bus.EnsureStreams(ctxT(t), js, nc, bus.StreamsConfig{})
	if err == nil || !strings.Contains(err.Error(), "insufficient storage") || !strings.Contains(err.Error(), "COMMAND_STREAM_MAX_BYTES") {
		t.Fatalf("EnsureStreams on a 1 GiB store with the default limits: %v", err)
	}
	// Limits that fit are accepted on the same server.
	small := bus.StreamsConfig{CommandMaxBytes: 256 << 20, EventMaxBytes: 256 << 20, DeadLetterMaxBytes: 64 << 20}
	if err := bus.EnsureStreams(ctxT(t), js, nc, small); err != nil {
		t.Fatalf("limits that fit the store: %v", err)
	}
}

// The extreme partition counts work on a real server: one consumer
// filtering on everything, and two consumers of 512 slot filters each.
func TestConsumersOfOneAndTwoPartitionsSeeTheirSlots(t *testing.T) {
	for _, n := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d partitions", n), func(t *testing.T) {
			e := newEnv(t, n)
			per := map[int]uint64{}
			for i := range 50 {
				c := fmt.Sprintf("cust-%d", i)
				e.publishCommand(t, "P1", c, "order.placed", `{}`)
				per[bus.PartitionOf(c, n)]++
			}
			consumers, err := bus.EnsureConsumers(ctxT(t), e.js, e.streams, bus.SubscriberConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if len(consumers) != n {
				t.Fatalf("%d consumers", len(consumers))
			}
			for p, c := range consumers {
				info, err := c.Info(ctxT(t))
				if err != nil {
					t.Fatal(err)
				}
				if info.NumPending != per[p] {
					t.Errorf("partition %d of %d: %d pending, %d published to it", p, n, info.NumPending, per[p])
				}
			}
		})
	}
}
