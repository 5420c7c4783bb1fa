package handlers

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/handlers/rules"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// G5 at the wire, at volume: control customers with a realistic history
// receive 10,000 mutated commands (bit flips, truncations, duplicated,
// removed and mistyped fields, oversize bodies, wrong subject tokens and
// headers, their own subscription IDs with invalid data) while valid
// commands for other customers flow in between, from several publishers
// at once. Every mutated command gets the outcome the codec and the rules
// give it when run here on the same input (a dead letter with its code, a
// command.rejected with its code, or the broker refusing it), the valid
// ones get their events, the processor still applies a command after all
// of it, and each control customer's Redis keys are byte for byte what
// they were (customerSnapshot): its state hash less the version counter,
// its inbox less the rejected commands' records, its timer index entries.
//
// There is one control customer per partition: a partition applies one
// command at a time (G3), so one customer would take all 10,000 in a row.
func TestG5_TenThousandMutatedCommandsChangeNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 commands through NATS and Redis")
	}
	started := time.Now()
	e := newEnv(t)
	e.startProcessor()
	dl := e.watchDeadLetters()
	controls := e.controlCustomers(e.bus.Streams.Partitions)
	before := map[string]customerSnapshot{}
	for _, c := range controls {
		before[c.id] = e.snapshotCustomer(c.id)
	}
	rejections := e.watchRejections(slices.Collect(maps.Keys(before)))

	const publishers, mutated, validCustomers = 4, 10000, 30
	plan := planMutations(t, controls, mutated, validCustomers, publishers)
	sent := time.Now()
	results := e.publishAll(plan, publishers)
	published := time.Since(sent)

	// Every mutated command has its outcome, the one predicted for it.
	counts := map[string]int{}
	rejected := map[string]map[string]string{} // customer -> command ID -> code
	for i, p := range plan {
		r := results[i]
		switch {
		case p.valid != nil:
			if r.err != nil || r.ack.Duplicate {
				t.Fatalf("valid command %s not stored: %v", p.valid.ID, r.err)
			}
			continue
		case p.want.kind == outcomeBroker:
			if r.err == nil && !r.ack.Duplicate {
				t.Fatalf("mutation %d (%s) on %q: stored as %d, want the broker to refuse it", i, p.op, p.msg.Subject, r.ack.Sequence)
			}
		case r.err != nil:
			t.Fatalf("mutation %d (%s) on %q: publish: %v", i, p.op, p.msg.Subject, r.err)
		case r.ack.Duplicate: // a Nats-Msg-Id of the history: JetStream drops it
			counts["dropped by the broker as a duplicate"]++
			continue
		case p.want.kind == outcomeDeadLetter:
			if got := dl.await(t, r.ack.Sequence); got.code != p.want.code {
				t.Fatalf("mutation %d (%s): dead letter %q (%s), want %q", i, p.op, got.code, got.reason, p.want.code)
			}
		case p.want.kind == outcomeRejected:
			if rejected[p.want.customer] == nil {
				rejected[p.want.customer] = map[string]string{}
			}
			rejected[p.want.customer][p.want.commandID] = p.want.code
		}
		counts[strings.TrimSpace(p.want.kind+" "+p.want.code)]++
	}
	rejections.await(t, rejected, time.Minute)

	// The valid commands of the other customers got their events.
	for _, p := range plan {
		if p.valid == nil {
			continue
		}
		evs := e.await(*p.valid)
		if len(ofType(evs, p.wantEvent)) == 0 || len(ofType(evs, messages.EvtCommandRejected)) > 0 {
			t.Fatalf("valid %s %s: events %v, want %s", p.valid.Type, p.valid.ID, eventTypesOf(evs), p.wantEvent)
		}
	}
	// The processor still applies commands.
	e.createCustomer(partnerA, "C-G5-AFTER")

	for id, b := range before {
		b.requireUnchangedBut(t, e.snapshotCustomer(id), rejected[id])
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	t.Logf("%d mutated commands to %d control customers (%d valid ones for %d other customers interleaved), published by %d publishers in %v; outcomes %v; whole test %v",
		total, len(controls), len(plan)-total, validCustomers, publishers, published.Round(time.Millisecond), counts, time.Since(started).Round(time.Millisecond))
	if total != mutated {
		t.Fatalf("%d mutated commands have an outcome, want %d", total, mutated)
	}
}

// controlCustomer is a customer the mutations are aimed at, with what
// predicting their outcome needs.
type controlCustomer struct {
	e         *env
	id        string
	annual    string
	monthly   string
	timer     *rules.Timer
	state     rules.CustomerState
	historyID []string // command IDs applied: a mutation reusing one would be a duplicate
}

// controlCustomers creates one control customer on each of n partitions
// and gives each the same realistic history with valid commands: two
// subscriptions, a quantity change, a suspension, a scheduled change,
// auto-renew off. The customers go step by step together, so that their
// partitions work in parallel.
func (e *env) controlCustomers(n int) []*controlCustomer {
	e.t.Helper()
	cs := make([]*controlCustomer, n)
	for k := 0; slices.Contains(cs, nil); k++ {
		id := fmt.Sprintf("C-G5-CONTROL-%d", k)
		if p := bus.PartitionOf(id, n); cs[p] == nil {
			cs[p] = &controlCustomer{e: e, id: id}
		}
	}
	step := func(send func(c *controlCustomer) []messages.Command, check func(c *controlCustomer, cmd messages.Command, evs []messages.Event)) {
		sent := make([][]messages.Command, n)
		for i, c := range cs {
			sent[i] = send(c)
		}
		for i, c := range cs {
			for _, cmd := range sent[i] {
				check(c, cmd, e.await(cmd))
				c.historyID = append(c.historyID, cmd.ID)
			}
		}
	}
	three, twelve, fifteen, ten := 3, 12, 15, 10
	step(func(c *controlCustomer) []messages.Command {
		return []messages.Command{e.send(partnerA, c.id, messages.CmdCustomerCreated, &messages.CustomerCreatedData{
			CompanyName: "Contoso", Segment: "commercial", Country: "US", Currency: "USD"})}
	}, func(c *controlCustomer, _ messages.Command, evs []messages.Event) {
		wantEventType(e.t, evs, messages.EvtCustomerCreated)
	})
	step(func(c *controlCustomer) []messages.Command {
		order := func(qty *int, term, freq string) messages.Command {
			return e.send(partnerA, c.id, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: nextID("O"),
				Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: qty, Term: term, BillingFrequency: freq}}})
		}
		return []messages.Command{order(&ten, "P1Y", "annual"), order(&three, "P1M", "monthly")}
	}, func(c *controlCustomer, _ messages.Command, evs []messages.Event) {
		res := evs[len(evs)-1].Data.(*messages.OrderProcessedEvent)
		if res.Status != messages.OrderCompleted {
			e.t.Fatalf("control order: %+v", res)
		}
		if c.annual == "" {
			c.annual = res.Lines[0].SubscriptionID
		} else {
			c.monthly = res.Lines[0].SubscriptionID
		}
	})
	want := map[messages.CommandType]messages.EventType{messages.CmdQuantityChange: messages.EvtQuantityChanged,
		messages.CmdSubscriptionSuspend: messages.EvtSubscriptionSuspended, messages.CmdScheduleSet: messages.EvtScheduleChanged,
		messages.CmdAutoRenewSet: messages.EvtAutoRenewChanged}
	step(func(c *controlCustomer) []messages.Command {
		return []messages.Command{
			e.send(partnerA, c.id, messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: c.annual, Quantity: &twelve}),
			e.send(partnerA, c.id, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: c.monthly, Reason: messages.ReasonCustomerRequest}),
			e.send(partnerA, c.id, messages.CmdScheduleSet, &messages.ScheduleSetData{SubscriptionID: c.annual, Quantity: &fifteen}),
			e.send(partnerA, c.id, messages.CmdAutoRenewSet, &messages.AutoRenewSetData{SubscriptionID: c.annual, Enabled: new(bool)}),
		}
	}, func(c *controlCustomer, cmd messages.Command, evs []messages.Event) {
		wantEventType(e.t, evs, want[cmd.Type])
	})

	for _, c := range cs {
		snap, err := e.store.Load(context.Background(), c.id, "")
		if err != nil {
			e.t.Fatal(err)
		}
		if c.state, err = rules.DecodeState(snap.Fields); err != nil {
			e.t.Fatal(err)
		}
		for _, tm := range c.state.Timers {
			if c.timer == nil || tm.ID < c.timer.ID {
				c.timer = tm
			}
		}
		if c.timer == nil {
			e.t.Fatalf("control customer %s has no timer", c.id)
		}
	}
	return cs
}

func wantEventType(t testing.TB, evs []messages.Event, typ messages.EventType) {
	t.Helper()
	if len(ofType(evs, typ)) != 1 {
		t.Fatalf("want one %s, got %v", typ, eventTypesOf(evs))
	}
}

func eventTypesOf(evs []messages.Event) []messages.EventType {
	out := make([]messages.EventType, len(evs))
	for i, e := range evs {
		out[i] = e.Type
	}
	return out
}

// template is a command for a control customer before mutation: valid,
// or well-formed with data the rules refuse.
type template struct {
	partner string
	typ     messages.CommandType
	data    string
}

func (c *controlCustomer) templates() []template {
	sub := func(id, rest string) string { return `{"subscription_id":"` + id + `"` + rest + `}` }
	line := func(qty, term string) string {
		return `{"order_id":"O-G5-X","lines":[{"line_id":"L1","offer_id":"` + offerBasic + `","quantity":` + qty + `,"term":"` + term + `","billing_frequency":"annual"}]}`
	}
	return []template{
		{partnerA, messages.CmdSubscriptionCancel, sub(c.annual, "")},
		{partnerA, messages.CmdSubscriptionReactivate, sub(c.monthly, "")},
		{partnerA, messages.CmdQuantityChange, sub(c.annual, `,"quantity":8`)},
		{partnerA, messages.CmdQuantityChange, sub(c.annual, `,"quantity":-5`)},
		{partnerA, messages.CmdQuantityChange, sub(c.annual, `,"quantity":0`)},
		{partnerA, messages.CmdQuantityChange, sub(c.annual, `,"quantity":2147483647`)},
		{partnerA, messages.CmdSubscriptionSuspend, sub(c.annual, `,"reason":"vacation"`)},
		{partnerA, messages.CmdSubscriptionReactivate, sub(c.annual, "")},
		{partnerA, messages.CmdUpgrade, sub(c.annual, `,"target_offer_id":"NOPE:0001"`)},
		{partnerA, messages.CmdOrderPlaced, line("0", "P1Y")},
		{partnerA, messages.CmdOrderPlaced, line("3", "P5Y")},
		{partnerA, messages.CmdCustomerCreated, `{"company_name":"Contoso","segment":"commercial","country":"US","currency":"USD"}`},
		{partnerA, messages.CmdScheduleSet, sub(c.annual, `,"quantity":-1`)},
		{partnerA, messages.CmdAutoRenewSet, sub(c.annual, "")},
		{partnerA, messages.CmdTrialConvert, sub(c.annual, `,"when":"now"`)},
		{partnerA, messages.CmdReservationCancel, sub(c.annual, `,"used":true`)},
		{partnerA, messages.CmdSoftwareDownload, sub(c.annual, `,"user":"it@contoso.example","link_id":"dl-1"`)},
		{partnerA, messages.CmdTransferRequest, `{"transfer_id":"TR-1","source_partner_id":"P-B","notice_email":"a@b.example"}`},
		// The timer.fired of a partner: refused (PTN-1), and its due_at
		// must not move the clock (the control timers stay as they are).
		{partnerA, messages.CmdTimerFired, fmt.Sprintf(`{"timer_id":%q,"kind":%q,"subscription_id":%q,"due_at":%q}`,
			c.timer.ID, c.timer.Kind, c.timer.SubscriptionID, c.timer.DueAt.Format(time.RFC3339Nano))},
		{partnerB, messages.CmdSubscriptionCancel, sub(c.annual, "")},
		{partnerB, messages.CmdQuantityChange, sub(c.annual, `,"quantity":20`)},
	}
}

// Outcome kinds of a mutated command.
const (
	outcomeDeadLetter = "dead letter"
	outcomeRejected   = "command.rejected"
	outcomeBroker     = "refused by the broker"
)

type outcome struct {
	kind                string
	code                string
	customer, commandID string // outcomeRejected
}

// planned is one message to publish: a mutated command with its predicted
// outcome, or a valid command of another customer with the event it must
// produce.
type planned struct {
	msg       *nats.Msg
	publisher int
	op        string
	want      outcome
	valid     *messages.Command
	wantEvent messages.EventType
}

// planMutations builds the messages: `mutated` mutations of the control
// customers' templates, each kept only when its predicted outcome is a
// refusal, and six valid commands for each of validCustomers other
// customers, spread evenly among them.
func planMutations(t *testing.T, controls []*controlCustomer, mutated, validCustomers, publishers int) []planned {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 2026))
	used := map[string]bool{} // customer/command ID
	for _, c := range controls {
		for _, id := range c.historyID {
			used[c.id+"/"+id] = true
		}
	}
	var muts []planned
	for i := 0; len(muts) < mutated; i++ {
		c := controls[i%len(controls)]
		templates := c.templates()
		tp := templates[rng.IntN(len(templates))]
		id := fmt.Sprintf("g5-%06d", i)
		msg := nats.NewMsg(messages.CommandSubject(tp.partner, messages.RoleAdminAgent, c.id, tp.typ))
		msg.Header.Set(jetstream.MsgIDHeader, messages.CommandMsgID(c.id, id))
		msg.Data = fmt.Appendf(nil, `{"id":%q,"type":%q,"schema_version":1,"customer_id":%q,"data":%s}`, id, tp.typ, c.id, tp.data)
		op := "invalid data" // a fifth go as they are: well-formed, refused by the rules
		if rng.IntN(5) > 0 {
			op = mutate(rng, msg, c)
			if rng.IntN(4) == 0 { // some get two mutations
				op += "+" + mutate(rng, msg, c)
			}
		}
		want, ok := c.predict(msg, used)
		if !ok {
			continue // still a valid command, or one this test cannot count: draw again
		}
		muts = append(muts, planned{msg: msg, op: op, want: want, publisher: len(muts) % publishers})
	}
	// Six valid commands per other customer, all on one publisher, so
	// they are stored in order.
	var valid [][]planned
	for v := range validCustomers {
		cust := fmt.Sprintf("C-G5-V%02d", v)
		id := func(n int) string { return fmt.Sprintf("g5v-%02d-%d", v, n) }
		sub := messages.DerivedID("sub", cust, id(2), 0)
		three, five := 3, 5
		steps := []struct {
			typ  messages.CommandType
			data any
			want messages.EventType
		}{
			{messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "Fabrikam", Segment: "commercial", Country: "US", Currency: "USD"}, messages.EvtCustomerCreated},
			{messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-1", Lines: []messages.OrderLine{{LineID: "L1", OfferID: offerBasic, Quantity: &three, Term: "P1Y", BillingFrequency: "annual"}}}, messages.EvtSubscriptionCreated},
			{messages.CmdQuantityChange, &messages.QuantityChangeData{SubscriptionID: sub, Quantity: &five}, messages.EvtQuantityChanged},
			{messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: messages.ReasonNonPayment}, messages.EvtSubscriptionSuspended},
			{messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: sub}, messages.EvtSubscriptionReactivated},
			{messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}, messages.EvtSubscriptionCancelled},
		}
		var ps []planned
		for n, s := range steps {
			cmd := messages.Command{ID: id(n + 1), Type: s.typ, CustomerID: cust, Data: s.data}
			msg, err := messages.NewCommandMsg(partnerA, messages.RoleAdminAgent, cmd)
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, planned{msg: msg, publisher: v % publishers, valid: &cmd, wantEvent: s.want})
		}
		valid = append(valid, ps)
	}
	// Interleave: after every `every` mutated commands, the next valid
	// command of the next customer.
	n := validCustomers * 6
	every := max(1, len(muts)/n)
	var out []planned
	next := 0
	for i, m := range muts {
		out = append(out, m)
		if i%every == every-1 && next < n {
			out = append(out, valid[next%validCustomers][next/validCustomers])
			next++
		}
	}
	for ; next < n; next++ {
		out = append(out, valid[next%validCustomers][next/validCustomers])
	}
	return out
}

// predict is what the processor must answer to msg: the same decoding
// steps the command handler takes, and for a command that decodes, the
// rules on the control customer's state now. ok is false for a mutation
// this test does not send: one the rules would accept (the control state
// must not change), one for another customer or from the system partner,
// or one whose command ID was used before (the inbox would answer it as a
// duplicate, with no new event to count).
func (c *controlCustomer) predict(msg *nats.Msg, used map[string]bool) (outcome, bool) {
	if wireSize(msg) > bus.CommandMaxMsgBytes {
		return outcome{kind: outcomeBroker}, true // over the command stream's MaxMsgSize
	}
	rest, _ := strings.CutPrefix(msg.Subject, messages.CommandSubjectPrefix+".")
	if tokens := strings.Split(rest, "."); len(tokens) < 4 || slices.Contains(tokens, "") {
		return outcome{kind: outcomeBroker}, true // outside the command stream
	}
	route, err := messages.ParseStoredCommandSubject(messages.PartitionSubjectPrefix + ".0." + rest)
	if err != nil {
		return outcome{kind: outcomeDeadLetter, code: messages.CodeBadSubject}, true
	}
	if msg.Header.Get(messages.HeaderSimulatedTime) != "" {
		return outcome{kind: outcomeDeadLetter, code: messages.CodeClockNotAllowed}, true
	}
	cmd, err := messages.DecodeCommand(route, msg.Data)
	if de, ok := messages.AsDecodeError(err); ok {
		return outcome{kind: outcomeDeadLetter, code: de.Code}, true
	}
	key := cmd.CustomerID + "/" + cmd.ID
	if err != nil || route.PartnerID == messages.SystemPartner || cmd.CustomerID != c.id || used[key] {
		return outcome{}, false
	}
	out := rules.Decide(rules.Input{Command: cmd, PartnerID: route.PartnerID, Role: route.Role, Now: time.Now(), State: c.state, Catalog: c.e.cat})
	if out.Rejected == nil {
		return outcome{}, false
	}
	used[key] = true
	return outcome{kind: outcomeRejected, code: out.Rejected.Code, customer: c.id, commandID: cmd.ID}, true
}

// wireSize is what the server compares with a stream's MaxMsgSize: the
// body and the header block "NATS/1.0\r\n" + "Key: Value\r\n"... + "\r\n".
func wireSize(msg *nats.Msg) int {
	n := len(msg.Data)
	if len(msg.Header) > 0 {
		n += len("NATS/1.0\r\n\r\n")
		for k, vs := range msg.Header {
			for _, v := range vs {
				n += len(k) + len(": \r\n") + len(v)
			}
		}
	}
	return n
}

// rejectionWatch follows the command.rejected events of some customers
// (for every partner) and remembers any other event they get.
type rejectionWatch struct {
	mu       sync.Mutex
	rejected map[string]map[string]string // customer -> command ID -> code
	other    []string
	changed  chan struct{}
}

func (e *env) watchRejections(customers []string) *rejectionWatch {
	e.t.Helper()
	w := &rejectionWatch{rejected: map[string]map[string]string{}, changed: make(chan struct{})}
	filters := make([]string, len(customers))
	for i, c := range customers {
		filters[i] = messages.EventSubjectPrefix + ".*." + c + ".>"
	}
	cons, err := e.js.OrderedConsumer(context.Background(), bus.DefaultEventStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: filters, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		e.t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		ev, err := messages.DecodeEvent(m.Data())
		w.mu.Lock()
		defer w.mu.Unlock()
		switch {
		case err != nil:
			w.other = append(w.other, fmt.Sprintf("undecodable on %s: %v", m.Subject(), err))
		case ev.Type == messages.EvtCommandRejected:
			if w.rejected[ev.CustomerID] == nil {
				w.rejected[ev.CustomerID] = map[string]string{}
			}
			w.rejected[ev.CustomerID][ev.CommandID] = ev.Data.(*messages.CommandRejectedEvent).Code
		default:
			w.other = append(w.other, fmt.Sprintf("%s for %s %s", ev.Type, ev.CustomerID, ev.CommandID))
		}
		close(w.changed)
		w.changed = make(chan struct{})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cc.Stop)
	return w
}

// await waits until every command of want has its command.rejected with
// the code wanted, and fails on any other event of the customers and on
// any rejection not wanted.
func (w *rejectionWatch) await(t *testing.T, want map[string]map[string]string, timeout time.Duration) {
	t.Helper()
	total := 0
	for _, m := range want {
		total += len(m)
	}
	deadline := time.After(timeout)
	for {
		w.mu.Lock()
		if len(w.other) > 0 {
			w.mu.Unlock()
			t.Fatalf("control customers got events other than rejections: %v", w.other)
		}
		got := 0
		for cust, m := range w.rejected {
			for id, code := range m {
				if want[cust][id] != code {
					w.mu.Unlock()
					t.Fatalf("%s command %s rejected with %q, want %q", cust, id, code, want[cust][id])
				}
				got++
			}
		}
		ch := w.changed
		w.mu.Unlock()
		if got == total {
			return
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d of %d rejections after %v", got, total, timeout)
		}
	}
}
