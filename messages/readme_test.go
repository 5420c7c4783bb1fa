package messages

import (
	"os"
	"regexp"
	"testing"
)

// The README's examples are part of the contract: each must decode
// strictly, and every command and event type must have one.
func TestReadmeExamplesDecode(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)#### `([a-z._]+)` \\((command|event)\\).*?```json\n(.*?)\n```")
	commands, events := map[CommandType]bool{}, map[EventType]bool{}
	for _, m := range re.FindAllSubmatch(b, -1) {
		name, kind, body := string(m[1]), string(m[2]), m[3]
		switch kind {
		case "command":
			c, err := DecodeCommand(Route{CustomerID: "C-1001", Type: CommandType(name)}, body)
			if err != nil || string(c.Type) != name {
				t.Errorf("command example %s: %v", name, err)
			}
			commands[CommandType(name)] = true
		case "event":
			e, err := DecodeEvent(body)
			if err != nil || string(e.Type) != name {
				t.Errorf("event example %s: %v", name, err)
			}
			events[EventType(name)] = true
		}
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
