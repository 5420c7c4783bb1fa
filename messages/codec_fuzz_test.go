package messages

import (
	"bytes"
	"flag"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cspreseller/csp-processor/messages/fuzzcorpus"
)

// updateFuzzCorpus regenerates the checked-in seed corpus:
//
//	go test -run TestWriteFuzzCorpus ./messages -update-fuzz-corpus
var updateFuzzCorpus = flag.Bool("update-fuzz-corpus", false, "rewrite testdata/fuzz from the README examples")

// decodeCodes is every code DecodeCommand may answer with.
var decodeCodes = []string{CodeOversize, CodeMalformed, CodeUnknownType, CodeSchemaVersion, CodeSubjectMismatch, CodeInvalidID}

// FuzzDecodeStoredCommand feeds the processor's decoding step (the stored
// subject, then the body, as the command handler reads them) arbitrary
// subjects and bodies. G5: it never panics; anything refused is refused
// with one of the documented codes and a reason; anything accepted is a
// command of the subject's type and customer that encodes, and decodes
// from its encoding to a command with the same encoding.
func FuzzDecodeStoredCommand(f *testing.F) {
	f.Add(storedSubject("P-1", RoleAdminAgent, "C-1", CmdSubscriptionCancel), []byte(validCancel))
	f.Fuzz(func(t *testing.T, subject string, body []byte) {
		route, err := ParseStoredCommandSubject(subject)
		if err != nil {
			return // the handler dead-letters it as bad_subject
		}
		if !ValidToken(route.PartnerID) || !ValidToken(route.CustomerID) || !route.Role.Known() {
			t.Fatalf("subject %q parsed to %+v", subject, route)
		}
		cmd, err := DecodeCommand(route, body)
		if err != nil {
			de, ok := AsDecodeError(err)
			if !ok || !slices.Contains(decodeCodes, de.Code) || de.Detail == "" {
				t.Fatalf("refusal %v is not a DecodeError with a known code and a reason", err)
			}
			return
		}
		if cmd.Type != route.Type || cmd.CustomerID != route.CustomerID || !ValidCommandID(cmd.ID) || cmd.SchemaVersion != SchemaVersion {
			t.Fatalf("accepted %+v on route %+v", cmd, route)
		}
		if want := reflect.TypeOf(newCommandData(cmd.Type)); reflect.TypeOf(cmd.Data) != want {
			t.Fatalf("%s decoded data %T, want %v", cmd.Type, cmd.Data, want)
		}
		enc, err := EncodeCommand(cmd)
		if err != nil {
			t.Fatalf("accepted command does not encode: %v\n%+v", err, cmd)
		}
		// "The same value" is the same encoding: an absent or null list
		// decodes to a nil slice and encodes as [], which decodes to an
		// empty one; the rules read both alike (len 0), and the encoding,
		// which is all a consumer sees, does not tell them apart either.
		// From the first encoding on, the round trip is exact.
		back, err := DecodeCommand(route, enc)
		if err != nil {
			t.Fatalf("own encoding refused: %v\n%s", err, enc)
		}
		if enc2, err := EncodeCommand(back); err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the command (%v):\nbody  %q\nfirst %s\nagain %s", err, body, enc, enc2)
		}
	})
}

// storedSubject is a command's subject as the command stream stores it.
func storedSubject(partner string, role Role, customer string, t CommandType) string {
	return fmt.Sprintf("%s.3.%s.%s.%s.%s", PartitionSubjectPrefix, partner, role, customer, t)
}

// TestWriteFuzzCorpus writes FuzzDecodeStoredCommand's seed corpus: every
// README command example on its subject, and known-bad input of each kind
// G5 names. It only runs with -update-fuzz-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateFuzzCorpus {
		t.Skip("run with -update-fuzz-corpus to rewrite testdata/fuzz")
	}
	var entries []fuzzcorpus.Entry
	add := func(name, subject string, body []byte) {
		entries = append(entries, fuzzcorpus.Entry{Name: name, Args: []any{subject, body}})
	}
	for _, ex := range readmeExamples(t) {
		if ex.kind != "command" {
			continue
		}
		partner, role := "P-1", RoleAdminAgent
		if CommandType(ex.name) == CmdTimerFired {
			partner, role = SystemPartner, RoleSystem
		}
		add("readme-"+ex.name, storedSubject(partner, role, readmeCustomer, CommandType(ex.name)), ex.body)
	}
	cancel := storedSubject("P-1", RoleAdminAgent, "C-1", CmdSubscriptionCancel)
	quantity := storedSubject("P-1", RoleAdminAgent, "C-1", CmdQuantityChange)
	qty := func(v string) []byte {
		return []byte(`{"id":"cmd-1","type":"subscription.quantity.change","schema_version":1,"customer_id":"C-1","data":{"subscription_id":"sub-1","quantity":` + v + `}}`)
	}
	with := func(old, new string) []byte { return []byte(strings.Replace(validCancel, old, new, 1)) }
	bad := []struct {
		name, subject string
		body          []byte
	}{
		{"oversize", cancel, append([]byte(validCancel), bytes.Repeat([]byte(" "), MaxCommandBytes)...)},
		{"truncated", cancel, []byte(validCancel[:len(validCancel)/2])},
		{"empty", cancel, nil},
		{"wrong-type-schema-version", cancel, with(`"schema_version":1`, `"schema_version":"1"`)},
		{"wrong-type-quantity-string", quantity, qty(`"5"`)},
		{"wrong-type-quantity-fraction", quantity, qty(`1.5`)},
		{"huge-quantity", quantity, qty(`99999999999999999999999`)},
		{"huge-exponent", quantity, qty(`1e400`)},
		{"negative-quantity", quantity, qty(`-5`)},
		{"quantity-null", quantity, qty(`null`)},
		{"unicode-subscription-id", cancel, with(`sub-1`, `sub-ü☃\u202e`)},
		{"unicode-command-id", cancel, with(`cmd-1`, `cmd-☃`)},
		{"escaped-null-byte", cancel, with(`sub-1`, `sub\u0000-1`)},
		{"raw-null-byte", cancel, with(`sub-1`, "sub\x00-1")},
		{"invalid-utf8", cancel, with(`sub-1`, "sub-\xff")},
		{"deep-nesting", cancel, with(`"sub-1"`, strings.Repeat("[", 5000)+strings.Repeat("]", 5000))},
		{"duplicate-data-field", cancel, with(`"subscription_id":"sub-1"`, `"subscription_id":"sub-1","subscription_id":"sub-2"`)},
		{"field-in-other-case", cancel, with(`"customer_id"`, `"Customer_Id"`)},
		{"unknown-field", cancel, with(`"id"`, `"amount_minor":-100,"id"`)},
		{"data-null", cancel, with(`{"subscription_id":"sub-1"}`, `null`)},
		{"issued-at-offset", cancel, with(`"customer_id"`, `"issued_at":"2026-03-10T14:00:00.123456789+05:30","customer_id"`)},
		{"issued-at-invalid", cancel, with(`"customer_id"`, `"issued_at":"2026-13-40T25:61:00Z","customer_id"`)},
		{"subject-customer-differs", storedSubject("P-1", RoleAdminAgent, "C-2", CmdSubscriptionCancel), []byte(validCancel)},
		{"subject-type-differs", storedSubject("P-1", RoleAdminAgent, "C-1", CmdSubscriptionSuspend), []byte(validCancel)},
		{"subject-unknown-role", storedSubject("P-1", "root", "C-1", CmdSubscriptionCancel), []byte(validCancel)},
		{"subject-bad-partition", strings.Replace(cancel, ".3.", ".x.", 1), []byte(validCancel)},
		{"subject-missing-type", strings.TrimSuffix(cancel, "."+string(CmdSubscriptionCancel)), []byte(validCancel)},
		{"subject-event-prefix", EventSubject("P-1", "C-1", EvtSubscriptionCancelled), []byte(validCancel)},
	}
	for _, b := range bad {
		add("bad-"+b.name, b.subject, b.body)
	}
	if err := fuzzcorpus.Write(".", "FuzzDecodeStoredCommand", entries); err != nil {
		t.Fatal(err)
	}
}
