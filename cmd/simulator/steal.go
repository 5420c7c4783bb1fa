package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// cpuTimes is the machine's CPU time so far, from /proc/stat, in ticks.
type cpuTimes struct{ total, steal, idle uint64 }

// readCPUTimes reads the first line of /proc/stat; ok is false where there
// is none (not Linux).
func readCPUTimes() (t cpuTimes, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return t, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return t, false
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return t, false
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return t, false
		}
		t.total += v
		switch i {
		case 3: // idle
			t.idle = v
		case 7: // steal
			t.steal = v
		}
	}
	return t, true
}

// machineNote says how busy the machine was between two readings and how
// much CPU its hypervisor gave to others: on a shared virtual machine the
// same run can differ by a fifth from one minute to the next, and this is
// how a reader tells.
func machineNote(before, after cpuTimes) string {
	total := float64(after.total - before.total)
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf("machine during the run: %.0f%% busy, %.1f%% of CPU time stolen by the hypervisor",
		100*(1-float64(after.idle-before.idle)/total), 100*float64(after.steal-before.steal)/total)
}
