package bus

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedOptions configures StartEmbedded.
type EmbeddedOptions struct {
	// StoreDir is the JetStream store directory (required).
	StoreDir string
	// Host to listen on; default 127.0.0.1.
	Host string
	// Port to listen on; -1 or 0 picks a random free port.
	Port int
	// ServerName; the server picks one when empty.
	ServerName string
	// NoSync turns off JetStream's fsync before every acknowledgement, for
	// throwaway stores only (benchmarks). Off, the server syncs every two
	// minutes, so an OS crash can lose messages it acknowledged: a command
	// the upstream was told was accepted, or an event already removed from
	// the outbox. The default syncs every write (SyncAlways).
	NoSync bool
	// Options, when set, is the base of the server's options: the users,
	// accounts and permissions of a processed configuration (natsauth).
	// The fields above override its listen address, name and JetStream
	// settings.
	Options *server.Options
}

// StartEmbedded starts an in-process nats-server with JetStream enabled and
// waits up to 10 seconds until it accepts connections. The caller shuts it
// down with Shutdown (and WaitForShutdown). Connect with s.ClientURL().
func StartEmbedded(opt EmbeddedOptions) (*server.Server, error) {
	if opt.StoreDir == "" {
		return nil, errors.New("bus: embedded NATS server needs a store directory")
	}
	if opt.Host == "" {
		opt.Host = "127.0.0.1"
	}
	if opt.Port == 0 {
		opt.Port = server.RANDOM_PORT
	}
	opts := &server.Options{}
	if opt.Options != nil {
		opts = opt.Options.Clone()
	}
	opts.ServerName, opts.Host, opts.Port = opt.ServerName, opt.Host, opt.Port
	opts.JetStream, opts.StoreDir, opts.SyncAlways = true, opt.StoreDir, !opt.NoSync
	// No HTTP monitoring, no cluster: a single in-process server.
	opts.NoSigs, opts.HTTPPort, opts.Cluster.Port = true, 0, 0
	if opt.Port != server.RANDOM_PORT {
		// The server logs a failed bind and never becomes ready, so the
		// caller would wait out ReadyForConnections and learn nothing:
		// try the address first and say why it cannot be had.
		ln, err := net.Listen("tcp", net.JoinHostPort(opt.Host, strconv.Itoa(opt.Port)))
		if err != nil {
			return nil, fmt.Errorf("bus: embedded NATS server: %w", err)
		}
		_ = ln.Close()
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: embedded NATS server: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("bus: embedded NATS server on %s:%d not ready after 10s", opt.Host, opt.Port)
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, errors.New("bus: embedded NATS server started without JetStream")
	}
	return s, nil
}
