package natsauth

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/deployments"
	"github.com/cspreseller/csp-processor/messages/bus"
)

// CredentialsDir is the directory under DATA_DIR that holds the
// credentials file; StoreDir the JetStream store's.
const (
	CredentialsDir = "nats-auth"
	StoreDir       = "nats"
)

// Options configures Start.
type Options struct {
	// DataDir holds the credentials (DataDir/nats-auth) and the JetStream
	// store (DataDir/nats). Required.
	DataDir string
	// Port to listen on (127.0.0.1); -1 picks a free one.
	Port int
	// ServerName; the server picks one when empty.
	ServerName string
	// AccountsConf is the users and permissions; default the shipped
	// deployments/nats/accounts.conf.
	AccountsConf []byte
}

// Embedded is a running embedded server and its users' passwords.
type Embedded struct {
	Server      *server.Server
	Credentials *Credentials
	// StoreDir is the JetStream store directory.
	StoreDir string
}

// Start starts the embedded NATS server with JetStream (every write synced
// before its ack, bus.StartEmbedded) and the users of the accounts config,
// their passwords from LoadOrCreate. The caller shuts the server down.
func Start(o Options) (*Embedded, error) {
	if o.DataDir == "" {
		return nil, fmt.Errorf("natsauth: no data directory")
	}
	conf := o.AccountsConf
	if conf == nil {
		conf = deployments.NATSAccounts
	}
	creds, err := LoadOrCreate(filepath.Join(o.DataDir, CredentialsDir), conf)
	if err != nil {
		return nil, err
	}
	opts, err := ServerOptions(conf, creds)
	if err != nil {
		return nil, err
	}
	store := filepath.Join(o.DataDir, StoreDir)
	srv, err := bus.StartEmbedded(bus.EmbeddedOptions{Options: opts, StoreDir: store, Port: o.Port, ServerName: o.ServerName})
	if err != nil {
		return nil, err
	}
	return &Embedded{Server: srv, Credentials: creds, StoreDir: store}, nil
}

// ServerOptions processes accountsConf with the passwords defined as
// variables in front of it. Variables of an including file are not seen by
// an included one, and putting the passwords in the process environment
// would hand them to every child process (redis-server), so the config is
// processed as one string and the passwords are written nowhere else.
func ServerOptions(accountsConf []byte, c *Credentials) (*server.Options, error) {
	var b strings.Builder
	vars := make([]string, 0, len(c.passwords))
	for v := range c.passwords {
		vars = append(vars, v)
	}
	slices.Sort(vars)
	for _, v := range vars {
		fmt.Fprintf(&b, "%s: %q\n", v, c.passwords[v])
	}
	b.Write(accountsConf)
	opts := &server.Options{}
	if err := opts.ProcessConfigString(b.String()); err != nil {
		return nil, fmt.Errorf("natsauth: accounts config: %w", err)
	}
	return opts, nil
}

// Connect connects to the embedded server in-process as user, with its
// password and its own inbox prefix; opts add to those.
func (e *Embedded) Connect(user string, opts ...nats.Option) (*nats.Conn, error) {
	pw := e.Credentials.Password(user)
	if pw == "" {
		return nil, fmt.Errorf("natsauth: the accounts config has no user %q", user)
	}
	base := []nats.Option{nats.UserInfo(user, pw), nats.CustomInboxPrefix(InboxPrefix(user)), nats.InProcessServer(e.Server)}
	nc, err := nats.Connect(e.Server.ClientURL(), append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("natsauth: connect as %s: %w", user, err)
	}
	return nc, nil
}
