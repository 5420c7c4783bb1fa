package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Consumer leaders on a JetStream cluster.
//
// A consumer's leader is the node that serves its pulls and acks. When a
// node dies, the consumers it led elect leaders among the others, and a
// node that comes back leads nothing: after a few restarts most of the
// command consumers are led by one node (27 of 32 was seen), which then
// carries the whole processing load and whose death stalls every
// partition at once. SpreadConsumerLeaders moves leaders back, with
// JetStream's leader step-down and a preferred new leader.

// LeaderPlacement is one consumer's leader and the servers that hold a
// current replica of it (the leader included).
type LeaderPlacement struct {
	Consumer string
	Leader   string
	Replicas []string
}

// ConsumerLeaders reads each consumer's leader and current replicas.
func ConsumerLeaders(ctx context.Context, js jetstream.JetStream, stream string, consumers []string) ([]LeaderPlacement, error) {
	out := make([]LeaderPlacement, 0, len(consumers))
	for _, name := range consumers {
		c, err := js.Consumer(ctx, stream, name)
		if err != nil {
			return nil, fmt.Errorf("bus: consumer %s: %w", name, err)
		}
		ci := c.CachedInfo().Cluster
		if ci == nil || ci.Leader == "" {
			out = append(out, LeaderPlacement{Consumer: name})
			continue
		}
		lp := LeaderPlacement{Consumer: name, Leader: ci.Leader, Replicas: []string{ci.Leader}}
		for _, r := range ci.Replicas {
			if r.Current && !r.Offline {
				lp.Replicas = append(lp.Replicas, r.Name)
			}
		}
		out = append(out, lp)
	}
	return out, nil
}

// SpreadConsumerLeaders moves the leaders of the stream's consumers until
// no server leads more than its share (the consumers divided by the
// servers holding them, rounded up), each moved consumer to the server
// among its current replicas that leads the fewest. It returns how many it
// asked to step down; the new leaders are elected shortly after. A
// single-server stream has nothing to spread. Safe to run from every
// replica at start-up: a consumer whose leader moved meanwhile is only
// moved again when it is still on a server above its share.
func SpreadConsumerLeaders(ctx context.Context, js jetstream.JetStream, stream string, consumers []string) (int, error) {
	placements, err := ConsumerLeaders(ctx, js, stream, consumers)
	if err != nil {
		return 0, err
	}
	led := map[string]int{}
	for _, p := range placements {
		for _, r := range p.Replicas {
			if _, ok := led[r]; !ok {
				led[r] = 0
			}
		}
		if p.Leader != "" {
			led[p.Leader]++
		}
	}
	if len(led) < 2 {
		return 0, nil
	}
	share := (len(placements) + len(led) - 1) / len(led)
	moved := 0
	for _, p := range placements {
		if p.Leader == "" || led[p.Leader] <= share {
			continue
		}
		to := ""
		for _, r := range p.Replicas {
			if r != p.Leader && led[r] < share && (to == "" || led[r] < led[to]) {
				to = r
			}
		}
		if to == "" {
			continue
		}
		if err := stepDownConsumer(ctx, js, stream, p.Consumer, to); err != nil {
			return moved, err
		}
		led[p.Leader]--
		led[to]++
		moved++
	}
	return moved, nil
}

// stepDownTimeout bounds one step-down request (a refused one, such as a
// permission violation, gets no answer at all).
const stepDownTimeout = 5 * time.Second

// stepDownConsumer asks consumer's leader to hand over to the server named
// to.
func stepDownConsumer(ctx context.Context, js jetstream.JetStream, stream, consumer, to string) error {
	body, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": to}})
	subject := jetstream.DefaultAPIPrefix + "CONSUMER.LEADER.STEPDOWN." + stream + "." + consumer
	ctx, cancel := context.WithTimeout(ctx, stepDownTimeout)
	defer cancel()
	msg, err := js.Conn().RequestWithContext(ctx, subject, body)
	if err != nil {
		return fmt.Errorf("bus: step down the leader of consumer %s: %w", consumer, err)
	}
	var resp struct {
		Success bool                `json:"success"`
		Error   *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("bus: step down the leader of consumer %s: %q: %w", consumer, msg.Data, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("bus: step down the leader of consumer %s to %s: %w", consumer, to, resp.Error)
	}
	if !resp.Success {
		return fmt.Errorf("bus: step down the leader of consumer %s: refused", consumer)
	}
	return nil
}

// SpreadCommandConsumerLeaders spreads the leaders of the command stream's
// consumers named with prefix (SubscriberConfig.ConsumerPrefix), as
// SpreadConsumerLeaders does. Nothing to do on a single server or before
// the consumers exist.
func SpreadCommandConsumerLeaders(ctx context.Context, js jetstream.JetStream, streams StreamsConfig, prefix string) (int, error) {
	streams = streams.WithDefaults()
	if streams.Replicas < 2 {
		return 0, nil
	}
	s, err := js.Stream(ctx, streams.CommandStream)
	if err != nil {
		return 0, fmt.Errorf("bus: look up stream %s: %w", streams.CommandStream, err)
	}
	lister := s.ConsumerNames(ctx)
	var names []string
	for name := range lister.Name() {
		if strings.HasPrefix(name, prefix+"-") {
			names = append(names, name)
		}
	}
	if err := lister.Err(); err != nil {
		return 0, fmt.Errorf("bus: list the consumers of %s: %w", streams.CommandStream, err)
	}
	return SpreadConsumerLeaders(ctx, js, streams.CommandStream, names)
}
