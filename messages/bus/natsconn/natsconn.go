// Package natsconn connects to an external NATS server the one way the
// processor and the simulator share: a URL (user and password may ride in
// it, nats://user:pass@host:4222), a credentials file (JWT operator mode)
// or an nkey seed file, the files of a private CA and a client
// certificate, and the inbox prefix the server's permissions allow.
package natsconn

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
)

// The environment variables FromEnv reads.
const (
	EnvURL         = "NATS_URL"          // nats://[user:password@]host:4222[,nats://...]; tls://... for TLS
	EnvCreds       = "NATS_CREDS"        // a .creds file (user JWT and seed; operator mode)
	EnvNkey        = "NATS_NKEY"         // a file holding an nkey user's seed (SU...)
	EnvTLSCA       = "NATS_TLS_CA"       // PEM file of the CA that signed the server's certificate (default: system roots)
	EnvTLSCert     = "NATS_TLS_CERT"     // PEM file of the client certificate, for servers with verify: true
	EnvTLSKey      = "NATS_TLS_KEY"      // its private key
	EnvInboxPrefix = "NATS_INBOX_PREFIX" // prefix of reply subjects, e.g. _INBOX.processor (default _INBOX)
)

// Config is how to reach an external NATS server.
type Config struct {
	URL         string
	Creds       string // credentials file; not with Nkey
	Nkey        string // nkey seed file; not with Creds
	TLS         tlsfiles.Files
	InboxPrefix string // "" is the library's _INBOX
}

// FromEnv reads NATS_URL and the settings above.
func FromEnv() Config { return FromGetenv(os.Getenv) }

// FromGetenv reads the settings above through getenv.
func FromGetenv(getenv func(string) string) Config {
	return Config{
		URL:   getenv(EnvURL),
		Creds: getenv(EnvCreds),
		Nkey:  getenv(EnvNkey),
		TLS: tlsfiles.Files{
			CA: getenv(EnvTLSCA), Cert: getenv(EnvTLSCert), Key: getenv(EnvTLSKey),
		},
		InboxPrefix: getenv(EnvInboxPrefix),
	}
}

// Env renders c as the environment FromEnv reads, every variable present
// (empty when unset) so that a child process started with it does not
// inherit a setting meant for another server.
func (c Config) Env() []string {
	return []string{
		EnvURL + "=" + c.URL, EnvCreds + "=" + c.Creds, EnvNkey + "=" + c.Nkey,
		EnvTLSCA + "=" + c.TLS.CA, EnvTLSCert + "=" + c.TLS.Cert, EnvTLSKey + "=" + c.TLS.Key,
		EnvInboxPrefix + "=" + c.InboxPrefix,
	}
}

// Options turns the settings into connection options, checking the files
// now so that a wrong path is reported as such rather than as a failed
// handshake or an authorization violation.
func (c Config) Options() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case c.Creds != "" && c.Nkey != "":
		return nil, fmt.Errorf("both %s and %s are set: a connection authenticates one way; set one", EnvCreds, EnvNkey)
	case c.Creds != "":
		if _, err := os.ReadFile(c.Creds); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvCreds, err)
		}
		opts = append(opts, nats.UserCredentials(c.Creds))
	case c.Nkey != "":
		o, err := nats.NkeyOptionFromSeed(c.Nkey)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", EnvNkey, c.Nkey, err)
		}
		opts = append(opts, o)
	}
	if c.TLS.Set() {
		cfg, err := c.TLS.Client()
		if err != nil {
			return nil, fmt.Errorf("NATS TLS (%s, %s, %s): %w", EnvTLSCA, EnvTLSCert, EnvTLSKey, err)
		}
		// Secure makes TLS required even with a nats:// URL: the files
		// were given to encrypt the connection.
		opts = append(opts, nats.Secure(cfg))
	}
	if c.InboxPrefix != "" {
		if err := checkInboxPrefix(c.InboxPrefix); err != nil {
			return nil, err
		}
		opts = append(opts, nats.CustomInboxPrefix(c.InboxPrefix))
	}
	return opts, nil
}

// Connect connects with c's options followed by extra (name, reconnect
// policy and handlers of the caller). Its errors never show a password.
func (c Config) Connect(extra ...nats.Option) (*nats.Conn, error) {
	if c.URL == "" {
		return nil, fmt.Errorf("%s is empty", EnvURL)
	}
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(c.URL, append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS %s: %w", Redacted(c.URL), err)
	}
	return nc, nil
}

// checkInboxPrefix refuses what nats.go would refuse only when connecting,
// and names the setting.
func checkInboxPrefix(p string) error {
	if strings.ContainsAny(p, "*> \t\r\n") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		return fmt.Errorf("%s=%q: want a subject without wildcards, spaces or empty tokens, e.g. _INBOX.processor", EnvInboxPrefix, p)
	}
	return nil
}

// Redacted is the URL list with every password replaced by "xxxxx", for
// messages and logs.
func Redacted(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil {
			parts[i] = "(unparsable URL)"
			continue
		}
		parts[i] = u.Redacted()
	}
	return strings.Join(parts, ",")
}

// CheckUnused refuses connection settings given without a URL: they would
// be ignored (the embedded server needs none), and whoever set them
// expects them used.
func (c Config) CheckUnused() error {
	if c.URL == "" && (c.Creds != "" || c.Nkey != "" || c.TLS.Set()) {
		return fmt.Errorf("%s, %s or %s/%s/%s is set without %s", EnvCreds, EnvNkey, EnvTLSCA, EnvTLSCert, EnvTLSKey, EnvURL)
	}
	return nil
}
