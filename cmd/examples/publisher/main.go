// Command publisher is a minimal upstream order system: as a partner's NATS user it creates a
// customer, places one order and prints each command's outcome. partner-P-1001 may send commands
// only as P-1001 in the admin_agent role and read only P-1001's events (deployments/nats/accounts.conf).
//
//	NATS_PASSWORD=$CSP_PARTNER_P_1001_PASSWORD go run ./cmd/examples/publisher
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

func main() {
	url := flag.String("nats", "nats://127.0.0.1:4333", "NATS URL; the password is read from NATS_PASSWORD")
	user := flag.String("user", "partner-P-1001", "NATS user")
	partner := flag.String("partner", "P-1001", "the partner the user acts as")
	customer := flag.String("customer", fmt.Sprintf("C-%d", time.Now().Unix()), "ID of the new customer")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, *url, *user, os.Getenv("NATS_PASSWORD"), *partner, *customer); err != nil {
		fmt.Fprintln(os.Stderr, "publisher:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, url, user, password, partner, customer string) error {
	// JetStream's acknowledgements come to the user's own inbox prefix, the only one it may read.
	nc, err := nats.Connect(url, nats.UserInfo(user, password), nats.CustomInboxPrefix("_INBOX."+user))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, _ := jetstream.New(nc) // fails only for bad options
	// A command's outcome is an event on csp.evt.<partner>.<customer>.<type>
	// naming its command_id. Subscribe before sending, so none is missed.
	sub, err := nc.SubscribeSync(messages.EventSubject(partner, customer, ">"))
	if err != nil {
		return err
	}

	send := func(cmd messages.Command, outcome messages.EventType) error {
		// Subject csp.cmd.<partner>.admin_agent.<customer>.<type>, header Nats-Msg-Id
		// <customer>:<command ID>: the stream drops a copy sent again (the inbox a later one).
		msg, err := messages.NewCommandMsg(partner, messages.RoleAdminAgent, cmd)
		if err != nil {
			return err
		}
		ack, err := js.PublishMsg(ctx, msg)  // returns once the stream stored it
		for err != nil && ctx.Err() == nil { // no acknowledgement: send the same message again
			fmt.Fprintf(os.Stderr, "publish %s: %v; sending it again\n", cmd.ID, err)
			time.Sleep(time.Second)
			ack, err = js.PublishMsg(ctx, msg)
		}
		if err != nil {
			return fmt.Errorf("publish %s: %w", cmd.ID, err)
		}
		fmt.Printf("-> %s (Nats-Msg-Id %s) stored as command #%d\n", msg.Subject, msg.Header.Get(jetstream.MsgIDHeader), ack.Sequence)
		for {
			m, err := sub.NextMsgWithContext(ctx)
			if err != nil {
				return fmt.Errorf("no outcome of %s: %w", cmd.ID, err)
			}
			ev, err := messages.DecodeEvent(m.Data) // tolerant: a newer processor may add fields
			if err != nil || ev.CommandID != cmd.ID {
				continue
			}
			data, _ := json.Marshal(ev.Data)
			fmt.Printf("   %s %s\n", ev.Type, data)
			if r, ok := ev.Data.(*messages.CommandRejectedEvent); ok {
				return fmt.Errorf("%s rejected: %s: %s", cmd.ID, r.Code, r.Description)
			}
			if o, ok := ev.Data.(*messages.OrderProcessedEvent); ok && o.Status != messages.OrderCompleted {
				return fmt.Errorf("order %s %s", o.OrderID, o.Status) // each line's reason is printed above
			}
			if ev.Type == outcome {
				return nil
			}
		}
	}
	if err := send(messages.Command{ID: "create-1", Type: messages.CmdCustomerCreated, CustomerID: customer, Data: &messages.CustomerCreatedData{
		CompanyName: "Contoso Ltd", Segment: "commercial", Country: "US", Currency: "USD"}}, messages.EvtCustomerCreated); err != nil {
		return err
	}
	licenses := 10
	return send(messages.Command{ID: "order-1", Type: messages.CmdOrderPlaced, CustomerID: customer, Data: &messages.OrderPlacedData{
		OrderID: "O-" + customer, Lines: []messages.OrderLine{{LineID: "L1", OfferID: "CFQ7TTC0LH18:0001", // Microsoft 365 Business Basic
			Quantity: &licenses, Term: "P1Y", BillingFrequency: "annual"}}}}, messages.EvtOrderProcessed)
}
