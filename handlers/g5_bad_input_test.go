package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
)

type deadLetter struct {
	code, reason, origSubject, attempts string
	bodySize, bodySHA256                string // set when only a prefix of the body was kept
	data                                []byte
}

// deadLetters follows the dead-letter stream, keyed by the original
// command's stream sequence.
type deadLetters struct {
	mu      sync.Mutex
	bySeq   map[uint64]deadLetter
	changed chan struct{}
}

func (e *env) watchDeadLetters() *deadLetters {
	e.t.Helper()
	d := &deadLetters{bySeq: map[uint64]deadLetter{}, changed: make(chan struct{})}
	cons, err := e.js.OrderedConsumer(context.Background(), bus.DefaultDeadLetterStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		e.t.Fatal(err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		seq, _ := strconv.ParseUint(m.Headers().Get(bus.MetaStreamSeq), 10, 64)
		d.mu.Lock()
		d.bySeq[seq] = deadLetter{code: m.Headers().Get(bus.MetaDeadLetterCode), reason: m.Headers().Get(bus.MetaDeadLetterReason),
			origSubject: m.Headers().Get(bus.MetaOriginalSubject), attempts: m.Headers().Get(bus.MetaDeadLetterAttempts), data: m.Data(),
			bodySize: m.Headers().Get(bus.MetaDeadLetterBodySize), bodySHA256: m.Headers().Get(bus.MetaDeadLetterBodySHA256)}
		close(d.changed)
		d.changed = make(chan struct{})
		d.mu.Unlock()
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(cc.Stop)
	return d
}

func (d *deadLetters) await(t *testing.T, seq uint64) deadLetter {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		d.mu.Lock()
		got, ok := d.bySeq[seq]
		ch, n := d.changed, len(d.bySeq)
		d.mu.Unlock()
		if ok {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("no dead letter for stream sequence %d (%d dead letters so far)", seq, n)
		}
	}
}

// G5: malformed, oversize, unknown-type, unknown-field and wrong-tenant
// input is refused with a reason, changes nothing, and the processor keeps
// processing the commands after it.
func TestG5_BadInputChangesNothingAndProcessingGoesOn(t *testing.T) {
	e := newEnv(t)
	e.startProcessor()
	dl := e.watchDeadLetters()
	const cust = "C-G5"
	e.createCustomer(partnerA, cust)
	sub := e.buy(partnerA, cust, 5)
	before := e.stateOf(cust)

	valid := `{"id":"bad-1","type":"subscription.cancel","schema_version":1,"customer_id":"C-G5","data":{"subscription_id":"` + sub + `"}}`
	subject := messages.CommandSubject(partnerA, messages.RoleAdminAgent, cust, messages.CmdSubscriptionCancel)
	for _, tc := range []struct {
		name, subject, body, code string
	}{
		{"not JSON", subject, `{"id":`, messages.CodeMalformed},
		{"unknown field", subject, strings.Replace(valid, `"id"`, `"refund":999999,"id"`, 1), messages.CodeMalformed},
		{"duplicate key", subject, strings.Replace(valid, `"id":"bad-1"`, `"id":"bad-1","id":"bad-2"`, 1), messages.CodeMalformed},
		{"key in another case", subject, strings.Replace(valid, `"customer_id"`, `"Customer_ID"`, 1), messages.CodeMalformed},
		{"trailing data", subject, valid + ` {"id":"x"}`, messages.CodeMalformed},
		{"wrong type", subject, strings.Replace(valid, `"schema_version":1`, `"schema_version":true`, 1), messages.CodeMalformed},
		{"oversize", subject, strings.Replace(valid, `"id"`, `"pad":"`+strings.Repeat("x", messages.MaxCommandBytes)+`","id"`, 1), messages.CodeOversize},
		{"unknown type", messages.CommandSubject(partnerA, messages.RoleAdminAgent, cust, "subscription.delete"),
			strings.Replace(valid, "subscription.cancel", "subscription.delete", 1), messages.CodeUnknownType},
		{"body names another customer", messages.CommandSubject(partnerA, messages.RoleAdminAgent, "C-OTHER", messages.CmdSubscriptionCancel), valid, messages.CodeSubjectMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ack, err := e.js.PublishMsg(context.Background(), &nats.Msg{Subject: tc.subject, Data: []byte(tc.body)})
			if err != nil {
				t.Fatal(err)
			}
			got := dl.await(t, ack.Sequence)
			if got.code != tc.code || got.reason == "" {
				t.Fatalf("dead letter %q (%s), want code %s", got.code, got.reason, tc.code)
			}
			if len(tc.body) <= messages.MaxCommandBytes {
				if string(got.data) != tc.body || got.bodySize != "" || got.bodySHA256 != "" {
					t.Fatalf("dead letter of a %d-byte body: %d bytes, size %q, hash %q; want the original body", len(tc.body), len(got.data), got.bodySize, got.bodySHA256)
				}
				return
			}
			// Oversize: the prefix, the original size and its SHA-256.
			sum := sha256.Sum256([]byte(tc.body))
			if string(got.data) != tc.body[:bus.DeadLetterBodyPrefix] || got.bodySize != strconv.Itoa(len(tc.body)) ||
				got.bodySHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("oversize dead letter: %d bytes, size %q, hash %q; want the first %d bytes, size %d, hash %x",
					len(got.data), got.bodySize, got.bodySHA256, bus.DeadLetterBodyPrefix, len(tc.body), sum)
			}
		})
	}

	// Wrong tenant: partner B may not touch partner A's customer. The
	// answer goes to partner B only, and says no more than that.
	foreign := e.send(partnerB, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub})
	evs := e.await(foreign)
	rej, ok := evs[0].Data.(*messages.CommandRejectedEvent)
	if !ok || rej.Code != "no_relationship" || rej.Rule != "PTN-1" || evs[0].PartnerID != partnerB {
		t.Fatalf("foreign cancel: %+v", evs[0])
	}

	if after := e.stateOf(cust); !equalMaps(before, after) {
		t.Fatalf("bad input changed state:\nbefore %v\nafter  %v", before, after)
	}
	// Still processing: a valid command after all of it is applied.
	evs = e.await(e.send(partnerA, cust, messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: "fraud"}))
	if evs[0].Type != messages.EvtSubscriptionSuspended {
		t.Fatalf("valid command after bad input: %+v", evs[0].Data)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
