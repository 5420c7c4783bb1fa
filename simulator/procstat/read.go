package procstat

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/PID/stat's times: 100
// on every architecture Go supports (the kernel's HZ may differ; this
// does not).
const clockTicks = 100

// Usage is one reading of a process.
type Usage struct {
	CPU time.Duration // user and system time used since the process started
	RSS int64         // resident memory now, bytes
}

// Read reads process pid's CPU time and resident memory from
// /proc/PID/stat (one file: both figures are of the same instant).
func Read(pid int) (Usage, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return Usage{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state): utime and stime are fields 14 and 15, rss
	// (in pages) field 24.
	if len(f) < 22 {
		return Usage{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var n [3]int64
	for k, field := range []string{f[11], f[12], f[21]} {
		if n[k], err = strconv.ParseInt(field, 10, 64); err != nil {
			return Usage{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	return Usage{
		CPU: time.Duration(n[0]+n[1]) * time.Second / clockTicks,
		RSS: n[2] * int64(os.Getpagesize()),
	}, nil
}

// CPU is the user and system CPU time process pid has used.
func CPU(pid int) (time.Duration, error) {
	u, err := Read(pid)
	return u.CPU, err
}

// Memory is process pid's resident and peak resident memory in bytes
// (VmRSS and VmHWM of /proc/PID/status).
func Memory(pid int) (rss, peak int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if k == "VmRSS" {
			rss = kb * 1024
		} else {
			peak = kb * 1024
		}
	}
	return rss, peak, sc.Err()
}
