package bus_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
)

func natsMsg(subject, data string, headers map[string]string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(data)
	for k, v := range headers {
		m.Header.Set(k, v)
	}
	return m
}

func newPublisher(t testing.TB, js jetstream.JetStream, timeout time.Duration) *bus.Publisher {
	t.Helper()
	p, err := bus.NewPublisher(js, bus.PublisherConfig{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func streamMsgs(t testing.TB, js jetstream.JetStream, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := ctxT(t)
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// 200 events published from 16 goroutines at once, two per Publish call:
// all of them stored, each with its subject, ID and headers.
func TestPublisherConcurrentPublishesAllStored(t *testing.T) {
	e := newEnv(t, 4)
	pub := newPublisher(t, e.js, 0)
	const goroutines, total = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []*message.Message // events g, g+16, g+32, ...
			for i := g; i < total; i += goroutines {
				m := message.NewMessage(fmt.Sprintf("evt-%d", i), []byte(fmt.Sprintf(`{"i":%d}`, i)))
				m.Metadata.Set(bus.MetaSubject, fmt.Sprintf("csp.evt.P%d.C%d.subscription.created", g, i))
				m.Metadata.Set("Trace-Id", fmt.Sprintf("t%d", i))
				mine = append(mine, m)
			}
			for len(mine) > 0 {
				batch := mine[:min(2, len(mine))]
				mine = mine[len(batch):]
				if err := pub.Publish("ignored.topic", batch...); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	stored := streamMsgs(t, e.js, "CSP_EVENTS")
	if len(stored) != total {
		t.Fatalf("%d stored, %d published", len(stored), total)
	}
	seen := map[string]bool{}
	for _, m := range stored {
		id := m.Header.Get("Nats-Msg-Id")
		var i int
		if _, err := fmt.Sscanf(id, "evt-%d", &i); err != nil {
			t.Fatalf("Nats-Msg-Id %q", id)
		}
		seen[id] = true
		if m.Subject != fmt.Sprintf("csp.evt.P%d.C%d.subscription.created", i%goroutines, i) ||
			string(m.Data) != fmt.Sprintf(`{"i":%d}`, i) ||
			m.Header.Get("Trace-Id") != fmt.Sprintf("t%d", i) || m.Header.Get(bus.MetaSubject) != "" {
			t.Errorf("stored %s %q %v", m.Subject, m.Data, m.Header)
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct IDs", len(seen))
	}
}

// 64 goroutines publishing at once: no caller waits behind another's acks,
// every message is stored.
func TestPublisherManyConcurrentCallers(t *testing.T) {
	e := newEnv(t, 4)
	pub := newPublisher(t, e.js, 0)
	const goroutines = 64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				m := message.NewMessage(fmt.Sprintf("e-%d-%d", g, i), []byte("{}"))
				if err := pub.Publish(fmt.Sprintf("csp.evt.P1.C%d.billing.charge", g), m); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatal(errors.Join(failures...))
	}
	if n := len(streamMsgs(t, e.js, "CSP_EVENTS")); n != goroutines*10 {
		t.Errorf("%d stored", n)
	}
}

func TestPublisherDeduplicatesByUUID(t *testing.T) {
	e := newEnv(t, 4)
	pub := newPublisher(t, e.js, 0)
	for i := 0; i < 3; i++ {
		m := message.NewMessage("evt-same", []byte(fmt.Sprintf("attempt %d", i)))
		if err := pub.Publish("csp.evt.P1.C1.subscription.created", m); err != nil {
			t.Fatal(err)
		}
	}
	stored := streamMsgs(t, e.js, "CSP_EVENTS")
	if len(stored) != 1 || string(stored[0].Data) != "attempt 0" {
		t.Fatalf("stored %d messages", len(stored))
	}
}

func TestPublisherErrorsNameTheMessage(t *testing.T) {
	e := newEnv(t, 4)
	pub := newPublisher(t, e.js, 5*time.Second)

	// No stream captures the subject.
	ok := message.NewMessage("evt-ok", []byte("{}"))
	lost := message.NewMessage("evt-lost", []byte("{}"))
	lost.Metadata.Set(bus.MetaSubject, "csp.nowhere.x")
	err := pub.Publish("csp.evt.P1.C1.subscription.created", ok, lost)
	if err == nil || !strings.Contains(err.Error(), "evt-lost") || strings.Contains(err.Error(), "evt-ok") {
		t.Fatalf("err = %v", err)
	}

	// Invalid messages are refused before anything is sent.
	for _, m := range []*message.Message{
		message.NewMessage("", []byte("{}")),
		withMeta(message.NewMessage("bad-subject", nil), bus.MetaSubject, "csp.evt.*"),
		withMeta(message.NewMessage("bad-header", nil), "Bad Key", "x"),
		withMeta(message.NewMessage("bad-value", nil), "Key", "a\r\nb"),
	} {
		first := message.NewMessage("evt-first-"+m.UUID, []byte("{}"))
		if err := pub.Publish("csp.evt.P1.C1.subscription.created", first, m); err == nil {
			t.Errorf("message %q with %v accepted", m.UUID, m.Metadata)
		}
	}
	if n := len(streamMsgs(t, e.js, "CSP_EVENTS")); n != 1 {
		t.Errorf("%d events stored, want only evt-ok", n)
	}

	// Nats-* metadata does not leak into the published headers.
	m := withMeta(message.NewMessage("evt-2", []byte("{}")), "Nats-Expected-Last-Sequence", "999")
	if err := pub.Publish("csp.evt.P1.C1.subscription.created", m); err != nil {
		t.Fatalf("Nats-* metadata: %v", err)
	}

	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish("csp.evt.P1.C1.x", message.NewMessage("late", nil)); !errors.Is(err, bus.ErrPublisherClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func withMeta(m *message.Message, k, v string) *message.Message {
	m.Metadata.Set(k, v)
	return m
}

// A command that cannot be processed is parked on csp.dlq.<code> with its
// origin; dead-lettering it again (a redelivery) stores it once.
func TestDeadLetter(t *testing.T) {
	e := newEnv(t, 2)
	seq := e.publishCommand(t, "P1", "C1", "order.placed", `{not json`)
	sub := e.subscriber(t, e.js, bus.SubscriberConfig{})
	ch, err := sub.Subscribe(ctxT(t), "commands")
	if err != nil {
		t.Fatal(err)
	}
	cmd := receive(t, ch, 10*time.Second)
	pub := newPublisher(t, e.js, 0)
	for i := 0; i < 2; i++ {
		dl, err := bus.NewDeadLetter(cmd, "decode", "invalid JSON:\nline 1")
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish("", dl); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Ack()
	stored := streamMsgs(t, e.js, "CSP_DEADLETTER")
	if len(stored) != 1 {
		t.Fatalf("%d dead letters", len(stored))
	}
	d := stored[0]
	want := map[string]string{
		"Nats-Msg-Id":            fmt.Sprintf("CSP_COMMANDS:%d", seq),
		bus.MetaDeadLetterCode:   "decode",
		bus.MetaDeadLetterReason: "invalid JSON: line 1",
		bus.MetaOriginalSubject:  cmd.Metadata.Get(bus.MetaSubject),
		bus.MetaStreamSeq:        fmt.Sprint(seq),
		bus.MetaTimestamp:        cmd.Metadata.Get(bus.MetaTimestamp),
	}
	if d.Subject != "csp.dlq.decode" || string(d.Data) != `{not json` {
		t.Errorf("dead letter %s %q", d.Subject, d.Data)
	}
	for k, v := range want {
		if got := d.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if _, err := bus.NewDeadLetter(cmd, "bad.code", ""); err == nil {
		t.Error("code with a dot accepted")
	}
}

// A PubAck that never comes (the subject's taker is not a stream: as a
// stream leader that died with the message) fails Publish once Timeout
// has passed, naming the message, instead of waiting for ever; in between
// the message was published again with its Nats-Msg-Id.
func TestPublisherTimeoutBoundsALostPubAck(t *testing.T) {
	e := newEnv(t, 2)
	taken := make(chan struct{}, 16)
	sub, err := e.nc.Subscribe("csp.lostack.x", func(*nats.Msg) { taken <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	const timeout = bus.DefaultPubAckTimeout + time.Second
	pub := newPublisher(t, e.js, timeout)
	m := withMeta(message.NewMessage("evt-lost-ack", []byte("{}")), bus.MetaSubject, "csp.lostack.x")
	began := time.Now()
	err = pub.Publish("csp.evt.P1.C1.x", m)
	took := time.Since(began)
	if err == nil || !strings.Contains(err.Error(), "evt-lost-ack") || !errors.Is(err, bus.ErrNoPubAck) {
		t.Fatalf("err = %v, want a lost PubAck naming evt-lost-ack", err)
	}
	if took < timeout || took > timeout+5*time.Second {
		t.Fatalf("Publish returned after %v, want just after its timeout %v", took, timeout)
	}
	if n := len(taken); n < 2 {
		t.Fatalf("the message was published %d times; want it published again after the ack timeout", n)
	}
}
