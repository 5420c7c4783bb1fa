package rules

import (
	"fmt"
	"regexp"

	"github.com/cspreseller/csp-processor/messages"
)

var countryPattern = regexp.MustCompile(`^[A-Z]{2}$`)

// customerCreated registers a customer under the acting partner, who
// becomes the one partner with a relationship to it (PTN-1).
func (d *decision) customerCreated(c *messages.CustomerCreatedData) {
	if d.state.Customer != nil {
		d.reject(reject(CodeCustomerExists, "PTN-1",
			fmt.Sprintf("customer %s already exists", d.in.Command.CustomerID),
			map[string]string{"customer_id": d.in.Command.CustomerID}))
		return
	}
	switch {
	case c.CompanyName == "" || len(c.CompanyName) > 200:
		d.reject(invalidField("data.company_name", "must be 1-200 characters"))
		return
	case !d.in.Catalog.Policy.KnownSegment(c.Segment):
		d.reject(invalidField("data.segment", fmt.Sprintf("%q is not one of %v (ORD-3)", c.Segment, d.in.Catalog.Policy.Segments)))
		return
	case !countryPattern.MatchString(c.Country):
		d.reject(invalidField("data.country", "must be an ISO 3166-1 alpha-2 code such as US"))
		return
	}
	if _, ok := d.in.Catalog.Currencies[c.Currency]; !ok {
		d.reject(reject(CodeUnknownCurrency, "GEN-3",
			fmt.Sprintf("currency %q is not priced in the catalog", c.Currency),
			map[string]string{"currency": c.Currency}))
		return
	}
	firstBilling, ok := d.firstBillingDate(c) // SUS-2, see legacy.go
	if !ok {
		return
	}
	if r := testClockAttachment(c.TestClockID, d.in.TestClock); r != nil { // TCK-1, TCK-2
		d.reject(r)
		return
	}
	d.state.Customer = &Customer{
		ID: d.in.Command.CustomerID, PartnerID: d.in.PartnerID, CompanyName: c.CompanyName,
		Segment: c.Segment, Country: c.Country, Currency: c.Currency, CreatedAt: d.in.Now,
		FirstBillingDate: firstBilling, TestClockID: c.TestClockID,
	}
	d.changed = append(d.changed, fieldCustomer)
	d.emit(messages.EvtCustomerCreated, &messages.CustomerCreatedEvent{
		CompanyName: c.CompanyName, Segment: c.Segment, Country: c.Country, Currency: c.Currency,
		TestClockID: c.TestClockID,
	})
}
