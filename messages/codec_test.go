package messages

import (
	"strings"
	"testing"
)

var route = Route{Slot: 3, PartnerID: "P-1", CustomerID: "C-1", Type: CmdSubscriptionCancel}

const validCancel = `{"id":"cmd-1","type":"subscription.cancel","schema_version":1,"customer_id":"C-1","data":{"subscription_id":"sub-1"}}`

func TestDecodeCommandAcceptsValid(t *testing.T) {
	c, err := DecodeCommand(route, []byte(validCancel))
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := c.Data.(*CancelData); !ok || d.SubscriptionID != "sub-1" || c.ID != "cmd-1" {
		t.Fatalf("decoded %+v", c)
	}
}

// G5: everything Go's encoding/json would let through, and every other
// structural fault, is refused with a specific code.
func TestDecodeCommandRejectsBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, body, code string
		route            *Route
	}{
		{"not json", `hello`, CodeMalformed, nil},
		{"empty", ``, CodeMalformed, nil},
		{"unknown envelope field", strings.Replace(validCancel, `"id"`, `"extra":1,"id"`, 1), CodeMalformed, nil},
		{"unknown data field", strings.Replace(validCancel, `"subscription_id"`, `"amount":5,"subscription_id"`, 1), CodeMalformed, nil},
		{"duplicate key", strings.Replace(validCancel, `"id":"cmd-1"`, `"id":"cmd-1","id":"cmd-2"`, 1), CodeMalformed, nil},
		{"duplicate data key", strings.Replace(validCancel, `{"subscription_id":"sub-1"}`, `{"subscription_id":"sub-1","subscription_id":"sub-2"}`, 1), CodeMalformed, nil},
		{"key differing in case", strings.Replace(validCancel, `"id"`, `"ID"`, 1), CodeMalformed, nil},
		{"trailing data", validCancel + `{}`, CodeMalformed, nil},
		{"trailing garbage", validCancel + `x`, CodeMalformed, nil},
		{"wrong type", strings.Replace(validCancel, `"schema_version":1`, `"schema_version":"1"`, 1), CodeMalformed, nil},
		{"wrong data type", strings.Replace(validCancel, `"sub-1"`, `7`, 1), CodeMalformed, nil},
		{"data not an object", strings.Replace(validCancel, `{"subscription_id":"sub-1"}`, `[1]`, 1), CodeMalformed, nil},
		{"data missing", `{"id":"cmd-1","type":"subscription.cancel","schema_version":1,"customer_id":"C-1"}`, CodeMalformed, nil},
		{"invalid utf-8", strings.Replace(validCancel, `sub-1`, "sub-\xff", 1), CodeMalformed, nil},
		{"oversize", `{"id":"` + strings.Repeat("a", MaxCommandBytes) + `"}`, CodeOversize, nil},
		{"unknown type", strings.Replace(validCancel, `subscription.cancel`, `subscription.delete`, 1), CodeUnknownType, &Route{CustomerID: "C-1", Type: "subscription.delete"}},
		{"schema version", strings.Replace(validCancel, `"schema_version":1`, `"schema_version":2`, 1), CodeSchemaVersion, nil},
		{"bad id", strings.Replace(validCancel, `cmd-1`, `cmd 1`, 1), CodeInvalidID, nil},
		{"type differs from subject", validCancel, CodeSubjectMismatch, &Route{CustomerID: "C-1", Type: CmdSubscriptionSuspend}},
		{"customer differs from subject", validCancel, CodeSubjectMismatch, &Route{CustomerID: "C-2", Type: CmdSubscriptionCancel}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := route
			if tc.route != nil {
				r = *tc.route
			}
			_, err := DecodeCommand(r, []byte(tc.body))
			de, ok := AsDecodeError(err)
			if !ok || de.Code != tc.code {
				t.Fatalf("got %v, want code %s", err, tc.code)
			}
			if de.Detail == "" {
				t.Fatal("no detail")
			}
		})
	}
}

func TestEventRoundTripIsDeterministic(t *testing.T) {
	ev := Event{ID: EventID("C-1", "cmd-1", 0), Type: EvtCommandRejected, SchemaVersion: 1, CommandID: "cmd-1",
		CommandType: CmdSubscriptionCancel, PartnerID: "P-1", CustomerID: "C-1",
		Data: &CommandRejectedEvent{Rejection{Code: "x", Description: "y", Rule: "CAN-1", Source: "processor",
			Data: map[string]string{"b": "2", "a": "1", "c": "3"}}}}
	a, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		b, _ := EncodeEvent(ev)
		if string(a) != string(b) {
			t.Fatalf("encoding differs:\n%s\n%s", a, b)
		}
	}
	back, err := DecodeEvent(a)
	if err != nil {
		t.Fatal(err)
	}
	if r := back.Data.(*CommandRejectedEvent); r.Rule != "CAN-1" || r.Data["c"] != "3" || back.ID != ev.ID {
		t.Fatalf("round trip %+v", back)
	}
}

func TestEventIDIsDerivedFromCustomerCommandAndPosition(t *testing.T) {
	a := EventID("C-1", "cmd-1", 0)
	if a != EventID("C-1", "cmd-1", 0) {
		t.Fatal("not deterministic")
	}
	for _, other := range []string{EventID("C-2", "cmd-1", 0), EventID("C-1", "cmd-2", 0), EventID("C-1", "cmd-1", 1)} {
		if other == a {
			t.Fatal("collision")
		}
	}
}

func TestParseStoredCommandSubject(t *testing.T) {
	r, err := ParseStoredCommandSubject("csp.cmdp.7.P-1.sales_agent.C-1.subscription.autorenew.set")
	if err != nil || r.Slot != 7 || r.PartnerID != "P-1" || r.Role != RoleSalesAgent || r.CustomerID != "C-1" || r.Type != CmdAutoRenewSet {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{"csp.cmd.P.admin_agent.C.x", "csp.cmdp.x.P.admin_agent.C.t", "csp.cmdp.1.P.admin_agent.C",
		"csp.cmdp.1.P*.admin_agent.C.t", "csp.cmdp.1.P.C.subscription.cancel", "csp.cmdp.1.P.janitor.C.subscription.cancel"} {
		if _, err := ParseStoredCommandSubject(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
