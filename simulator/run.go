package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/handlers/catalog"
	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator/model"
	"github.com/cspreseller/csp-processor/simulator/procstat"
	"github.com/cspreseller/csp-processor/simulator/report"
)

// LoadConfig shapes a run.
type LoadConfig struct {
	// Rate is the open-loop target in commands per second: command k of a
	// step is published at the step's start + k/Rate whatever the answers
	// do (0: as fast as the publisher goes).
	Rate float64
	// Customers is the pool the generator spreads commands over; each
	// customer gets at most one command per step.
	Customers int
	// CommandsPerStep is how many commands one step sends (default:
	// Rate × StepReal, capped by Customers).
	CommandsPerStep int
	// StepReal is the wall time one step's commands are spread over when
	// Rate is set.
	StepReal time.Duration
	// StepSim is how far the simulated clock moves between steps.
	StepSim time.Duration
	// Start is the simulated time of the first step; End stops the run
	// when the simulated clock reaches it; Duration stops it after that
	// much wall time. At least one of End and Duration must be set.
	Start, End time.Time
	Duration   time.Duration
	// Stop, when closed, ends the run after the step under way (nil: never),
	// so that whoever drives the run from outside — a fault test ending the
	// load once its faults are over — need not guess a duration.
	Stop <-chan struct{}
	// RunID prefixes customer IDs so that runs against one processor
	// never share a customer.
	RunID string
	Seed  uint64
	// OutcomeTimeout is how long after a step's last command the run
	// waits for every command's first event; a command without one by
	// then is counted lost (default 60 s, ledger_lost.go).
	OutcomeTimeout time.Duration
	// Progress receives a live progress line every second (nil: none).
	Progress io.Writer
	// TestClockEvery puts every n-th customer of a load run on a test
	// clock one step behind the global clock (testclock_load.go; 0: the
	// default, 20; negative: none).
	TestClockEvery int
	// Processes, when set, names the processes whose CPU and memory the
	// report samples every SampleEvery (default 1 s) during the run; it is
	// asked at every sample, so a restarted process is followed.
	Processes   func() []procstat.Group
	SampleEvery time.Duration
}

// Runner drives one run: it generates commands, publishes them at the
// target rate with the simulated time, waits for their events, checks
// every outcome and amount against the model, and moves the clock.
type Runner struct {
	NC *nats.Conn
	JS jetstream.JetStream
	// pub publishes the commands: JS's settings with an ack handler that
	// times each command's PubAck (ledger_stages.go).
	pub     jetstream.JetStream
	Streams bus.StreamsConfig
	Model   *model.Model
	Gen     *Generator
	Ledger  *Ledger
	Rec     *report.Recorder
	Clock   *Clock
	// Checked counts the billing events compared with the model;
	// CheckedBy splits them by "reason <billing reason>", by
	// "partner <partner of record>" and by "rule <ID>" (the money rules
	// each reached, see model.MoneyRules).
	Checked   int64
	CheckedBy map[string]int64
	// Kinds counts the commands sent by mix kind.
	Kinds    map[string]int64
	diverged map[string]bool
	// parked are the commands the processor deferred (REN-4), until the
	// model settles them (reconcile_parked.go).
	parked map[*model.Parked]Action
	// Deferred counts the commands deferred as the model predicted;
	// Settled those of them checked once their renewal completed.
	Deferred, Settled int64
	customers         []*model.Customer
	sent              int64
	runStart          time.Time
	// stepStart and stepSent pace the current step's commands (publish).
	stepStart time.Time
	stepSent  int64
	cfg       LoadConfig
	notices   noticeBook // reconcile_notices.go
	// commands is the command stream, polled by drain.
	commands jetstream.Stream
	// testClocks are the run's test clocks (testclock_load.go);
	// TestClockAdvances counts their advances and TestClockFired the
	// timers those fired.
	testClocks                        []string
	TestClockAdvances, TestClockFired int64
	// Times is where the steps' wall time went (steptimes.go).
	Times StepTimes
}

// Run plays random customers' lives following the generator's mix.
func (r *Runner) Run(ctx context.Context, cfg LoadConfig) error {
	if cfg.Customers <= 0 || cfg.StepSim <= 0 || (cfg.End.IsZero() && cfg.Duration <= 0) {
		return errors.New("load: customers, a simulated step and an end (simulated) or a duration (wall) are required")
	}
	if cfg.CommandsPerStep == 0 {
		cfg.CommandsPerStep = max(1, int(cfg.Rate*cfg.StepReal.Seconds()))
	}
	cfg.CommandsPerStep = min(cfg.CommandsPerStep, cfg.Customers)
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	customers := make([]*model.Customer, cfg.Customers)
	for i := range customers {
		customers[i] = r.Gen.NewCustomer(fmt.Sprintf("%s-C%06d", cfg.RunID, i))
	}
	if err := r.setUpTestClocks(ctx, cfg, customers); err != nil {
		return err
	}
	return r.steps(ctx, cfg, customers, r.randomPlan(cfg, rng, customers))
}

// Continue plays more of the same customers' lives after Run: cfg as for
// Run (its Customers is ignored), its Start not before the simulated
// clock. make bench gives customers a year of history this way, then
// puts load on them.
func (r *Runner) Continue(ctx context.Context, cfg LoadConfig) error {
	if len(r.customers) == 0 {
		return errors.New("continue: no customers (Run first)")
	}
	if cfg.StepSim <= 0 || (cfg.End.IsZero() && cfg.Duration <= 0) {
		return errors.New("continue: a simulated step and an end (simulated) or a duration (wall) are required")
	}
	if cfg.Start.Before(r.Clock.Now) {
		return fmt.Errorf("continue: start %s is before the simulated clock's %s", cfg.Start.Format(time.RFC3339), r.Clock.Now.Format(time.RFC3339))
	}
	if cfg.CommandsPerStep == 0 {
		cfg.CommandsPerStep = max(1, int(cfg.Rate*cfg.StepReal.Seconds()))
	}
	cfg.CommandsPerStep = min(cfg.CommandsPerStep, len(r.customers))
	customers := r.customers
	return r.steps(ctx, cfg, customers, r.randomPlan(cfg, rand.New(rand.NewPCG(cfg.Seed, 7)), customers))
}

// Record sends what the run records from now on to rec (a phase of its
// own after Continue).
func (r *Runner) Record(rec *report.Recorder) {
	rec.ExpectRules(model.MoneyRules...)
	r.Ledger.mu.Lock()
	r.Ledger.rec = rec
	r.Ledger.mu.Unlock()
	r.Rec = rec
}

// randomPlan picks each step's customers at random, at most one command
// each, up to cfg.CommandsPerStep.
func (r *Runner) randomPlan(cfg LoadConfig, rng *rand.Rand, customers []*model.Customer) func(time.Time) ([]Action, error) {
	return func(now time.Time) ([]Action, error) {
		picked := rng.Perm(len(customers))
		actions := make([]Action, 0, cfg.CommandsPerStep)
		for _, i := range picked {
			if len(actions) == cfg.CommandsPerStep {
				break
			}
			c := customers[i]
			if r.diverged[c.ID] {
				continue
			}
			a, err := r.Gen.Next(c, r.timeOf(c, now))
			if err != nil {
				return nil, err
			}
			actions = append(actions, a)
		}
		return actions, nil
	}
}

// steps is the loop shared by load runs and scenarios: at each simulated
// instant the model's calendar moves first, the step's commands go out,
// everything they caused is awaited and checked, and the clock moves on.
func (r *Runner) steps(ctx context.Context, cfg LoadConfig, customers []*model.Customer, plan func(time.Time) ([]Action, error)) error {
	r.cfg = cfg
	r.customers = customers
	if r.diverged == nil {
		r.diverged = map[string]bool{}
	}
	if _, err := r.Clock.Advance(ctx, cfg.Start); err != nil {
		return err
	}
	r.runStart = time.Now()
	stopProgress := r.progress(cfg.Progress)
	defer stopProgress()
	defer r.sampleResources(cfg)()
	for {
		now := r.Clock.Now
		if (!cfg.End.IsZero() && !now.Before(cfg.End)) || (cfg.Duration > 0 && time.Since(r.runStart) >= cfg.Duration) {
			return nil
		}
		select {
		case <-cfg.Stop:
			return nil
		default:
		}
		timer := r.Times.begin()
		windows := r.noticeWindows(customers, now)
		var timerBills []model.Bill
		var settled []*model.Parked
		var moved []*model.Customer // those whose calendar fired a timer
		for _, c := range customers {
			if c.Created && !r.diverged[c.ID] {
				fired := c.Fired
				timerBills = append(timerBills, r.Model.AdvanceTo(c, r.timeOf(c, now))...)
				settled = append(settled, r.Model.Settled(c)...)
				if c.Fired != fired {
					moved = append(moved, c)
				}
			}
		}
		// Only the calendar opens windows between the snapshot and here,
		// and only for the customers it moved.
		r.addCalendarWindows(windows, moved, now)
		timer.done(PartCalendar)
		actions, err := plan(now)
		if err != nil {
			return err
		}
		timer.done(PartPlan)
		if err := r.publish(ctx, now, actions); err != nil {
			return err
		}
		timer.done(PartPublish)
		pause := time.Now()
		if err := r.drain(ctx); err != nil {
			return err
		}
		timer.done(PartWait)
		r.reconcile(actions, timerBills)
		r.reconcileSettled(settled)
		r.reconcileNotices(windows, now)
		timer.done(PartCheck)
		next := now.Add(cfg.StepSim)
		if _, err := r.Clock.Advance(ctx, next); err != nil {
			return err
		}
		timer.done(PartClock)
		if err := r.advanceTestClocks(ctx, next); err != nil {
			return err
		}
		timer.done(PartTestClocks)
		r.Rec.Pause(pause, time.Now())
	}
}

// publish sends the step's commands stamped with the simulated time, each
// at its open-loop instant, and waits until JetStream stored every one
// (bus.Batch: through an outage, publishing again with the same Nats-Msg-Id).
func (r *Runner) publish(ctx context.Context, now time.Time, actions []Action) error {
	stamp := now.UTC().Format(time.RFC3339Nano)
	batch := bus.NewBatch(r.pub, storeOptions())
	// Open loop within a step: its command k goes out at the step's start
	// + k/rate whatever the answers do. The pause between steps (checking,
	// moving the clock, planning) is not made up for by a burst: that would
	// measure the queue the burst builds, not the processor at the rate.
	r.stepStart, r.stepSent = time.Now(), r.sent
	for _, a := range actions {
		if r.cfg.Rate > 0 {
			due := r.stepStart.Add(time.Duration(float64(r.sent-r.stepSent) / r.cfg.Rate * float64(time.Second)))
			if wait := time.Until(due); wait > time.Millisecond {
				time.Sleep(wait) // pacing, not synchronisation
			}
		}
		partner, role := a.Partner, a.Role
		if partner == "" {
			partner = a.Customer.Partner
		}
		if role == "" {
			role = messages.RoleAdminAgent
		}
		msg, err := messages.NewCommandMsg(partner, role, a.Command)
		if err != nil {
			return err
		}
		msg.Header.Set(messages.HeaderSimulatedTime, stamp)
		at := time.Now()
		r.Ledger.Published(a.Command.ID, a.Command.Type, at)
		if err := batch.Add(msg); err != nil {
			return err
		}
		r.Rec.Sent(at)
		r.sent++
		r.Kinds[a.Kind]++
	}
	if _, err := batch.Wait(ctx); err != nil {
		return fmt.Errorf("commands not stored within %s: %w", storeBudget, err)
	}
	return nil
}

// drain returns once every command sent has been answered (or counted
// lost after the run's deadline, ledger_lost.go), the processor has
// acknowledged every command (so every event is stored) and the ledger
// has received the last stored event of every partner it follows. The
// broker's answers are waited for through an outage (brokerWait).
func (r *Runner) drain(ctx context.Context) error {
	deadline := r.cfg.OutcomeTimeout
	if deadline <= 0 {
		deadline = defaultOutcomeTimeout
	}
	answered, cancel := context.WithTimeout(ctx, deadline)
	err := r.Ledger.waitUntil(answered, func() bool { return len(r.Ledger.inFlight) == 0 })
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.Ledger.loseInFlight() // reported by reconcile, command by command
	}
	ctx, cancel = context.WithTimeout(ctx, deadline)
	defer cancel()
	if err := brokerWait(ctx, "the processor acknowledged every command", r.consumersIdle); err != nil {
		return err
	}
	var lastSeq uint64
	if err := brokerWait(ctx, "the last event's sequence", func(ctx context.Context) (bool, error) {
		seq, err := r.lastEventSeq(ctx)
		lastSeq = seq
		return err == nil, err
	}); err != nil {
		return err
	}
	if err := r.Ledger.waitUntil(ctx, func() bool { return r.Ledger.lastSeq >= lastSeq }); err != nil {
		return fmt.Errorf("the ledger did not receive the events up to sequence %d within %s: %w", lastSeq, deadline, err)
	}
	return nil
}

// consumersIdle: no command stream consumer has a command pending or
// unacknowledged.
func (r *Runner) consumersIdle(ctx context.Context) (bool, error) {
	if r.commands == nil { // looked up once: the handle outlives reconnections
		stream, err := r.JS.Stream(ctx, r.Streams.CommandStream)
		if err != nil {
			return false, err
		}
		r.commands = stream
	}
	idle := true
	lister := r.commands.ListConsumers(ctx)
	for ci := range lister.Info() {
		if ci.NumAckPending > 0 || ci.NumPending > 0 {
			idle = false
		}
	}
	if err := lister.Err(); err != nil {
		return false, err // a partial list proves nothing
	}
	return idle, nil
}

// lastEventSeq is the stream sequence of the last stored event of the
// partners the ledger follows.
func (r *Runner) lastEventSeq(ctx context.Context) (uint64, error) {
	events, err := r.JS.Stream(ctx, r.Streams.EventStream)
	if err != nil {
		return 0, err
	}
	var lastSeq uint64
	for _, p := range r.Ledger.partners {
		last, err := events.GetLastMsgForSubject(ctx, messages.EventSubjectPrefix+"."+p+".>")
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		lastSeq = max(lastSeq, last.Sequence)
	}
	return lastSeq, nil
}

// brokerWait polls check until it reports done or ctx ends. Each check
// has a short deadline of its own, and a failed one (the broker is
// restarting, the connection reconnecting) is tried again, more slowly.
func brokerWait(ctx context.Context, what string, check func(context.Context) (bool, error)) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		done, err := check(cctx)
		cancel()
		if done {
			return nil
		}
		pause := 2 * time.Millisecond // polling the broker's counters
		if err != nil {
			pause = 100 * time.Millisecond // the broker is away: ask again, gently
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting until %s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(pause):
		}
	}
}

// sampleResources samples cfg.Processes into the report until the
// returned stop is called (which takes a last sample).
func (r *Runner) sampleResources(cfg LoadConfig) (stop func()) {
	if cfg.Processes == nil {
		return func() {}
	}
	every := cfg.SampleEvery
	if every <= 0 {
		every = time.Second
	}
	return procstat.Watch(every, cfg.Processes, func(at time.Time, span time.Duration, rs []procstat.Reading) {
		for _, x := range rs {
			r.Rec.Resource(at, x.Name, x.CPU, span, x.RSS)
		}
	})
}

// progress prints the recorder's line every second until stopped.
func (r *Runner) progress(w io.Writer) func() {
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprintln(w)
				return
			case now := <-t.C:
				fmt.Fprintf(w, "\r%s  sim %s ", r.Rec.ProgressLine(now), r.Clock.Shown().Format("2006-01-02 15:04"))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// NewRunner wires a run against a processor in simulation mode: the
// model over the catalog, the generator with the mix, the ledger
// consuming the events of the partner, its transfer target and the
// customer portal, and the simulated clock.
func NewRunner(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, streams bus.StreamsConfig, cat *catalog.Catalog,
	partner string, mix Mix, seed uint64, rec *report.Recorder) (*Runner, error) {
	m := model.New(cat)
	rec.ExpectRules(model.MoneyRules...)
	// The customer portal's partner token too: a rejected customer
	// command is answered there only.
	l, err := NewLedger(ctx, js, streams.EventStream, rec, partner, TransferTarget(partner), messages.CustomerActor)
	if err != nil {
		return nil, err
	}
	pub, err := ackHandlerJetStream(nc, js, l)
	if err != nil {
		l.Stop()
		return nil, err
	}
	return &Runner{NC: nc, JS: js, pub: pub, Streams: streams, Model: m, Gen: NewGenerator(m, cat, mix, partner, seed),
		Ledger: l, Rec: rec, Clock: &Clock{NC: nc}, Kinds: map[string]int64{}}, nil
}

// Subscriptions is how many subscriptions the run's customers hold or held.
func (r *Runner) Subscriptions() int64 {
	var n int64
	for _, c := range r.customers {
		if c != nil {
			n += int64(len(c.Subs))
		}
	}
	return n
}

// LiveSubscriptions is how many of the run's subscriptions are active or
// suspended now, in the model's view.
func (r *Runner) LiveSubscriptions() int64 {
	var n int64
	for _, c := range r.customers {
		if c == nil {
			continue
		}
		for _, s := range c.Subs {
			if s.Live() {
				n++
			}
		}
	}
	return n
}
