package rawlimit

import (
	"fmt"
	"os"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/simulator/scratch"
)

// StartServer starts an embedded JetStream server with its store in a new
// temporary directory, for a measurement of its own: its streams' subjects
// are the processor's, so they cannot live beside a processor's streams.
// stop shuts the server down and removes the directory.
func StartServer() (s *server.Server, stop func(), err error) {
	dir, err := scratch.Dir("rawlimit-nats-")
	if err != nil {
		return nil, nil, fmt.Errorf("rawlimit: store directory: %w", err)
	}
	s, err = bus.StartEmbedded(bus.EmbeddedOptions{StoreDir: dir})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	stop = func() {
		s.Shutdown()
		s.WaitForShutdown()
		_ = os.RemoveAll(dir)
	}
	return s, stop, nil
}
