package deployments

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"

	"github.com/cspreseller/csp-processor/messages"
	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
)

// The fixed users of the shipped config; every other user whose name
// starts with partnerUserPrefix is a partner's user.
const (
	processorUser     = "processor"
	billingUser       = "billing"
	upstreamUser      = "upstream"
	simulatorUser     = "simulator"
	portalUser        = "customer-portal"
	operatorUser      = "operator"
	partnerUserPrefix = "partner-"
)

// consumerRef is a durable consumer and the user it belongs to.
type consumerRef struct{ owner, stream, name, filter string }

// firstFilter is a consumer's filter, or the first of its filters (a
// processor consumer filters on each slot of its partition).
func firstFilter(c jetstream.ConsumerConfig) string {
	if c.FilterSubject == "" && len(c.FilterSubjects) > 0 {
		return c.FilterSubjects[0]
	}
	return c.FilterSubject
}

// partnerUser is a partner's user: the partner and role its subjects carry.
type partnerUser struct{ partner, role string }

// site is the shipped NATS with the real set-up done: the processor's
// streams and command consumers, billing's and every partner's consumer.
type site struct {
	*natsSite
	clients   map[string]*natsClient
	partners  map[string]partnerUser // by user
	consumers []consumerRef
	streams   bus.StreamsConfig
}

func setUpSite(t *testing.T) *site {
	t.Helper()
	s := &site{natsSite: startShippedNATS(t), clients: map[string]*natsClient{}, partners: map[string]partnerUser{},
		streams: bus.StreamsConfig{}.WithDefaults()}
	for _, name := range s.names {
		s.clients[name] = s.connect(t, name)
		if strings.HasPrefix(name, partnerUserPrefix) {
			s.partners[name] = partnerOf(t, s.users[name])
		}
	}
	for _, name := range []string{processorUser, billingUser, upstreamUser, simulatorUser, portalUser, operatorUser} {
		if s.clients[name] == nil {
			t.Fatalf("the shipped config has no user %q", name)
		}
	}
	if len(s.partners) < 2 {
		t.Fatalf("the shipped config has %d partner users; two are needed to test one against the other", len(s.partners))
	}

	proc := s.clients[processorUser]
	if err := bus.EnsureStreams(ctxT(t), proc.js, proc.nc, s.streams); err != nil {
		t.Fatalf("processor: EnsureStreams: %v", err)
	}
	if _, err := bus.EnsureConsumers(ctxT(t), proc.js, s.streams, bus.SubscriberConfig{}); err != nil {
		t.Fatalf("processor: EnsureConsumers: %v", err)
	}
	for _, p := range []int{0, s.streams.Partitions - 1} {
		s.consumers = append(s.consumers, consumerRef{processorUser, s.streams.CommandStream,
			bus.ConsumerName(bus.DefaultConsumerPrefix, p, s.streams.Partitions), bus.PartitionFilters(p, s.streams.Partitions)[0]})
	}
	s.consumers = append(s.consumers, consumerRef{billingUser, s.streams.EventStream, billingUser, messages.EventSubjectPrefix + ".>"})
	for _, name := range s.names {
		if p, ok := s.partners[name]; ok {
			s.consumers = append(s.consumers, consumerRef{name, s.streams.EventStream, name, eventsOf(p.partner)})
		}
	}
	for _, c := range s.consumers[2:] {
		if _, err := s.clients[c.owner].js.CreateOrUpdateConsumer(ctxT(t), c.stream, jetstream.ConsumerConfig{
			Durable: c.name, FilterSubject: c.filter, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatalf("%s: create its consumer %s: %v", c.owner, c.name, err)
		}
	}
	return s
}

// partnerOf reads a partner user's partner and role from its first command
// permission, csp.cmd.<partner>.<role>.>.
func partnerOf(t *testing.T, u *server.User) partnerUser {
	t.Helper()
	if u.Permissions != nil && u.Permissions.Publish != nil {
		for _, s := range u.Permissions.Publish.Allow {
			if tok := strings.Split(s, "."); len(tok) == 5 && tok[0]+"."+tok[1] == messages.CommandSubjectPrefix && tok[4] == ">" {
				return partnerUser{partner: tok[2], role: tok[3]}
			}
		}
	}
	t.Fatalf("partner user %s: no csp.cmd.<partner>.<role>.> permission", u.Username)
	return partnerUser{}
}

func eventsOf(partner string) string { return messages.EventSubjectPrefix + "." + partner + ".>" }

func command(partner, role, typ string) string {
	return messages.CommandSubjectPrefix + "." + partner + "." + role + ".C-1." + typ
}

// consumerAttacks are the ways to use, change or remove consumer c.
func consumerAttacks(c consumerRef) []attempt {
	api := "$JS.API.CONSUMER."
	id := c.stream + "." + c.name
	return []attempt{
		pub("pull from "+c.name, api+"MSG.NEXT."+id),
		pub("ack for "+c.name, "$JS.ACK."+id+".1.1.1.1700000000000000000.0"),
		pub("ack (v2 format) for "+c.name, "$JS.ACK._.HASH."+id+".1.1.1.1700000000000000000.0"),
		pub("create "+c.name+" without a filter", api+"CREATE."+id),
		pub("create "+c.name+" on every event", api+"CREATE."+id+"."+messages.EventSubjectPrefix+".>"),
		pub("update "+c.name+"'s filter", api+"CREATE."+id+"."+c.filter),
		pub("legacy create of "+c.name, api+"DURABLE.CREATE."+id),
		pub("delete "+c.name, api+"DELETE."+id),
		pub("info of "+c.name, api+"INFO."+id),
		pub("pause "+c.name, api+"PAUSE."+id),
		pub("reset "+c.name, api+"RESET."+id),
		pub("unpin "+c.name, api+"UNPIN."+id),
		pub("move "+c.name+"'s leader", api+"LEADER.STEPDOWN."+id),
	}
}

// streamAttacks change a stream or read its messages around the consumers.
func streamAttacks(stream string) []attempt {
	api := "$JS.API."
	return []attempt{
		pub("create stream "+stream, api+"STREAM.CREATE."+stream),
		pub("update stream "+stream, api+"STREAM.UPDATE."+stream),
		pub("delete stream "+stream, api+"STREAM.DELETE."+stream),
		pub("purge stream "+stream, api+"STREAM.PURGE."+stream),
		pub("delete a message of "+stream, api+"STREAM.MSG.DELETE."+stream),
		pub("get a message of "+stream, api+"STREAM.MSG.GET."+stream),
		pub("direct get from "+stream, api+"DIRECT.GET."+stream),
		pub("direct get by subject from "+stream, api+"DIRECT.GET."+stream+"."+messages.EventSubjectPrefix+".P-1001.C-1.x"),
	}
}

// leaseAttacks read, write, follow or remove the processor's partition
// leases (messages/bus/lease): a lease written by anyone else would stop
// the processor working a partition.
func leaseAttacks() []attempt {
	stream := "KV_" + lease.DefaultBucket
	keys := "$KV." + lease.DefaultBucket
	api := "$JS.API."
	return []attempt{
		pub("write a lease", keys+".partition.0"),
		pub("write a member key", keys+".member.intruder"),
		pub("read a lease", api+"DIRECT.GET."+stream+"."+keys+".partition.0"),
		pub("read a lease by sequence", api+"DIRECT.GET."+stream),
		pub("get a lease message", api+"STREAM.MSG.GET."+stream),
		pub("delete a lease message", api+"STREAM.MSG.DELETE."+stream),
		pub("info of the lease bucket", api+"STREAM.INFO."+stream),
		pub("create the lease bucket", api+"STREAM.CREATE."+stream),
		pub("update the lease bucket", api+"STREAM.UPDATE."+stream),
		pub("purge the lease bucket", api+"STREAM.PURGE."+stream),
		pub("delete the lease bucket", api+"STREAM.DELETE."+stream),
		pub("watch the leases", api+"CONSUMER.CREATE."+stream),
		pub("watch the leases with a filter", api+"CONSUMER.CREATE."+stream+".w."+keys+".>"),
		pub("pull the leases", api+"CONSUMER.MSG.NEXT."+stream+".w"),
		sub("read lease writes", keys+".>"),
	}
}

// refusedFor lists everything user must be refused in the site: every
// other user's consumers and inbox, the streams' configuration and stored
// messages (except the processor's own), other actors' commands and
// queries, the processor's subjects, the simulated clock.
func refusedFor(s *site, user string) []attempt {
	var out []attempt
	for _, c := range s.consumers {
		if c.owner != user {
			out = append(out, consumerAttacks(c)...)
		}
	}
	out = append(out, sub("read every inbox", "_INBOX.>"))
	for _, other := range s.names {
		if other != user {
			out = append(out, sub("read "+other+"'s inbox", "_INBOX."+other+".>"))
		}
	}
	out = append(out,
		pub("create a stream", "$JS.API.STREAM.CREATE.STOLEN"),
		sub("read every event", messages.EventSubjectPrefix+".>"),
		sub("read every command", messages.CommandSubjectPrefix+".>"),
		sub("read dead letters", messages.DeadLetterPrefix+".>"),
	)
	for _, st := range []string{s.streams.CommandStream, s.streams.EventStream, s.streams.DeadLetterStream} {
		for _, a := range streamAttacks(st) {
			// The processor owns its streams' configuration; it too must
			// not read or delete stored messages directly, but for the
			// dead letters the operator service reads and removes.
			if user == processorUser && (!strings.Contains(a.subject, ".MSG.") && !strings.Contains(a.subject, ".DIRECT.") ||
				st == s.streams.DeadLetterStream && strings.Contains(a.subject, ".MSG.")) {
				continue
			}
			// The simulator reads every event through ordered consumers
			// anyway; it gets the last one's sequence directly.
			if user == simulatorUser && a.subject == "$JS.API.STREAM.MSG.GET."+s.streams.EventStream {
				continue
			}
			out = append(out, a)
		}
	}
	if user != simulatorUser {
		out = append(out, pub("move the simulated clock", messages.SimClockSubject),
			pub("move a test clock", messages.TestClockSubject))
	}
	if user != processorUser {
		out = append(out, leaseAttacks()...)
		out = append(out, operatorServiceAttacks()...)
	}
	if user != operatorUser {
		out = append(out, operatorCalls()...)
	}
	if user == processorUser {
		// It publishes commands (its timers, the operator's replays) and
		// answers queries, but asks none.
		return append(out, pub("query as a partner", messages.QuerySubject("P-1001", messages.RoleAdminAgent, "C-1", "x")))
	}
	out = append(out,
		pub("command as the processor's timers", command(messages.SystemPartner, string(messages.RoleSystem), "timer.fired")),
		pub("forge an event", messages.EventSubjectPrefix+".P-1001.C-1.billing.charged"),
		pub("forge a dead letter", messages.DeadLetterPrefix+".P-1001.C-1.x"),
		sub("answer the simulated clock", messages.SimClockSubject),
		sub("answer the test clocks", messages.TestClockSubject),
		sub("answer every query", messages.QuerySubjectPrefix+".>"),
	)
	own, isPartner := s.partners[user]
	for _, name := range s.names {
		p, ok := s.partners[name]
		if !ok || name == user {
			continue
		}
		if user != upstreamUser && user != simulatorUser {
			out = append(out,
				pub("command as "+p.partner, command(p.partner, p.role, "subscription.cancel")),
				pub("query as "+p.partner, messages.QuerySubject(p.partner, messages.Role(p.role), "C-1", "x")))
		}
		if user != portalUser && (!isPartner || own.partner != p.partner) {
			out = append(out, sub("read "+p.partner+"'s events", eventsOf(p.partner)))
		}
	}
	switch {
	case isPartner:
		other := messages.RoleGlobalAdmin
		if own.role == string(other) {
			other = messages.RoleSalesAgent
		}
		self := s.streams.EventStream + "." + user
		out = append(out,
			pub("command in another role", command(own.partner, string(other), "subscription.cancel")),
			pub("query in another role", messages.QuerySubject(own.partner, other, "C-1", "x")),
			pub("command as a customer", command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "customer.relationship.accept")),
			pub("point its consumer at another partner", "$JS.API.CONSUMER.CREATE."+self+"."+eventsOf("P-9999")),
			pub("point its consumer at every event", "$JS.API.CONSUMER.CREATE."+self+"."+messages.EventSubjectPrefix+".>"),
			pub("create its consumer without a filter in the subject", "$JS.API.CONSUMER.CREATE."+self),
			pub("create its consumer the legacy way", "$JS.API.CONSUMER.DURABLE.CREATE."+self),
			pub("create a consumer of another name", "$JS.API.CONSUMER.CREATE."+s.streams.EventStream+".spare."+eventsOf(own.partner)),
			sub("read the customer portal's events", eventsOf(messages.CustomerActor)),
		)
	case user == billingUser:
		out = append(out,
			pub("create its consumer the legacy way", "$JS.API.CONSUMER.DURABLE.CREATE."+s.streams.EventStream+"."+billingUser),
			pub("create a consumer of another name", "$JS.API.CONSUMER.CREATE."+s.streams.EventStream+".spare"),
			pub("command as a customer", command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "customer.relationship.accept")),
			pub("command as upstream", command("P-1001", "admin_agent", "subscription.cancel")))
	case user == upstreamUser:
		out = append(out,
			pub("command as a customer", command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "customer.relationship.accept")),
			pub("query", messages.QuerySubject("P-1001", messages.RoleAdminAgent, "C-1", "x")),
			pub("create a consumer", "$JS.API.CONSUMER.CREATE."+s.streams.EventStream+".spare"))
	case user == portalUser:
		out = append(out,
			pub("another customer command", command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "subscription.cancel")),
			pub("accept in another role", command(messages.CustomerActor, string(messages.RoleAdminAgent), "customer.relationship.accept")),
			pub("create a consumer", "$JS.API.CONSUMER.CREATE."+s.streams.EventStream+".spare"))
	case user == operatorUser:
		// Everything it does goes through the processor's operator
		// service: no command (a replay is the service's), no query, no
		// JetStream API, no stream read, no other service.
		out = append(out,
			pub("command as a customer", command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "customer.relationship.accept")),
			pub("JetStream account info", "$JS.API.INFO"),
			pub("list the streams", "$JS.API.STREAM.NAMES"),
			pub("stream info of the dead letters", "$JS.API.STREAM.INFO."+s.streams.DeadLetterStream),
			pub("stream info of the commands", "$JS.API.STREAM.INFO."+s.streams.CommandStream),
			pub("list the command consumers", "$JS.API.CONSUMER.LIST."+s.streams.CommandStream),
			pub("read dead letters through a consumer", "$JS.API.CONSUMER.CREATE."+s.streams.DeadLetterStream+".spare."+messages.DeadLetterPrefix+".>"),
			pub("read dead letters through an unnamed consumer", "$JS.API.CONSUMER.CREATE."+s.streams.DeadLetterStream),
			pub("read events through a consumer", "$JS.API.CONSUMER.CREATE."+s.streams.EventStream+".spare"),
			pub("ask another micro service", "$SRV.INFO.another-service"))
	case user == simulatorUser:
		out = append(out,
			pub("create a consumer on the command stream", "$JS.API.CONSUMER.CREATE."+s.streams.CommandStream+".spare"),
			pub("ack on the event stream", "$JS.ACK."+s.streams.EventStream+".spare.1.1.1.1700000000000000000.0"))
	}
	return out
}

// operatorServiceAttacks impersonate the processor's operator service: a
// user answering its endpoints or its discovery would read the operator's
// requests and forge the answers.
func operatorServiceAttacks() []attempt {
	return []attempt{
		sub("answer the operator service", messages.OperatorSubjectPrefix+".>"),
		sub("answer a dead-letter replay", messages.OpsSubjectDLQReplay),
		sub("answer micro discovery", "$SRV.PING"),
		sub("answer the operator service's discovery", "$SRV.INFO."+messages.OperatorServiceName),
	}
}

// operatorCalls are the operator service's requests, which nobody but the
// operator may make: a partner asking them would read every partner's
// customers, replay or purge dead letters.
func operatorCalls() []attempt {
	return []attempt{
		pub("read a customer's state through the operator service", messages.OpsSubjectCustomer),
		pub("list dead letters", messages.OpsSubjectDLQList),
		pub("replay a dead letter", messages.OpsSubjectDLQReplay),
		pub("purge dead letters", messages.OpsSubjectDLQPurge),
		pub("discover the operator service", "$SRV.INFO."+messages.OperatorServiceName),
		pub("ping every micro service", "$SRV.PING"),
	}
}

// G6, PTN-1, ROL-1: every user of the shipped config is refused, by the
// server, everything that is not its own: other users' consumers (pull,
// ack, create, update, delete, info), the streams' configuration and stored
// messages, other partners' and roles' commands and queries, the
// processor's timer subjects and partition leases, other users' inboxes and
// the simulated clock.
// The set-up is the real one (the processor's streams and consumers,
// billing's and the partners' consumers), and afterwards every consumer
// still exists with its filter.
func TestG6_PTN1_ROL1_UsersAreRefusedWhatIsNotTheirs(t *testing.T) {
	s := setUpSite(t)
	missing, tried := make(map[string][]attempt), make(map[string]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, user := range s.names {
		attempts := refusedFor(s, user)
		tried[user] = len(attempts)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := s.clients[user].tryAll(attempts)
			if err != nil {
				m = append(m, attempt{what: err.Error()})
			}
			mu.Lock()
			missing[user] = m
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, user := range s.names {
		t.Run(user, func(t *testing.T) {
			t.Logf("%d attempts, %d not refused", tried[user], len(missing[user]))
			for _, a := range missing[user] {
				t.Errorf("%s was not refused: %s (%s)", user, a.what, a.subject)
			}
		})
	}
	for _, c := range s.consumers {
		info, err := s.clients[c.owner].js.Consumer(ctxT(t), c.stream, c.name)
		if err != nil {
			t.Errorf("%s's consumer %s after the attacks: %v", c.owner, c.name, err)
		} else if f := firstFilter(info.CachedInfo().Config); f != c.filter {
			t.Errorf("%s's consumer %s filters %q after the attacks, want %q", c.owner, c.name, f, c.filter)
		}
	}
}

// G6: each user can do its own job with the shipped permissions and its own
// inbox prefix (else a config refusing everything would pass the test
// above): PubAcks, pulls, acks and query replies reach the custom inboxes,
// and the processor answers through allow_responses.
func TestG6_UsersCanDoTheirOwnJobs(t *testing.T) {
	s := setUpSite(t)
	ctx := ctxT(t)
	proc := s.clients[processorUser]

	// The processor answers queries and the clock (allow_responses).
	for _, subject := range []string{messages.QuerySubjectPrefix + ".>", messages.SimClockSubject, messages.TestClockSubject} {
		if _, err := proc.nc.Subscribe(subject, func(m *nats.Msg) { _ = m.Respond([]byte("answer to " + m.Subject)) }); err != nil {
			t.Fatal(err)
		}
	}
	portal := s.clients[portalUser]
	portalEvents, err := portal.nc.SubscribeSync(eventsOf(messages.CustomerActor))
	if err != nil {
		t.Fatal(err)
	}
	if err := portal.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	events := []string{messages.EventSubjectPrefix + "." + messages.CustomerActor + ".C-1.relationship.requested"}
	for _, name := range s.names {
		if p, ok := s.partners[name]; ok {
			events = append(events, messages.EventSubjectPrefix+"."+p.partner+".C-1.subscription.created")
		}
	}
	for _, subject := range append(events, messages.DeadLetterPrefix+".P-1001.C-1.x",
		command(messages.SystemPartner, string(messages.RoleSystem), "timer.fired")) {
		if _, err := proc.js.Publish(ctx, subject, []byte("{}")); err != nil {
			t.Fatalf("processor: publish %s: %v", subject, err)
		}
	}
	if m, err := portalEvents.NextMsg(5 * time.Second); err != nil || m.Subject != events[0] {
		t.Fatalf("customer portal: read its event: %v %v", m, err)
	}

	// Commands and queries as themselves; PubAcks come to each one's inbox.
	ask := func(c *natsClient, subject string) {
		t.Helper()
		m, err := c.nc.Request(subject, nil, 5*time.Second)
		if err != nil || string(m.Data) != "answer to "+subject {
			t.Fatalf("%s: request %s: %v %v", c.user, subject, m, err)
		}
	}
	send := func(c *natsClient, subject string) {
		t.Helper()
		if _, err := c.js.Publish(ctx, subject, []byte("{}")); err != nil {
			t.Fatalf("%s: command %s: %v", c.user, subject, err)
		}
	}
	accept := command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "customer.relationship.accept")
	send(portal, accept)
	send(portal, command(messages.CustomerActor, string(messages.RoleCustomerAdmin), "customer.relationship.decline"))
	send(s.clients[upstreamUser], command("P-2002", "sales_agent", "order.placed"))
	sim := s.clients[simulatorUser]
	send(sim, accept)
	send(sim, command("P-1001", "global_admin", "order.placed"))
	ask(sim, messages.SimClockSubject)
	ask(sim, messages.TestClockSubject)
	ask(sim, messages.QuerySubject("P-2002", messages.RoleAdminAgent, "C-1", "reducible_quantity"))
	operatorCallsTheService(t, proc, s.clients[operatorUser])

	// The operator service reads and removes dead letters with the
	// processor's user, and a replay publishes a command as its partner.
	dls := bus.DeadLetters{JS: proc.js, Stream: s.streams.DeadLetterStream}
	first, err := dls.Next(ctx, 1, "")
	if err != nil {
		t.Fatalf("processor: read the first dead letter: %v", err)
	}
	if err := dls.Delete(ctx, first.Sequence); err != nil {
		t.Fatalf("processor: remove dead letter %d: %v", first.Sequence, err)
	}
	if _, err := proc.js.Publish(ctx, messages.DeadLetterPrefix+".internal_error", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	below, count, err := dls.StoredBefore(ctx, time.Now().Add(time.Hour))
	if err != nil || count != 1 {
		t.Fatalf("processor: dead letters stored before now: %d, %v", count, err)
	}
	if err := dls.PurgeBelow(ctx, below); err != nil {
		t.Fatalf("processor: purge the dead letters: %v", err)
	}
	send(proc, command("P-2002", "admin_agent", "subscription.cancel"))

	// Pull and ack through its own consumer; DoubleAck waits for the
	// server's confirmation, so an ack refused would fail here.
	pullOwn := func(c *natsClient, stream, consumer string, want int, prefix string) {
		t.Helper()
		cons, err := c.js.Consumer(ctx, stream, consumer)
		if err != nil {
			t.Fatalf("%s: info of %s: %v", c.user, consumer, err)
		}
		batch, err := cons.Fetch(want, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			if !strings.HasPrefix(m.Subject(), prefix) {
				t.Errorf("%s read %s through %s", c.user, m.Subject(), consumer)
			}
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatalf("%s: ack: %v", c.user, err)
			}
			n++
		}
		if n != want || batch.Error() != nil {
			t.Fatalf("%s: pulled %d of %d through %s: %v", c.user, n, want, consumer, batch.Error())
		}
	}
	for _, name := range s.names {
		p, ok := s.partners[name]
		if !ok {
			continue
		}
		c := s.clients[name]
		send(c, command(p.partner, p.role, "subscription.cancel"))
		ask(c, messages.QuerySubject(p.partner, messages.Role(p.role), "C-1", "reducible_quantity"))
		pullOwn(c, s.streams.EventStream, name, 1, messages.EventSubjectPrefix+"."+p.partner+".")
		// Narrow its filter to one customer, then remove the consumer.
		if _, err := c.js.CreateOrUpdateConsumer(ctx, s.streams.EventStream, jetstream.ConsumerConfig{
			Durable: name, FilterSubject: messages.EventSubjectPrefix + "." + p.partner + ".C-1.>", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
			t.Fatalf("%s: update its consumer: %v", name, err)
		}
		if err := c.js.DeleteConsumer(ctx, s.streams.EventStream, name); err != nil {
			t.Fatalf("%s: delete its consumer: %v", name, err)
		}
	}

	billing := s.clients[billingUser]
	if _, err := billing.js.Stream(ctx, s.streams.EventStream); err != nil {
		t.Fatalf("billing: stream info: %v", err)
	}
	pullOwn(billing, s.streams.EventStream, billingUser, len(events), messages.EventSubjectPrefix+".")
	if _, err := billing.js.CreateOrUpdateConsumer(ctx, s.streams.EventStream, jetstream.ConsumerConfig{
		Durable: billingUser, FilterSubjects: []string{eventsOf("P-1001"), eventsOf("P-2002")}, AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatalf("billing: update its consumer to two filters: %v", err)
	}
	if err := billing.js.DeleteConsumer(ctx, s.streams.EventStream, billingUser); err != nil {
		t.Fatalf("billing: delete its consumer: %v", err)
	}

	// The simulator reads every event through an ordered consumer.
	oc, err := sim.js.OrderedConsumer(ctx, s.streams.EventStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("simulator: ordered consumer: %v", err)
	}
	for range events {
		if _, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second)); err != nil {
			t.Fatalf("simulator: read events: %v", err)
		}
	}

	// The processor pulls and acks its commands: C-1's partition holds the
	// commands sent above.
	p := bus.PartitionOf("C-1", s.streams.Partitions)
	pullOwn(proc, s.streams.CommandStream, bus.ConsumerName(bus.DefaultConsumerPrefix, p, s.streams.Partitions), 1,
		messages.PartitionSubjectPrefix+fmt.Sprintf(".%d.", bus.SlotOf("C-1")))

	// The processor holds every partition's lease, gives them up, and
	// takes them again (a Create over deleted keys reads them first).
	for _, replica := range []string{"first", "second"} {
		keeper, err := lease.NewKeeper(proc.js, lease.Config{ReplicaID: replica, Partitions: s.streams.Partitions}, &partitionOwner{})
		if err != nil {
			t.Fatal(err)
		}
		if err := keeper.Start(); err != nil {
			t.Fatalf("processor: start a lease keeper: %v", err)
		}
		poll := time.NewTicker(10 * time.Millisecond)
		for deadline := time.Now().Add(20 * time.Second); len(keeper.Owned()) < s.streams.Partitions && time.Now().Before(deadline); {
			<-poll.C
		}
		poll.Stop()
		if n := len(keeper.Owned()); n != s.streams.Partitions {
			t.Errorf("processor: lease keeper %s owns %d of %d partitions", replica, n, s.streams.Partitions)
		}
		if err := keeper.Shutdown(ctx); err != nil {
			t.Errorf("processor: shut lease keeper %s down: %v", replica, err)
		}
	}

	for _, name := range s.names {
		s.clients[name].noRefusals(t)
	}
}

// operatorCallsTheService registers the operator service on the
// processor's connection as the processor does (a micro service in its
// queue group), and the operator finds it through micro's discovery and
// calls an endpoint: the shipped permissions let the processor subscribe
// to the endpoint and discovery subjects and answer them, and the operator
// ask them.
func operatorCallsTheService(t *testing.T, proc, op *natsClient) {
	t.Helper()
	svc, err := micro.AddService(proc.nc, micro.Config{Name: messages.OperatorServiceName,
		Version: messages.OperatorServiceVersion, QueueGroup: messages.OperatorServiceName})
	if err != nil {
		t.Fatalf("processor: add the operator service: %v", err)
	}
	t.Cleanup(func() { _ = svc.Stop() })
	if err := svc.AddEndpoint("dlq_replay", micro.HandlerFunc(func(r micro.Request) {
		_ = r.Respond([]byte("answer to " + r.Subject()))
	}), micro.WithEndpointSubject(messages.OpsSubjectDLQReplay)); err != nil {
		t.Fatal(err)
	}
	if err := proc.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	m, err := op.nc.Request(messages.OpsSubjectDLQReplay, []byte(`{"seq":1}`), 5*time.Second)
	if err != nil || string(m.Data) != "answer to "+messages.OpsSubjectDLQReplay {
		t.Fatalf("operator: call %s: %v %v", messages.OpsSubjectDLQReplay, m, err)
	}
	id := svc.Info().ID
	for _, subject := range []string{"$SRV.PING", "$SRV.INFO." + messages.OperatorServiceName,
		"$SRV.STATS." + messages.OperatorServiceName + "." + id} {
		m, err := op.nc.Request(subject, nil, 5*time.Second)
		if err != nil {
			t.Fatalf("operator: %s: %v", subject, err)
		}
		var who micro.ServiceIdentity
		if err := json.Unmarshal(m.Data, &who); err != nil || who.Name != messages.OperatorServiceName || who.ID != id {
			t.Fatalf("operator: %s answered %s (%v)", subject, m.Data, err)
		}
	}
}

// partitionOwner accepts every lease (the keeper's Owner).
type partitionOwner struct{}

func (*partitionOwner) Acquire(context.Context, lease.Lease) error { return nil }
func (*partitionOwner) Release(context.Context, int) error         { return nil }
