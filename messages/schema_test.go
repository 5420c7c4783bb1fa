package messages

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
	sjs "github.com/santhosh-tekuri/jsonschema/v6"
)

// The JSON Schemas in schemas/ are generated from the Go types and checked
// in, for teams that do not use Go. `go test ./messages -run TestSchemas
// -update` (make schemas) writes them anew after a type changed.
var updateSchemas = flag.Bool("update", false, "write messages/schemas/ from the Go types")

const schemaDir = "schemas"

// schemaOf reflects one message type: the envelope with data set to the
// type's data schema, type and schema_version fixed. Commands are refused
// with unknown fields (the processor decodes them strictly), events allow
// them (consumers read them tolerantly, README "Reading events").
func schemaOf(kind, typ string, envelope, data any) *jsonschema.Schema {
	strict := kind == "command"
	r := &jsonschema.Reflector{DoNotReference: true, ExpandedStruct: true, AllowAdditionalProperties: !strict}
	env := r.Reflect(envelope)
	env.Version = "https://json-schema.org/draft/2020-12/schema"
	env.ID = jsonschema.ID("https://cspreseller.example/schemas/" + kind + "s/" + typ + ".json")
	env.Title = typ + " (" + kind + ")"
	env.Properties.Set("type", &jsonschema.Schema{Type: "string", Const: typ})
	env.Properties.Set("schema_version", &jsonschema.Schema{Type: "integer", Const: SchemaVersion})
	d := r.Reflect(data)
	d.Version, d.ID = "", ""
	env.Properties.Set("data", d)
	return env
}

// schemaFiles generates every schema, by file name.
func schemaFiles(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	write := func(name string, s *jsonschema.Schema) {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = append(b, '\n')
	}
	type commandEnvelope struct {
		ID            string     `json:"id"`
		Type          string     `json:"type"`
		SchemaVersion int        `json:"schema_version"`
		CustomerID    string     `json:"customer_id"`
		IssuedAt      *time.Time `json:"issued_at,omitempty"`
		Data          any        `json:"data"`
	}
	type eventEnvelope struct {
		ID            string    `json:"id"`
		Type          string    `json:"type"`
		SchemaVersion int       `json:"schema_version"`
		CommandID     string    `json:"command_id"`
		CommandType   string    `json:"command_type"`
		PartnerID     string    `json:"partner_id"`
		CustomerID    string    `json:"customer_id"`
		OccurredAt    time.Time `json:"occurred_at"`
		Data          any       `json:"data"`
	}
	// The envelopes above must stay the real ones, field for field.
	for _, pair := range [][2]any{{Command{}, commandEnvelope{}}, {Event{}, eventEnvelope{}}} {
		if a, b := jsonFields(reflect.TypeOf(pair[0])), jsonFields(reflect.TypeOf(pair[1])); !slices.Equal(a, b) {
			t.Fatalf("schema envelope %v drifted from %T %v", b, pair[0], a)
		}
	}
	for _, c := range CommandTypes() {
		write(filepath.Join("commands", string(c)+".json"), schemaOf("command", string(c), commandEnvelope{}, newCommandData(c)))
	}
	for _, e := range EventTypes() {
		write(filepath.Join("events", string(e)+".json"), schemaOf("event", string(e), eventEnvelope{}, newEventData(e)))
	}
	return out
}

// jsonFields lists a struct's JSON field tags.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		out = append(out, t.Field(i).Tag.Get("json"))
	}
	return out
}

// The checked-in schemas are what the Go types generate: a type changed
// without `make schemas` fails here, and so does a stale file left behind.
func TestSchemasAreCurrent(t *testing.T) {
	files := schemaFiles(t)
	if *updateSchemas {
		if err := os.RemoveAll(schemaDir); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			p := filepath.Join(schemaDir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(schemaDir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s/%s is not what the Go types generate (run make schemas): %v", schemaDir, name, err)
		}
	}
	err := filepath.WalkDir(schemaDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if _, ok := files[strings.TrimPrefix(p, schemaDir+string(filepath.Separator))]; !ok {
			t.Errorf("%s belongs to no command or event type (run make schemas)", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Every example of the contract validates against its type's schema, and
// a command with a field the processor does not know does not: the
// schemas say what the processor really accepts and writes.
func TestReadmeExamplesValidateAgainstTheSchemas(t *testing.T) {
	compiler := sjs.NewCompiler()
	compiled := map[string]*sjs.Schema{}
	for name, b := range schemaFiles(t) {
		doc, err := sjs.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := compiler.AddResource(name, doc); err != nil {
			t.Fatal(err)
		}
		if compiled[name], err = compiler.Compile(name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	for _, ex := range readmeExamples(t) {
		if ex.kind != "command" && ex.kind != "event" {
			continue // the simulation-mode requests are not part of the schemas
		}
		s := compiled[filepath.Join(ex.kind+"s", ex.name+".json")]
		if s == nil {
			t.Errorf("no schema for %s %s", ex.kind, ex.name)
			continue
		}
		doc, err := sjs.UnmarshalJSON(bytes.NewReader(ex.body))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Validate(doc); err != nil {
			t.Errorf("%s example %s does not validate: %v", ex.kind, ex.name, err)
		}
		if ex.kind == "command" {
			var m map[string]any
			_ = json.Unmarshal(ex.body, &m)
			m["data"].(map[string]any)["not_a_field"] = 1
			if s.Validate(m) == nil {
				t.Errorf("command %s with an unknown field validates", ex.name)
			}
		}
	}
}
