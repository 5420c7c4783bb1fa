package simulator

import "time"

// Commands that never get an answer.
//
// A command whose first event does not come is not waited for forever:
// after the run's deadline (LoadConfig.OutcomeTimeout) every command still
// in flight is counted lost in the report (report.Recorder.Lost, a
// mismatch), its customer is left alone for the rest of the run (its later
// predictions would follow from a state nobody knows), and the run goes
// on. An event that comes for it later is counted (Ledger.Late) but not
// booked: the loss is already reported.

// defaultOutcomeTimeout is how long after a step's last command the run
// waits for every command's first event: far above a processor's restart
// plus its ack wait (a command being decided when the processor died is
// redelivered then), far below "hangs".
const defaultOutcomeTimeout = 60 * time.Second

// loseInFlight gives up on every command still without an event and
// returns how many there were.
func (l *Ledger) loseInFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.inFlight)
	for id := range l.inFlight {
		l.lost[id] = struct{}{}
		if res := l.results[id]; res != nil {
			res.Lost = true
		}
		delete(l.inFlight, id)
		delete(l.timelines, id)
	}
	return n
}
