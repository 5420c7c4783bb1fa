// Command billing is a minimal billing system: it reads every partner's charges and credits through
// its durable pull consumer on the events stream, prints each in minor units and acks it once booked.
// The user billing (deployments/nats/accounts.conf) may have exactly one consumer, named billing, and
// read events only through it. Stopped and started again, it goes on after the last event it acked.
//
//	NATS_PASSWORD=$CSP_BILLING_PASSWORD go run ./cmd/examples/billing
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

func main() {
	url := flag.String("nats", "nats://127.0.0.1:4333", "NATS URL; the password is read from NATS_PASSWORD")
	user := flag.String("user", "billing", "NATS user, also the consumer's name")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *url, *user, os.Getenv("NATS_PASSWORD")); err != nil {
		fmt.Fprintln(os.Stderr, "billing:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, user, password string) error {
	// Pulled messages come to the user's own inbox prefix, the only one it may read.
	nc, err := nats.Connect(url, nats.UserInfo(user, password), nats.CustomInboxPrefix("_INBOX."+user))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc) // fails only for bad options
	// Events are stored under csp.evt.<partner>.<customer>.<type>: the filter keeps
	// billing.charge and billing.credit. The consumer is kept by the server with the
	// position of every ack, so events published while this program is down wait for it.
	cons, err := js.CreateOrUpdateConsumer(ctx, "CSP_EVENTS", jetstream.ConsumerConfig{
		Durable:       user,
		FilterSubject: "csp.evt.*.*.billing.>",
		AckPolicy:     jetstream.AckExplicitPolicy,
	})
	if err != nil {
		return fmt.Errorf("consumer %s on CSP_EVENTS (has the processor started once?): %w", user, err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); msgs.Stop() }()
	fmt.Printf("consumer %s: waiting for charges and credits\n", user)
	for {
		msg, err := msgs.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil // stopped (Ctrl-C): what was not acked is delivered again next time
		}
		if err != nil {
			return err
		}
		// Tolerant: fields a newer processor adds are ignored. An event this version cannot
		// read stops the consumer unacked, to be booked by an upgraded one: never skip money.
		ev, err := messages.DecodeEvent(msg.Data())
		if err != nil {
			return fmt.Errorf("event %s: %w", msg.Headers().Get(jetstream.MsgIDHeader), err)
		}
		b, ok := ev.Data.(*messages.BillingEvent)
		if !ok {
			return fmt.Errorf("event %s: %s is not a billing event", ev.ID, ev.Type)
		}
		// A real ledger books the event under its ID once: after a crash between booking and
		// acking, the server delivers the event again with the same ID.
		fmt.Printf("%s partner=%s customer=%s subscription=%s amount_minor=%d currency=%s quantity=%d offer=%s period=%s..%s rule=%s event=%s\n",
			ev.Type, ev.PartnerID, ev.CustomerID, b.SubscriptionID, b.AmountMinor, b.Currency, b.Quantity, b.OfferID, b.PeriodStart, b.PeriodEnd, b.Rule, ev.ID)
		// DoubleAck waits for the server to confirm the ack, so a booked event is not
		// delivered again unless the confirmation was lost.
		if err := msg.DoubleAck(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("ack %s: %w", ev.ID, err)
		}
	}
}
