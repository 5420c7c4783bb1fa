package messages

import (
	"os"
	"regexp"
	"testing"
)

// readmeExample is one JSON example of README.md.
type readmeExample struct {
	name string // the command or event type
	kind string // "command", "event" or "request"
	body []byte
}

// readmeCustomer is the customer every README example names.
const readmeCustomer = "C-1001"

// readmeExamples reads every JSON example of README.md, in order.
func readmeExamples(t testing.TB) []readmeExample {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)#### `([a-z._]+)` \\((command|event|request)\\).*?```json\n(.*?)\n```")
	var out []readmeExample
	for _, m := range re.FindAllSubmatch(b, -1) {
		out = append(out, readmeExample{name: string(m[1]), kind: string(m[2]), body: m[3]})
	}
	return out
}

// The README's examples are part of the contract: each must decode
// strictly, and every command and event type must have one.
func TestReadmeExamplesDecode(t *testing.T) {
	commands, events := map[CommandType]bool{}, map[EventType]bool{}
	requests := 0
	for _, ex := range readmeExamples(t) {
		switch ex.kind {
		case "command":
			c, err := DecodeCommand(Route{CustomerID: readmeCustomer, Type: CommandType(ex.name)}, ex.body)
			if err != nil || string(c.Type) != ex.name {
				t.Errorf("command example %s: %v", ex.name, err)
			}
			commands[CommandType(ex.name)] = true
		case "request":
			if ex.name != TestClockSubject {
				t.Errorf("request example %s: not a request subject", ex.name)
			}
			if _, _, err := DecodeTestClockRequest(ex.body); err != nil {
				t.Errorf("request example %s: %v", ex.name, err)
			}
			requests++
		case "event":
			e, err := DecodeEventStrict(ex.body)
			if err != nil || string(e.Type) != ex.name {
				t.Errorf("event example %s: %v", ex.name, err)
			}
			events[EventType(ex.name)] = true
		}
	}
	if requests != 2 {
		t.Errorf("README has %d test clock request examples, want 2 (create, advance)", requests)
	}
	for _, c := range CommandTypes() {
		if !commands[c] {
			t.Errorf("README has no example of command %s", c)
		}
	}
	for _, e := range EventTypes() {
		if !events[e] {
			t.Errorf("README has no example of event %s", e)
		}
	}
}
