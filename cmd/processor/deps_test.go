package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The processor binary carries no simulator code: the demo story, the load
// generator and the money model live in the simulator's command. go list
// -deps is what the linker gets, so a simulator package in it is one in
// the binary.
func TestProcessorImportsNoSimulatorPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const simulator = "github.com/cspreseller/csp-processor/simulator"
	deps := strings.Fields(string(out))
	if len(deps) < 50 || !slices.Contains(deps, "github.com/cspreseller/csp-processor/handlers") {
		t.Fatalf("go list -deps printed %d packages without the handlers: not the processor's dependencies?\n%s", len(deps), out)
	}
	for _, p := range deps {
		if p == simulator || strings.HasPrefix(p, simulator+"/") {
			t.Errorf("the processor depends on %s", p)
		}
	}
}
