package handlers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages"
)

// awaitMetrics scrapes until every series of want has its value, or fails
// after 20 s with the values it last saw.
func awaitMetrics(t *testing.T, addr string, want map[string]float64) map[string]float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var m map[string]float64
	err := waitFor(ctx, func() bool {
		m = scrape(t, addr)
		for k, v := range want {
			if got, ok := m[k]; !ok || got != v {
				return false
			}
		}
		return true
	})
	if err != nil {
		var diff []string
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if got, ok := m[k]; !ok || got != want[k] {
				diff = append(diff, fmt.Sprintf("%s = %v (present %v), want %v", k, got, ok, want[k]))
			}
		}
		t.Fatalf("metrics did not reach their values within 20s:\n%s", strings.Join(diff, "\n"))
	}
	return m
}

// withPrefix lists the series whose key starts with prefix.
func withPrefix(m map[string]float64, prefix string) []string {
	var out []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// The ops server's /metrics counts what the handler did with each command,
// exactly: outcomes by command type, the rejection's code and rule, dead
// letters by code, the billing charge's count and amount in its currency,
// the one retry in place a failed publish caused, and Watermill's own
// handler metrics; the outbox, timer-lag and per-partition gauges are
// there and sane.
func TestOpsMetricsCountOutcomesRejectionsDeadLettersAndMoney(t *testing.T) {
	e := newEnv(t)
	var failures atomic.Int32
	failures.Store(1) // the first publish fails: the command is retried in place once
	p, _ := e.runProcessor(func(c *Config) { c.OpsAddr = "127.0.0.1:0"; c.wrapPublisher = failFirst(&failures) })
	dl := e.watchDeadLetters()

	const cust = "C-OPSM"
	e.createCustomer(partnerA, cust) // accepted, after one failed publish
	if failures.Load() >= 0 {
		t.Fatal("the publisher never failed: no retry was exercised")
	}
	qty := 3
	order := e.send(partnerA, cust, messages.CmdOrderPlaced, &messages.OrderPlacedData{OrderID: "O-OPSM", Lines: []messages.OrderLine{
		{LineID: "L1", OfferID: offerBasic, Quantity: &qty, Term: "P1Y", BillingFrequency: "monthly"}}})
	evs := e.await(order)
	charges := ofType(evs, messages.EvtBillingCharge)
	if len(charges) != 1 {
		t.Fatalf("order: %d billing.charge events, want 1: %v", len(charges), types(evs))
	}
	charge := charges[0].Data.(*messages.BillingEvent)
	if charge.AmountMinor <= 0 {
		t.Fatalf("charge of %d %s", charge.AmountMinor, charge.Currency)
	}
	sub := ofType(evs, messages.EvtSubscriptionCreated)[0].Data.(*messages.SubscriptionCreatedEvent).SubscriptionID

	// Rejected: partner B has no relationship with partner A's customer.
	rej := e.await(e.send(partnerB, cust, messages.CmdSubscriptionCancel, &messages.CancelData{SubscriptionID: sub}))
	if r, ok := rej[0].Data.(*messages.CommandRejectedEvent); !ok || r.Code != "no_relationship" || r.Rule != "PTN-1" {
		t.Fatalf("foreign cancel: %+v", rej[0].Data)
	}

	// The order sent again under another Nats-Msg-Id: a duplicate.
	again, err := messages.NewCommandMsg(partnerA, messages.RoleAdminAgent, order)
	if err != nil {
		t.Fatal(err)
	}
	again.Header.Set(jetstream.MsgIDHeader, "resent-"+order.ID)
	if _, err := e.js.PublishMsg(context.Background(), again); err != nil {
		t.Fatal(err)
	}

	// Dead-lettered: a body that is not JSON, and an unknown type.
	subject := messages.CommandSubject(partnerA, messages.RoleAdminAgent, cust, messages.CmdSubscriptionCancel)
	for _, m := range []*nats.Msg{{Subject: subject, Data: []byte(`{"id":`)},
		{Subject: messages.CommandSubject(partnerA, messages.RoleAdminAgent, cust, "subscription.delete"),
			Data: []byte(`{"id":"del-1","type":"subscription.delete","schema_version":1,"customer_id":"` + cust + `","data":{}}`)}} {
		ack, err := e.js.PublishMsg(context.Background(), m)
		if err != nil {
			t.Fatal(err)
		}
		if got := dl.await(t, ack.Sequence); got.code != messages.CodeMalformed && got.code != messages.CodeUnknownType {
			t.Fatalf("dead letter of %s: code %q (%s)", m.Subject, got.code, got.reason)
		}
	}

	cur := charge.Currency
	m := awaitMetrics(t, p.OpsAddr(), map[string]float64{
		"csp_command_outcomes_total{outcome=accepted}{type=customer.created}":         1,
		"csp_command_outcomes_total{outcome=accepted}{type=order.placed}":             1,
		"csp_command_outcomes_total{outcome=duplicate}{type=order.placed}":            1,
		"csp_command_outcomes_total{outcome=rejected}{type=subscription.cancel}":      1,
		"csp_command_outcomes_total{outcome=dead_lettered}{type=subscription.cancel}": 1,
		"csp_command_outcomes_total{outcome=dead_lettered}{type=unknown}":             1,
		"csp_command_rejections_total{code=no_relationship}{rule=PTN-1}":              1,
		"csp_dead_letters_total{code=malformed}":                                      1,
		"csp_dead_letters_total{code=unknown_type}":                                   1,
		"csp_billing_events_total{currency=" + cur + "}{kind=charge}":                 1,
		"csp_billing_amount_minor_total{currency=" + cur + "}{kind=charge}":           float64(charge.AmountMinor),
		"csp_commits_total{status=committed}":                                         3,
		"csp_commits_total{status=version_conflict}":                                  0,
		"csp_outbox_backlog_entries":                                                  0,
		"csp_timer_lag_seconds":                                                       0, // no timer is due yet
		// Watermill's router metrics on the same registry: the handler ran
		// once per delivery (6 commands, one of them twice), one failed.
		"csp_watermill_handler_execution_time_seconds{handler_name=commands}{success=true}":  6,
		"csp_watermill_handler_execution_time_seconds{handler_name=commands}{success=false}": 1,
	})
	// Nothing else was counted: one series per outcome above.
	if got := withPrefix(m, "csp_command_outcomes_total"); len(got) != 6 {
		t.Errorf("outcome series %v, want the 6 above", got)
	}
	if got := withPrefix(m, "csp_billing_events_total"); len(got) != 1 {
		t.Errorf("billing series %v, want the charge only", got)
	}

	// One retry in place, on one partition; every partition this replica
	// consumes has its gauge, none with a command stuck in flight.
	var redeliveries float64
	for _, k := range withPrefix(m, "csp_partition_redeliveries_total") {
		redeliveries += m[k]
	}
	if redeliveries != 1 {
		t.Errorf("redeliveries summed over partitions = %v, want 1", redeliveries)
	}
	for _, part := range p.Partitions() {
		k := fmt.Sprintf("csp_partition_oldest_unacked_age_seconds{partition=%d}", part)
		if v, ok := m[k]; !ok || v < 0 || v > 60 {
			t.Errorf("%s = %v (present %v), want a present, sane age", k, v, ok)
		}
	}
	if v, ok := m["csp_outbox_oldest_entry_age_seconds"]; !ok || v != 0 {
		t.Errorf("csp_outbox_oldest_entry_age_seconds = %v (present %v), want 0: the relay left nothing", v, ok)
	}
	if v, ok := m["csp_outbox_last_sweep_timestamp_seconds"]; !ok || v <= 0 || v > float64(time.Now().Unix()+1) {
		t.Errorf("csp_outbox_last_sweep_timestamp_seconds = %v (present %v), want the relay's start-up sweep", v, ok)
	}

}
