package simulator

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// DemoOffer is the offer the demo buys.
const DemoOffer = "Microsoft 365 Business Basic"

// RunDemo plays one customer's short life against a running processor:
// create the customer, buy 10 annual licenses, suspend, reactivate and
// cancel inside the 168-hour window, printing every event as it arrives,
// the cancellation's credit included. It returns once the credit arrived.
func RunDemo(ctx context.Context, js jetstream.JetStream, eventStream string, cat *catalog.Catalog, out io.Writer) error {
	offer := findOffer(cat, DemoOffer)
	if offer == nil {
		return fmt.Errorf("demo: the catalog has no %q", DemoOffer)
	}
	partner := "P-DEMO"
	customer := fmt.Sprintf("C-DEMO-%d", time.Now().UnixNano())
	w, err := WatchEvents(ctx, js, eventStream, messages.EventSubject(partner, customer, ">"))
	if err != nil {
		return err
	}
	defer w.Stop()
	up := &Upstream{JS: js}
	printed, steps := 0, 0
	step := func(typ messages.CommandType, data any, until messages.EventType) (messages.Event, error) {
		steps++
		cmd := messages.Command{ID: fmt.Sprintf("demo-%d", steps), Type: typ, CustomerID: customer, Data: data}
		fmt.Fprintf(out, "\n-> %s %s\n", typ, cmd.ID)
		if _, err := up.Send(ctx, partner, cmd); err != nil {
			return messages.Event{}, err
		}
		var last messages.Event
		err := w.WaitFor(ctx, func(evs []messages.Event) bool {
			for ; printed < len(evs); printed++ {
				fmt.Fprintln(out, "   "+describe(evs[printed], cat))
			}
			for _, e := range evs {
				if e.CommandID == cmd.ID && (e.Type == until || e.Type == messages.EvtCommandRejected) {
					last = e
					return true
				}
			}
			return false
		})
		if err == nil && last.Type == messages.EvtCommandRejected {
			err = fmt.Errorf("demo: %s was rejected", typ)
		}
		return last, err
	}

	fmt.Fprintf(out, "Demo: partner %s, customer %s, offer %s (%s)\n", partner, customer, offer.Name, offer.ID)
	if _, err := step(messages.CmdCustomerCreated, &messages.CustomerCreatedData{CompanyName: "Contoso Ltd", Segment: "commercial", Country: "US", Currency: "USD"}, messages.EvtCustomerCreated); err != nil {
		return err
	}
	qty := 10
	ev, err := step(messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-DEMO-1", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offer.ID, Quantity: &qty, Term: "P1Y", BillingFrequency: "annual"}}}, messages.EvtOrderProcessed)
	if err != nil {
		return err
	}
	order := ev.Data.(*messages.OrderProcessedEvent)
	if order.Status != messages.OrderCompleted {
		return fmt.Errorf("demo: order %s", order.Status)
	}
	sub := order.Lines[0].SubscriptionID
	if _, err := step(messages.CmdSubscriptionSuspend, &messages.SuspendData{SubscriptionID: sub, Reason: messages.ReasonNonPayment}, messages.EvtSubscriptionSuspended); err != nil {
		return err
	}
	if _, err := step(messages.CmdSubscriptionReactivate, &messages.ReactivateData{SubscriptionID: sub}, messages.EvtSubscriptionReactivated); err != nil {
		return err
	}
	if _, err := step(messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}, messages.EvtSubscriptionCancelled); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nDemo done: one charge at purchase, one prorated credit at cancellation.")
	return nil
}

func findOffer(cat *catalog.Catalog, name string) *catalog.Offer {
	for i := range cat.Offers {
		if cat.Offers[i].Name == name {
			return &cat.Offers[i]
		}
	}
	return nil
}

// describe renders an event on one line for people.
func describe(e messages.Event, cat *catalog.Catalog) string {
	head := fmt.Sprintf("%s  %-30s", e.OccurredAt.Format("2006-01-02T15:04:05.000Z"), e.Type)
	switch d := e.Data.(type) {
	case *messages.BillingEvent:
		s := fmt.Sprintf("%s %s for %d x %s, period %s..%s", head, Money(cat, d.Currency, d.AmountMinor), d.Quantity, d.OfferID, d.PeriodStart, d.PeriodEnd)
		if p := d.Proration; p != nil {
			s += fmt.Sprintf(" (%s x %d unused / %d days, %d used)", Money(cat, d.Currency, p.BaseMinor), p.UnusedDays, p.PeriodDays, p.UsedDays)
		}
		return s + " [" + d.Rule + "]"
	case *messages.SubscriptionCreatedEvent:
		return fmt.Sprintf("%s %s: %d x %s, term %s..%s, cancellable until %s", head, d.SubscriptionID, d.Quantity, d.OfferName, d.TermStart, d.TermEnd, d.CancellableUntil.Format(time.RFC3339))
	case *messages.SubscriptionSuspendedEvent:
		return fmt.Sprintf("%s %s: reason %s, auto-renew turned off %v, billing continues %v", head, d.SubscriptionID, d.Reason, d.AutoRenewTurnedOff, d.BillingContinues)
	case *messages.SubscriptionReactivatedEvent:
		return fmt.Sprintf("%s %s: auto-renew %v. %s", head, d.SubscriptionID, d.AutoRenew, d.Reminder)
	case *messages.SubscriptionCancelledEvent:
		return fmt.Sprintf("%s %s: credit %s", head, d.SubscriptionID, Money(cat, d.Currency, d.CreditMinor))
	case *messages.CustomerCreatedEvent:
		return fmt.Sprintf("%s %s (%s, %s, %s) for partner %s", head, d.CompanyName, d.Segment, d.Country, d.Currency, e.PartnerID)
	case *messages.OrderProcessedEvent:
		return fmt.Sprintf("%s order %s %s", head, d.OrderID, d.Status)
	case *messages.CommandRejectedEvent:
		return fmt.Sprintf("%s %s [%s]: %s", head, d.Code, d.Rule, d.Description)
	}
	return head
}

// Money formats minor units for people, using the catalog's exponent.
func Money(cat *catalog.Catalog, currency string, minor int64) string {
	exp := report.CurrencyExponent(currency)
	if c, ok := cat.Currencies[currency]; ok {
		exp = c.Exponent
	}
	return report.FormatMoneyExp(currency, minor, exp)
}
