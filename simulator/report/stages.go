package report

import "time"

// Timeline is one command's way through the system, each instant taken
// where it happens (zero: not known):
//
//	Published  the simulator handed the command to the NATS client
//	Stored     the simulator received JetStream's PubAck: the command is in the stream
//	Committed  the processor's commit script returned (the event header Csp-Committed-At, the processor's clock)
//	Received   the simulator received the command's first event
//
// The instants of one machine's clock, or of clocks kept in step: a stage
// across two machines includes their difference.
type Timeline struct {
	Published, Stored, Committed, Received time.Time
}

// The stages of a command's way, in order, and the whole of it.
const (
	StagePublishedStored   = "published → stored"
	StageStoredCommitted   = "stored → committed"
	StageCommittedReceived = "committed → received"
	StagePublishedReceived = "published → received"
)

var stageNames = [...]string{StagePublishedStored, StageStoredCommitted, StageCommittedReceived, StagePublishedReceived}

// StageLatency is the time commands spent in one stage.
type StageLatency struct {
	Stage string        `json:"stage"`
	Count int64         `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns"` // exact
	// Negative counts commands whose stage ended before it began (counted
	// as 0): the simulator handled a PubAck after the processor had
	// committed the command, or the clocks disagree.
	Negative int64 `json:"negative"`
}

// stageBook holds the stage histograms, made on first use.
type stageBook struct {
	parts         [len(stageNames)]*latencies
	negative      [len(stageNames)]int64
	withoutCommit int64
}

func (b *stageBook) record(i int, from, to time.Time) {
	if from.IsZero() || to.IsZero() {
		return
	}
	if b.parts[i] == nil {
		b.parts[i] = newLatencies()
	}
	d := to.Sub(from)
	if d < 0 {
		b.negative[i]++
		d = 0
	}
	b.parts[i].record(d)
}

// Stages records one command's timeline: each stage whose two ends are
// known, and the whole way. A timeline without Published or Received is
// not a completed command and is ignored.
func (r *Recorder) Stages(tl Timeline) {
	if tl.Published.IsZero() || tl.Received.IsZero() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := &r.stages
	b.record(0, tl.Published, tl.Stored)
	b.record(1, tl.Stored, tl.Committed)
	b.record(2, tl.Committed, tl.Received)
	b.record(3, tl.Published, tl.Received)
	if tl.Committed.IsZero() {
		b.withoutCommit++
	}
}

// stageLatencies are the stages in order; none before a timeline was
// recorded. Caller holds r.mu.
func (r *Recorder) stageLatencies() []StageLatency {
	var out []StageLatency
	for i, l := range r.stages.parts {
		if l == nil {
			continue
		}
		out = append(out, StageLatency{Stage: stageNames[i], Count: l.count(), P50: l.at(50), P99: l.at(99), Max: l.max,
			Negative: r.stages.negative[i]})
	}
	return out
}
