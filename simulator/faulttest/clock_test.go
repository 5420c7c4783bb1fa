package faulttest

import (
	"testing"
	"time"
)

// A clock move asked while no processor answers (it was killed and is
// starting again) waits for the new one instead of failing the run, and
// moving to the same time again is harmless: the clock stays, nothing
// fires twice.
func TestFault_ClockMoveWaitsForTheRestartedProcessor(t *testing.T) {
	g := newRig(t)
	to := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	g.proc.kill(t)
	type result struct {
		fired int
		err   error
	}
	moved := make(chan result, 1)
	go func() {
		reply, err := g.r.Clock.Advance(withDeadline(t, time.Minute), to)
		moved <- result{reply.Fired, err}
	}()
	killed := time.Now()
	g.startProcessor()
	var res result
	select {
	case res = <-moved:
	case <-time.After(time.Minute):
		t.Fatal("the clock move did not return within a minute of the processor's restart")
	}
	if res.err != nil || !g.r.Clock.Now.Equal(to) {
		t.Fatalf("move to %v across the restart: now %v, %v", to, g.r.Clock.Now, res.err)
	}
	t.Logf("fault=processor-kill clock move answered %.2fs after the kill", time.Since(killed).Seconds())
	again, err := g.r.Clock.Advance(withDeadline(t, time.Minute), to)
	if err != nil || again.Fired != 0 || !g.r.Clock.Now.Equal(to) {
		t.Fatalf("moving to %v again: %+v, now %v, %v; want the same time and nothing fired", to, again, g.r.Clock.Now, err)
	}
}
