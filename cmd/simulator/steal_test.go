package main

import "testing"

func TestMachineNoteSaysHowBusyTheMachineWasAndWhatWasStolen(t *testing.T) {
	before := cpuTimes{total: 1000, idle: 400, steal: 10}
	after := cpuTimes{total: 2000, idle: 650, steal: 60}
	want := "machine during the run: 75% busy, 5.0% of CPU time stolen by the hypervisor"
	if got := machineNote(before, after); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := machineNote(after, after); got != "" {
		t.Fatalf("no time passed: got %q", got)
	}
	if _, ok := readCPUTimes(); !ok {
		t.Skip("no /proc/stat here")
	}
}
