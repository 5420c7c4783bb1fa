package simulator

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// A publish whose PubAck never comes (the server took the message and went
// away, a failover lost the answer) is published again after ackTimeout
// with the same Nats-Msg-Id, and stored once.
func TestStore_APubAckThatNeverComesIsPublishedAgainAndStoredOnce(t *testing.T) {
	if storeBudget >= bus.DuplicateWindow {
		t.Fatalf("storeBudget %s must end inside the duplicate window %s, or a retry could store a second copy", storeBudget, bus.DuplicateWindow)
	}
	srv := natstest.RunServer(t)
	nc, js := natstest.Connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	// No stream stores the subject yet, but a subscriber takes the
	// message: the publish finds a responder and no PubAck comes.
	taken := make(chan struct{}, 8)
	sub, err := nc.Subscribe("lostack.cmd", func(*nats.Msg) { taken <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	msg := nats.NewMsg("lostack.cmd")
	msg.Data = []byte(`{"id":"cmd-1"}`)
	msg.Header.Set(jetstream.MsgIDHeader, "C1:cmd-1")
	began := time.Now()
	stored := make(chan error, 1)
	go func() { _, err := storeOne(ctx, js, msg); stored <- err }()
	select {
	case <-taken:
	case <-ctx.Done():
		t.Fatal("the first publish never reached the subject")
	}
	// The broker is back: the next attempt is stored.
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "LOSTACK", Subjects: []string{"lostack.cmd"}, Duplicates: bus.DuplicateWindow})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-stored:
		if err != nil {
			t.Fatalf("not stored: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("storeOne still waiting for the lost PubAck")
	}
	if took := time.Since(began); took < ackTimeout {
		t.Fatalf("stored after %s, before the %s ack timeout: the first PubAck was not lost", took, ackTimeout)
	}
	// Once: the stream holds one copy, and another attempt is a duplicate.
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("the stream holds %d copies, want 1", info.State.Msgs)
	}
	ack, err := storeOne(ctx, js, msg)
	if err != nil || !ack.Duplicate {
		t.Fatalf("publishing again: %+v, %v; want a duplicate's PubAck", ack, err)
	}
}
