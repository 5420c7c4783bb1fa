package rules

import (
	"testing"

	"github.com/cspreseller/csp-processor/messages"
)

// TestCommandRulesCoverEveryCommandType: every command type the codec
// decodes has its row in commandRules, and the table has no row for a
// type the codec does not know, so a new command type cannot be left
// without roles, target or REN-4 behaviour.
func TestCommandRulesCoverEveryCommandType(t *testing.T) {
	known := map[messages.CommandType]bool{}
	for _, typ := range messages.CommandTypes() {
		if known[typ] {
			t.Errorf("codec lists %s twice", typ)
		}
		known[typ] = true
		r, ok := commandRules[typ]
		switch {
		case !ok:
			t.Errorf("%s has no row in commandRules", typ)
		case r.apply == nil || len(r.roles) == 0:
			t.Errorf("%s: row without rules or roles", typ)
		}
	}
	for typ := range commandRules {
		if !known[typ] {
			t.Errorf("commandRules has a row for %s, which the codec does not know", typ)
		}
	}
}
