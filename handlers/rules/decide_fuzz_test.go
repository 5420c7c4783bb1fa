package rules

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/fuzzcorpus"
)

// updateFuzzCorpus regenerates the checked-in seed corpus:
//
//	go test -run TestWriteFuzzCorpus ./handlers/rules -update-fuzz-corpus
var updateFuzzCorpus = flag.Bool("update-fuzz-corpus", false, "rewrite testdata/fuzz from the fuzz world's valid commands")

// fuzzWorld is the customer every fuzzed command is decided on: a
// realistic history of valid commands (purchases of each billing kind, a
// quantity change, a suspension, a scheduled change, a cancellation).
// Fuzzed commands take effect from `from` on, up to 45 days later: past
// cancellation windows, monthly billing periods and a monthly term's
// renewal, which Decide fires before the command.
type fuzzWorld struct {
	*world
	annual, monthly, std, azure, cancelled string
	from                                   time.Time
}

func newFuzzWorld(t testing.TB) *fuzzWorld {
	w := &fuzzWorld{world: newWorld(t)}
	w.createCustomer("commercial", "USD")
	w.annual = w.buy(t0, offerBasic, "P1Y", "annual", 10)
	w.monthly = w.buy(t0, offerBasic, "P1Y", "monthly", 5)
	w.std = w.buy(t0, offerStd, "P1M", "monthly", 3)
	w.azure = w.buy(t0, offerAzure, "P1M", "monthly", 0)
	w.cancelled = w.buy(t0.Add(time.Hour), offerBasic, "P1M", "monthly", 2)
	for _, step := range []struct {
		at   time.Duration
		typ  messages.CommandType
		data any
	}{
		{2 * time.Hour, messages.CmdQuantityChange, qtyOf(w.annual, 12)},
		{3 * time.Hour, messages.CmdSubscriptionSuspend, suspendOf(w.monthly, messages.ReasonCustomerRequest)},
		{4 * time.Hour, messages.CmdScheduleSet, scheduleOf(w.std, "", 4, "", "")},
		{5 * time.Hour, messages.CmdAutoRenewSet, autoRenewOf(w.annual, false)},
		{6 * time.Hour, messages.CmdSubscriptionCancel, cancelOf(w.cancelled)},
	} {
		wantAccepted(t, w.do(partnerA, t0.Add(step.at), step.typ, step.data))
	}
	w.from = t0.Add(7 * time.Hour)
	return w
}

// fuzzPartners and fuzzRoles are what the partner and role selectors of
// FuzzDecide pick from: the customer's partner, a stranger, the system.
var fuzzPartners = []string{partnerA, partnerB, messages.SystemPartner}

func fuzzRole(i uint8) messages.Role {
	roles := append([]messages.Role{""}, messages.Roles()...)
	return roles[int(i)%len(roles)]
}

// fuzzCommandID is the ID of every fuzzed command.
const fuzzCommandID = "cmd-fuzz"

// FuzzDecide decides an arbitrary command (any type, any data the codec
// accepts, any partner and role, at any minute of the 45 days after the
// world's history) on the fuzz world's state, and checks what every
// decision must keep:
//   - Decide never panics and never mutates the state it is given;
//   - a rejection names its code, rule and reason, and changes nothing
//     itself (G5): its outcome is exactly what the timers due by then do
//     alone (timersOnly) plus one command.rejected, so no billing event of
//     its own;
//   - a timer.fired that is ignored changes nothing and emits nothing;
//   - every billing event (of the command or of a timer it fired first)
//     is in the customer's currency with a non-negative integer amount (a
//     credit's amount is what is given back: its sign is in its type);
//   - no outcome both sets and deletes a field (the commit would refuse it),
//     every changed field is held by the new state and no deleted one is;
//   - the new state round-trips through the stored encoding.
func FuzzDecide(f *testing.F) {
	w := newFuzzWorld(f)
	before, err := encodeAll(w.state)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(messages.CmdSubscriptionCancel), []byte(`{"subscription_id":"`+w.annual+`"}`), uint8(0), uint8(1), uint16(60))
	f.Fuzz(func(t *testing.T, typ string, data []byte, partner, role uint8, minutes uint16) {
		body := fmt.Appendf(nil, `{"id":%q,"type":%q,"schema_version":1,"customer_id":%q,"data":%s}`, fuzzCommandID, typ, customer1, data)
		cmd, err := messages.DecodeCommand(messages.Route{CustomerID: customer1, Type: messages.CommandType(typ)}, body)
		if err != nil {
			return // dead-lettered before any rule sees it (FuzzDecodeStoredCommand)
		}
		in := Input{Command: cmd, PartnerID: fuzzPartners[int(partner)%len(fuzzPartners)], Role: fuzzRole(role),
			Now: w.from.Add(time.Duration(minutes) * time.Minute), State: w.state, Catalog: w.cat}
		out := Decide(in)

		if same, err := encodeAll(w.state); err != nil || !equalFields(same, before) {
			t.Fatalf("Decide mutated the state it was given (%v)", err)
		}
		if both := bothSetAndDeleted(out); len(both) > 0 {
			t.Fatalf("outcome both sets and deletes %v", both)
		}
		if err := committedAs(w.state, out); err != nil {
			t.Fatal(err)
		}
		after, err := encodeAll(out.State)
		if err != nil {
			t.Fatalf("new state does not encode: %v", err)
		}
		checkBilling(t, out, w.state.Customer.Currency)
		switch {
		case out.Ignored:
			if len(out.Events)+len(out.Changed)+len(out.Deleted)+len(out.TimersSet) != 0 || !equalFields(after, before) {
				t.Fatalf("ignored command emits %v, changes %v, deletes %v", eventTypes(out), out.Changed, out.Deleted)
			}
		case out.Rejected != nil:
			r := out.Rejected
			if r.Code == "" || r.Rule == "" || r.Description == "" {
				t.Fatalf("rejection without code, rule or reason: %+v", r)
			}
			alone := timersOnly(in)
			n := len(out.Events) - 1
			if n < 0 || out.Events[n].Type != messages.EvtCommandRejected || !sameList(out.Events[:n], alone.Events) {
				t.Fatalf("rejection %s (%s) emits %v, want the timers' %v and one command.rejected", r.Code, r.Rule, eventTypes(out), eventTypes(alone))
			}
			state, err := encodeAll(alone.State)
			if err != nil || !equalFields(after, state) || !sameSet(out.Changed, alone.Changed) || !sameSet(out.Deleted, alone.Deleted) || !sameList(out.TimersSet, alone.TimersSet) {
				t.Fatalf("rejection %s (%s) changed %v and deleted %v; the timers alone change %v and delete %v", r.Code, r.Rule, out.Changed, out.Deleted, alone.Changed, alone.Deleted)
			}
		default:
			for _, f := range out.Changed {
				if !out.State.holds(f) {
					t.Fatalf("changed field %q is not in the new state", f)
				}
			}
			for _, f := range out.Deleted {
				if out.State.holds(f) {
					t.Fatalf("deleted field %q is still in the new state", f)
				}
			}
		}
		decoded, err := DecodeState(after)
		if err != nil {
			t.Fatalf("new state does not decode: %v", err)
		}
		if again, err := encodeAll(decoded); err != nil || !equalFields(again, after) {
			t.Fatalf("new state does not round-trip through its encoding (%v)", err)
		}
	})
}

// timersOnly is what deciding in does without its command: the timers due
// by then fire (Decide), and a timer.fired of the system naming no timer
// adds nothing. It is decided at the time Decide would decide in at.
func timersOnly(in Input) Outcome {
	now := in.Now
	if f, ok := in.Command.Data.(*messages.TimerFiredData); ok && in.PartnerID == messages.SystemPartner && f.DueAt.After(now) {
		now = f.DueAt
	}
	return Decide(Input{
		Command: messages.Command{ID: "no-command", Type: messages.CmdTimerFired, SchemaVersion: messages.SchemaVersion, CustomerID: in.Command.CustomerID,
			Data: &messages.TimerFiredData{TimerID: "no-timer", DueAt: now}},
		PartnerID: messages.SystemPartner, Role: messages.RoleSystem, Now: now, State: in.State, Catalog: in.Catalog, Partners: in.Partners,
	})
}

// sameList compares lists deeply, nil and empty alike.
func sameList[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// checkBilling holds every billing event of an outcome to GEN-3: integer
// minor units of the customer's currency, never negative.
func checkBilling(t *testing.T, out Outcome, currency string) {
	t.Helper()
	for _, e := range out.Events {
		if e.Type != messages.EvtBillingCharge && e.Type != messages.EvtBillingCredit {
			continue
		}
		b, ok := e.Data.(*messages.BillingEvent)
		if !ok {
			t.Fatalf("%s carries %T", e.Type, e.Data)
		}
		if b.AmountMinor < 0 || b.Currency != currency {
			t.Fatalf("%s of %d %s (%s, %s): want a non-negative amount in %s", e.Type, b.AmountMinor, b.Currency, b.Reason, b.Rule, currency)
		}
	}
}

// fieldNames lists every stored field of a state.
func fieldNames(st CustomerState) []string {
	names := []string{fieldParked, fieldRefunds, fieldActivity}
	if st.Customer != nil {
		names = append(names, fieldCustomer)
	}
	for id := range st.Subscriptions {
		names = append(names, SubscriptionField(id))
	}
	for id := range st.Orders {
		names = append(names, OrderField(id))
	}
	for id := range st.Timers {
		names = append(names, TimerField(id))
	}
	for id := range st.Transfers {
		names = append(names, TransferField(id))
	}
	return names
}

// encodeAll is a state as the store would hold it.
func encodeAll(st CustomerState) (map[string][]byte, error) { return st.EncodeFields(fieldNames(st)) }

func equalFields(a, b map[string][]byte) bool { return maps.EqualFunc(a, b, bytes.Equal) }

// TestWriteFuzzCorpus writes FuzzDecide's seed corpus: valid commands on
// the fuzz world's subscriptions (each of the kinds the rules tests apply)
// and known-bad ones. It only runs with -update-fuzz-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateFuzzCorpus {
		t.Skip("run with -update-fuzz-corpus to rewrite testdata/fuzz")
	}
	w := newFuzzWorld(t)
	var timer *Timer
	for _, id := range slices.Sorted(maps.Keys(w.state.Timers)) {
		timer = w.state.Timers[id]
		break
	}
	const a, b, sys = uint8(0), uint8(1), uint8(2)
	const admin, customerAdmin, system = uint8(1), uint8(10), uint8(11)
	if fuzzRole(admin) != messages.RoleAdminAgent || fuzzRole(customerAdmin) != messages.RoleCustomerAdmin || fuzzRole(system) != messages.RoleSystem {
		t.Fatal("role selectors moved: update the corpus constants")
	}
	line := func(offer string, qty string) string {
		q := ""
		if qty != "" {
			q = `,"quantity":` + qty
		}
		return `{"order_id":"O-fuzz","lines":[{"line_id":"L1","offer_id":"` + offer + `"` + q + `,"term":"P1Y","billing_frequency":"annual"}]}`
	}
	sub := func(id, rest string) string { return `{"subscription_id":"` + id + `"` + rest + `}` }
	seeds := []struct {
		name    string
		typ     messages.CommandType
		data    string
		partner uint8
		role    uint8
		minutes uint16
	}{
		{"order-basic", messages.CmdOrderPlaced, line(offerBasic, "3"), a, admin, 30},
		{"order-azure", messages.CmdOrderPlaced, line(offerAzure, ""), a, admin, 30},
		{"order-two-lines", messages.CmdOrderPlaced, strings.Replace(line(offerStd, "2"), `]}`, `,{"line_id":"L2","offer_id":"`+offerGrant+`","quantity":1,"term":"P1Y","billing_frequency":"annual"}]}`, 1), a, admin, 90},
		{"cancel", messages.CmdSubscriptionCancel, sub(w.annual, ""), a, admin, 60},
		{"cancel-late", messages.CmdSubscriptionCancel, sub(w.std, ""), a, admin, 65000},
		{"suspend", messages.CmdSubscriptionSuspend, sub(w.annual, `,"reason":"fraud"`), a, admin, 10},
		{"reactivate", messages.CmdSubscriptionReactivate, sub(w.monthly, ""), a, admin, 120},
		{"autorenew-on", messages.CmdAutoRenewSet, sub(w.annual, `,"enabled":true`), a, admin, 5},
		{"quantity-up", messages.CmdQuantityChange, sub(w.annual, `,"quantity":15`), a, admin, 200},
		{"quantity-down", messages.CmdQuantityChange, sub(w.annual, `,"quantity":8`), a, admin, 200},
		{"upgrade-full", messages.CmdUpgrade, sub(w.annual, `,"target_offer_id":"`+offerStd+`"`), a, admin, 300},
		{"upgrade-partial", messages.CmdUpgrade, sub(w.annual, `,"target_offer_id":"`+offerStd+`","quantity":4`), a, admin, 300},
		{"upgrade-at-renewal", messages.CmdUpgrade, sub(w.annual, `,"target_offer_id":"`+offerStd+`","when":"renewal"`), a, admin, 300},
		{"schedule-set", messages.CmdScheduleSet, sub(w.annual, `,"quantity":20,"term":"P1Y","billing_frequency":"monthly"`), a, admin, 400},
		{"schedule-delete", messages.CmdScheduleDelete, sub(w.std, ""), a, admin, 400},
		{"timer-fired", messages.CmdTimerFired, fmt.Sprintf(`{"timer_id":%q,"kind":%q,"subscription_id":%q,"due_at":%q}`,
			timer.ID, timer.Kind, timer.SubscriptionID, timer.DueAt.Format(time.RFC3339Nano)), sys, system, 0},
		{"timer-fired-on-time", messages.CmdTimerFired, fmt.Sprintf(`{"timer_id":%q,"kind":%q,"subscription_id":%q,"due_at":%q}`,
			timer.ID, timer.Kind, timer.SubscriptionID, timer.DueAt.Format(time.RFC3339Nano)), sys, system, uint16(timer.DueAt.Sub(w.from) / time.Minute)},
		{"quantity-after-renewal", messages.CmdQuantityChange, sub(w.std, `,"quantity":6`), a, admin, 50000},
		{"cancel-after-window", messages.CmdSubscriptionCancel, sub(w.annual, ""), a, admin, 12000},
		{"reactivate-late", messages.CmdSubscriptionReactivate, sub(w.monthly, ""), a, admin, 40000},
		{"relationship-request", messages.CmdRelationshipRequest, `{}`, b, admin, 10},
		{"bad-negative-quantity", messages.CmdQuantityChange, sub(w.annual, `,"quantity":-5`), a, admin, 10},
		{"bad-zero-quantity", messages.CmdQuantityChange, sub(w.annual, `,"quantity":0`), a, admin, 10},
		{"bad-huge-quantity", messages.CmdQuantityChange, sub(w.annual, `,"quantity":9223372036854775807`), a, admin, 10},
		{"bad-huge-order-quantity", messages.CmdOrderPlaced, line(offerBasic, "2147483648"), a, admin, 10},
		{"bad-wrong-type", messages.CmdQuantityChange, sub(w.annual, `,"quantity":"15"`), a, admin, 10},
		{"bad-unicode-subscription", messages.CmdSubscriptionCancel, sub("sub-ü☃\u202e", ""), a, admin, 10},
		{"bad-null-byte-subscription", messages.CmdSubscriptionCancel, sub(w.annual+`\u0000`, ""), a, admin, 10},
		{"bad-deep-nesting", messages.CmdOrderPlaced, `{"order_id":"O","lines":` + strings.Repeat("[", 3000) + strings.Repeat("]", 3000) + `}`, a, admin, 10},
		{"bad-foreign-partner", messages.CmdSubscriptionCancel, sub(w.annual, ""), b, admin, 10},
		{"bad-partner-as-system", messages.CmdTimerFired, fmt.Sprintf(`{"timer_id":%q,"kind":%q,"subscription_id":%q,"due_at":%q}`,
			timer.ID, timer.Kind, timer.SubscriptionID, timer.DueAt.Format(time.RFC3339Nano)), a, admin, 10},
		{"bad-role", messages.CmdSubscriptionCancel, sub(w.annual, ""), a, customerAdmin, 10},
		{"bad-unknown-offer", messages.CmdOrderPlaced, line("NOPE:0001", "1"), a, admin, 10},
		{"bad-cancelled-subscription", messages.CmdQuantityChange, sub(w.cancelled, `,"quantity":3`), a, admin, 10},
		{"bad-customer-again", messages.CmdCustomerCreated, `{"company_name":"Contoso","segment":"commercial","country":"US","currency":"USD"}`, a, admin, 10},
	}
	var entries []fuzzcorpus.Entry
	for _, s := range seeds {
		if !json.Valid([]byte(s.data)) && !strings.HasPrefix(s.name, "bad-") {
			t.Fatalf("seed %s: invalid JSON %s", s.name, s.data)
		}
		entries = append(entries, fuzzcorpus.Entry{Name: s.name, Args: []any{string(s.typ), []byte(s.data), s.partner, s.role, s.minutes}})
	}
	if err := fuzzcorpus.Write(".", "FuzzDecide", entries); err != nil {
		t.Fatal(err)
	}
}
