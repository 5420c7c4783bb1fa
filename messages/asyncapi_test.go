package messages

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	sjs "github.com/santhosh-tekuri/jsonschema/v6"
)

// asyncAPIFile is the AsyncAPI 3 document of the processor's subjects and
// messages, generated with the schemas (make schemas).
const asyncAPIFile = "asyncapi.json"

// asyncAPI describes the processor as the application: it receives the
// commands and sends the events, each message's payload the checked-in
// JSON Schema of its type.
func asyncAPI(t *testing.T) []byte {
	t.Helper()
	type obj = map[string]any
	ref := func(s string) obj { return obj{"$ref": s} }
	param := func(desc string) obj { return obj{"description": desc} }
	channels, operations, msgs := obj{}, obj{}, obj{}
	msgID := obj{"type": "string", "description": "deduplication key: the command's ID (upstream) or the event's id"}
	commandHeaders := obj{"type": "object", "properties": obj{
		"Nats-Msg-Id": msgID,
		HeaderTraceparent: obj{"type": "string", "description": "optional W3C trace context of the sender's span; " +
			"every event of the command continues its trace (a command without a valid one starts a trace)"},
		HeaderTracestate: obj{"type": "string", "description": "optional W3C tracestate, carried to the command's events"},
	}}
	eventHeaders := obj{"type": "object", "properties": obj{
		"Nats-Msg-Id": msgID,
		HeaderTraceparent: obj{"type": "string", "description": "W3C traceparent: the causing command's trace ID and flags, " +
			"the event's own span ID"},
		HeaderTracestate:   obj{"type": "string", "description": "the causing command's tracestate, when it had one"},
		HeaderParentSpanID: obj{"type": "string", "description": "span ID of the causing command's span, the parent of the event's span"},
	}}
	for _, c := range CommandTypes() {
		name := "command." + string(c)
		msgs[name] = obj{"name": string(c), "title": string(c) + " (command)", "contentType": "application/json",
			"headers": commandHeaders, "payload": ref("./schemas/commands/" + string(c) + ".json")}
		channels[name] = obj{
			"address":  CommandSubject("{partner}", "{role}", "{customer}", c),
			"messages": obj{string(c): ref("#/components/messages/" + name)},
			"parameters": obj{"partner": param("the acting partner's ID"), "role": param("the acting role (ROL-1)"),
				"customer": param("the customer's ID; must equal the body's customer_id")},
		}
		operations["receive."+string(c)] = obj{"action": "receive", "channel": ref("#/channels/" + name)}
	}
	for _, e := range EventTypes() {
		name := "event." + string(e)
		msgs[name] = obj{"name": string(e), "title": string(e) + " (event)", "contentType": "application/json",
			"headers": eventHeaders, "payload": ref("./schemas/events/" + string(e) + ".json")}
		channels[name] = obj{
			"address":  EventSubject("{partner}", "{customer}", e),
			"messages": obj{string(e): ref("#/components/messages/" + name)},
			"parameters": obj{"partner": param("the partner the event is for (it may read only its own)"),
				"customer": param("the customer's ID")},
		}
		operations["send."+string(e)] = obj{"action": "send", "channel": ref("#/channels/" + name)}
	}
	doc := obj{
		"asyncapi": "3.0.0",
		"info": obj{"title": "CSP subscription-lifecycle processor", "version": "schema_version 1",
			"description": "Commands the processor consumes from its JetStream command stream and events it publishes " +
				"to its event stream. Payloads are the JSON Schemas in ./schemas; messages/README.md is the prose contract."},
		"defaultContentType": "application/json",
		"channels":           channels,
		"operations":         operations,
		"components":         obj{"messages": msgs},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// asyncapi.json is what the types generate, and every message it names
// has its schema file.
func TestAsyncAPIDocumentIsCurrent(t *testing.T) {
	want := asyncAPI(t)
	if *updateSchemas {
		if err := os.WriteFile(asyncAPIFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(asyncAPIFile)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is not what the types generate (run make schemas): %v", asyncAPIFile, err)
	}
	var doc struct {
		AsyncAPI   string `json:"asyncapi"`
		Components struct {
			Messages map[string]struct {
				Payload struct {
					Ref string `json:"$ref"`
				} `json:"payload"`
			} `json:"messages"`
		} `json:"components"`
	}
	if err := json.Unmarshal(got, &doc); err != nil || doc.AsyncAPI != "3.0.0" {
		t.Fatalf("%s: asyncapi %q, %v", asyncAPIFile, doc.AsyncAPI, err)
	}
	if n := len(CommandTypes()) + len(EventTypes()); len(doc.Components.Messages) != n {
		t.Fatalf("%d messages, want %d", len(doc.Components.Messages), n)
	}
	for name, m := range doc.Components.Messages {
		if _, err := os.Stat(strings.TrimPrefix(m.Payload.Ref, "./")); err != nil {
			t.Errorf("message %s: payload %s: %v", name, m.Payload.Ref, err)
		}
	}

	// A valid AsyncAPI 3.0.0 document, by the specification's own schema;
	// the same document with an operation of an unknown action is not.
	spec, err := os.Open("testdata/asyncapi/3.0.0.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer spec.Close()
	specDoc, err := sjs.UnmarshalJSON(spec)
	if err != nil {
		t.Fatal(err)
	}
	c := sjs.NewCompiler()
	if err := c.AddResource("asyncapi-3.0.0.json", specDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("asyncapi-3.0.0.json")
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := sjs.UnmarshalJSON(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(parsed); err != nil {
		t.Fatalf("%s is not a valid AsyncAPI 3.0.0 document: %v", asyncAPIFile, err)
	}
	parsed.(map[string]any)["operations"].(map[string]any)["broken"] = map[string]any{"action": "publish"}
	if schema.Validate(parsed) == nil {
		t.Fatal("the AsyncAPI schema accepted an operation with action publish (AsyncAPI 2's word): it checks nothing")
	}
}
