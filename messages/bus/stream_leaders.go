package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// waitStreamLeaders returns once each of the three streams has a leader.
// A stream just created on a cluster elects its leader a moment later;
// until then a publish gets "no responders" and a consumer cannot be
// created, so a processor (or a test) that went on at once would fail its
// first steps. On a single server a stream leads itself from the start.
func waitStreamLeaders(ctx context.Context, js jetstream.JetStream, cfg StreamsConfig) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for _, name := range []string{cfg.CommandStream, cfg.EventStream, cfg.DeadLetterStream} {
		for {
			// One request at most 2 s: a cluster electing leaders may not
			// answer it at all.
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			s, err := js.Stream(rctx, name)
			cancel()
			if err == nil {
				if ci := s.CachedInfo().Cluster; ci == nil || ci.Leader != "" {
					break
				}
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return fmt.Errorf("bus: stream %s has no leader: %w (last: %v)", name, ctx.Err(), err)
			}
		}
	}
	return nil
}
