package procstat

import (
	"sync"
	"time"
)

// Group is processes measured together under one name: "NATS" for the
// three nodes of a cluster, "simulator" for this process and what runs in
// it.
type Group struct {
	Name string
	PIDs []int
}

// Reading is a group's use over one interval between two readings.
type Reading struct {
	Name string
	CPU  time.Duration // CPU time its processes used in the interval
	RSS  int64         // their resident memory at its end, bytes
}

// Meter turns successive readings of the processes' cumulative CPU times
// into the CPU each group used between two readings. A process seen for
// the first time (started, or restarted under a new PID, since the last
// reading) counts from that reading on: its earlier CPU time is not of
// the interval.
type Meter struct {
	last map[int]time.Duration // by PID, at the previous reading
	at   time.Time
}

// Read reads every group's processes at now. The first call only takes
// the baseline and returns span 0 and no readings. A group none of whose
// processes could be read (all gone, or not Linux) is left out.
func (m *Meter) Read(now time.Time, groups []Group) (span time.Duration, out []Reading) {
	first := m.last == nil
	seen := make(map[int]time.Duration, len(m.last))
	for _, g := range groups {
		r := Reading{Name: g.Name}
		read := 0
		for _, pid := range g.PIDs {
			u, err := Read(pid)
			if err != nil {
				continue
			}
			read++
			seen[pid] = u.CPU
			if before, ok := m.last[pid]; ok && u.CPU >= before {
				r.CPU += u.CPU - before
			}
			r.RSS += u.RSS
		}
		if read > 0 {
			out = append(out, r)
		}
	}
	span = now.Sub(m.at)
	m.last, m.at = seen, now
	if first {
		return 0, nil
	}
	return span, out
}

// Watch reads the groups every interval (groups is asked each time, so a
// restarted process is followed under its new PID) and passes each
// round's readings to record, from one goroutine. The returned stop takes
// a last reading, so even a run shorter than interval gets one, and
// returns once record has seen it.
func Watch(interval time.Duration, groups func() []Group, record func(at time.Time, span time.Duration, rs []Reading)) (stop func()) {
	var m Meter
	m.Read(time.Now(), groups())
	done := make(chan struct{})
	finished := make(chan struct{})
	read := func(now time.Time) {
		if span, rs := m.Read(now, groups()); span > 0 && len(rs) > 0 {
			record(now, span, rs)
		}
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				read(now)
			case <-done:
				read(time.Now())
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}
