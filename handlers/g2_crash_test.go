package handlers

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator"
	"github.com/cspreseller/csp-processor/state/redistest"
)

// G1 and G2 under crashes: the processor binary runs as a child process
// and is killed with SIGKILL five times while it works through 10,000
// commands. Compared with what the rules say the input should produce
// (decided here from the stored commands and their broker timestamps),
// nothing is lost, nothing is duplicated, and every event has the same ID
// and the same bytes; the final state in Redis is the expected one. The
// last run is stopped with SIGTERM and must exit cleanly.
func TestG2_ProcessorKilledRepeatedlyLosesAndDuplicatesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the processor binary")
	}
	e := newEnv(t)
	bin := buildProcessor(t)

	const customers, perCustomer = 500, 20
	cmds := crashWorkload(customers)
	if len(cmds) != customers*perCustomer {
		t.Fatalf("workload has %d commands", len(cmds))
	}
	publishAll(t, e.js, cmds)
	want, wantState := expectedFromStream(t, e, len(cmds))

	run := func() *exec.Cmd { return e.runProcessorBinary(bin) }

	total := len(want)
	child := run()
	for k := 1; k <= 5; k++ {
		threshold := total * (k*13 + 2) / 100 // 15%, 28%, 41%, 54%, 67% of the events
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(evs) >= threshold })
		cancel()
		if err != nil {
			t.Fatalf("kill %d: %d of %d events before the deadline: %v", k, len(e.events.Events()), total, err)
		}
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = child.Wait()
		if seen := len(e.events.Events()); seen >= total {
			t.Fatalf("kill %d came after all %d events: the stream finished too early to test crashes", k, total)
		}
		t.Logf("kill %d with %d of %d events out", k, len(e.events.Events()), total)
		child = run()
	}

	ctx, cancel := context.WithTimeout(context.Background(), 180*time.Second)
	defer cancel()
	if err := e.events.WaitFor(ctx, func(evs []messages.Event) bool { return len(evs) >= total }); err != nil {
		t.Fatalf("after the kills: %d of %d events: %v", len(e.events.Events()), total, err)
	}
	// SIGTERM: drain and exit cleanly.
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("processor did not exit cleanly on SIGTERM: %v", err)
	}

	got := e.events.Events()
	if len(got) != total {
		t.Fatalf("%d distinct events, want %d", len(got), total)
	}
	for _, ev := range got {
		body, _ := e.events.Body(ev.ID)
		w, ok := want[ev.ID]
		if !ok {
			t.Fatalf("unexpected event %s %s for command %s: a duplicated effect", ev.ID, ev.Type, ev.CommandID)
		}
		if string(w) != string(body) {
			t.Fatalf("event %s differs from the expected one:\ngot  %s\nwant %s", ev.ID, body, w)
		}
	}
	if c := e.events.Conflicts(); len(c) > 0 {
		t.Fatalf("conflicting deliveries: %v", c[0])
	}
	for cust, fields := range wantState {
		snap, err := e.store.Load(context.Background(), cust, "none")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range fields {
			if string(snap.Fields[k]) != string(v) {
				t.Fatalf("customer %s field %s:\ngot  %s\nwant %s", cust, k, snap.Fields[k], v)
			}
		}
		if len(snap.Fields) != len(fields) {
			t.Fatalf("customer %s has %d entities, want %d", cust, len(snap.Fields), len(fields))
		}
	}
	t.Logf("%d commands, %d events, %d duplicate deliveries (same ID, same bytes)", len(cmds), total, e.events.Duplicates())
}

// runProcessorBinary starts the processor binary against this test's NATS
// server and Redis, with a short ack wait so that a killed one's command is
// redelivered quickly; its output shows with -v.
func (e *env) runProcessorBinary(bin string, env ...string) *exec.Cmd {
	e.t.Helper()
	c := exec.Command(bin)
	c.Env = append(os.Environ(), "NATS_URL="+e.srv.ClientURL(), "REDIS_URL="+redistest.URL(),
		"PARTITIONS="+strconv.Itoa(e.bus.Streams.Partitions), "ACK_WAIT=2s", "LOG_LEVEL=warn", "DATA_DIR="+e.t.TempDir())
	c.Env = append(c.Env, env...)
	if testing.Verbose() {
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
	}
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	return c
}

func buildProcessor(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "processor")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/processor").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type partnerCommand struct {
	partner string
	cmd     messages.Command
}

// crashWorkload is 20 commands per customer: accepted and rejected ones,
// money in both directions (purchase, prorated increase, cancellation
// credits), scheduled changes, a foreign partner.
func crashWorkload(customers int) []partnerCommand {
	var out []partnerCommand
	for c := range customers {
		cust := fmt.Sprintf("C-%04d", c)
		n := 0
		add := func(typ messages.CommandType, data any) {
			n++
			out = append(out, partnerCommand{partnerA, messages.Command{ID: fmt.Sprintf("%s-%02d", cust, n), Type: typ, CustomerID: cust, Data: data}})
		}
		add(messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "Co " + cust, Segment: "commercial", Country: "US", Currency: "USD"})
		q1, q2 := 1+c%50, 3
		add(messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-" + cust, Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: &q1, Term: "P1Y", BillingFrequency: "annual"},
			{LineID: "L2", OfferID: "CFQ7TTC0LDPB:0001", Quantity: &q2, Term: "P1Y", BillingFrequency: "monthly"}}})
		orderCmd := fmt.Sprintf("%s-%02d", cust, n)
		s1 := messages.DerivedID("sub", cust, orderCmd, 0)
		s2 := messages.DerivedID("sub", cust, orderCmd, 1)
		t, f := true, false
		add(messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s1, Reason: "non_payment"})
		add(messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s1, Reason: "fraud"}) // rejected
		add(messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s1})
		add(messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s1, Enabled: &t})
		add(messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s2, Enabled: &f})
		add(messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s2}) // rejected
		add(messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s2, Reason: "customer_request"})
		add(messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: s2, Enabled: &t}) // rejected
		add(messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s1})
		add(messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s1}) // rejected
		add(messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: s2})
		add(messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O2-" + cust, Lines: []messages.OrderLine{
			{LineID: "L1", OfferID: offerBasic, Quantity: &q2, Term: "P1M", BillingFrequency: "monthly"}}})
		o2 := fmt.Sprintf("%s-%02d", cust, n)
		s3 := messages.DerivedID("sub", cust, o2, 0)
		q6 := 6
		add(messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: s2, Quantity: &q6}) // prorated charge
		add(messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: s2, Reason: "non_payment"})
		add(messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: s2})
		add(messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: s3, Quantity: &q1}) // for the renewal
		out = append(out, partnerCommand{partnerB, messages.Command{ID: fmt.Sprintf("%s-%02d", cust, n+1), Type: messages.CmdSubscriptionCancel,
			CustomerID: cust, Data: &messages.CancelData{SubscriptionID: s2}}}) // wrong tenant
		n++
		add(messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "again", Segment: "commercial", Country: "US", Currency: "USD"}) // rejected
	}
	return out
}

func publishAll(t *testing.T, js jetstream.JetStream, cmds []partnerCommand) {
	t.Helper()
	for i, pc := range cmds {
		msg, err := simulator.CommandMsg(pc.partner, pc.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishMsgAsync(msg); err != nil {
			t.Fatal(err)
		}
		if i%1000 == 999 {
			<-js.PublishAsyncComplete()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publishing the workload timed out")
	}
}

// expectedFromStream decides every stored command in stream order with
// its broker timestamp, as the processor must, and returns the expected
// events (ID -> bytes) and final entities per customer.
func expectedFromStream(t *testing.T, e *env, n int) (map[string][]byte, map[string]map[string][]byte) {
	t.Helper()
	stream, err := e.js.Stream(context.Background(), bus.DefaultCommandStream)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]rules.CustomerState{}
	fields := map[string]map[string][]byte{}
	events := map[string][]byte{}
	for seq := uint64(1); seq <= uint64(n); seq++ {
		m, err := stream.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		route, err := messages.ParseStoredCommandSubject(m.Subject)
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := messages.DecodeCommand(route, m.Data)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := states[cmd.CustomerID]
		if !ok {
			st, _ = rules.DecodeState(nil)
			fields[cmd.CustomerID] = map[string][]byte{}
		}
		out := rules.Decide(rules.Input{Command: cmd, PartnerID: route.PartnerID, Now: m.Time.UTC(), State: st, Catalog: e.cat, Archive: true})
		commit, _, err := buildCommit(cmd, route, m.Time.UTC(), out)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range commit.Events {
			events[ev.ID] = ev.Data
		}
		for k, v := range commit.Set {
			fields[cmd.CustomerID][k] = v
		}
		for _, k := range commit.Delete {
			delete(fields[cmd.CustomerID], k)
		}
		for k := range commit.Archive { // moved to the archive with the commit
			delete(fields[cmd.CustomerID], k)
		}
		states[cmd.CustomerID] = out.State
	}
	return events, fields
}
