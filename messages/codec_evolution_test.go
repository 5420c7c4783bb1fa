package messages

import (
	"errors"
	"strings"
	"testing"
)

// A consumer built against this version keeps reading events a newer
// processor writes: a field it does not know is ignored by DecodeEvent
// (and refused by DecodeEventStrict, which the simulator uses to notice
// drift); an event type it does not know is ErrUnknownEventType, to skip;
// another schema_version, a duplicate key or invalid UTF-8 is refused by
// both.
func TestEventsDecodeTolerantlyAndStrictlyOnRequest(t *testing.T) {
	ev := Event{ID: EventID("C-1", "cmd-1", 0), Type: EvtCommandRejected, SchemaVersion: SchemaVersion, CommandID: "cmd-1",
		CommandType: CmdSubscriptionCancel, PartnerID: "P-1", CustomerID: "C-1",
		Data: &CommandRejectedEvent{Rejection{Code: "x", Description: "y", Rule: "CAN-1", Source: "processor"}}}
	body, err := EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	s := string(body)
	added := strings.Replace(s, `"rule":"CAN-1"`, `"rule":"CAN-1","added_later":{"x":[1,2]}`, 1)
	addedTop := strings.Replace(s, `"partner_id":"P-1"`, `"partner_id":"P-1","trace":"abc"`, 1)
	if added == s || addedTop == s {
		t.Fatalf("the test's replacements found nothing in %s", s)
	}
	for _, b := range []string{added, addedTop} {
		got, err := DecodeEvent([]byte(b))
		if err != nil {
			t.Fatalf("DecodeEvent refused an event with an added field: %v\n%s", err, b)
		}
		if r := got.Data.(*CommandRejectedEvent); r.Rule != "CAN-1" || got.ID != ev.ID {
			t.Fatalf("decoded %+v", got)
		}
		if _, err := DecodeEventStrict([]byte(b)); err == nil {
			t.Fatalf("DecodeEventStrict accepted an unknown field:\n%s", b)
		}
	}

	unknown := strings.Replace(s, `"type":"command.rejected"`, `"type":"subscription.something_new"`, 1)
	if unknown == s {
		t.Fatalf("no type to replace in %s", s)
	}
	if _, err := DecodeEvent([]byte(unknown)); !errors.Is(err, ErrUnknownEventType) {
		t.Fatalf("unknown event type: %v, want ErrUnknownEventType", err)
	}

	for name, b := range map[string]string{
		"schema_version 2": strings.Replace(s, `"schema_version":1`, `"schema_version":2`, 1),
		"duplicate key":    strings.Replace(s, `"partner_id":"P-1"`, `"partner_id":"P-1","partner_id":"P-2"`, 1),
		"invalid UTF-8":    strings.Replace(s, `"description":"y"`, "\"description\":\"\xff\"", 1),
	} {
		if b == s {
			t.Fatalf("%s: nothing replaced", name)
		}
		if _, err := DecodeEvent([]byte(b)); err == nil {
			t.Errorf("DecodeEvent accepted an event with %s", name)
		}
	}
}
