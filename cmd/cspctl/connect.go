package main

import (
	"cmp"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
	"github.com/cspreseller/csp-processor/messages/bus/natsconn"
)

// connectionHelp closes `cspctl -h`: how cspctl finds NATS.
const connectionHelp = `
Connection (environment; the settings the processor reads, as the NATS user operator):
  NATS_URL              the NATS servers with the operator's user and password, e.g.
                        tls://operator:$CSP_OPERATOR_PASSWORD@csp-nats-1:4222,tls://...
  NATS_CREDS, NATS_NKEY a credentials file or an nkey seed file instead of a password
  NATS_TLS_CA           the site CA (NATS_TLS_CERT, NATS_TLS_KEY: a client certificate)
  NATS_INBOX_PREFIX     reply subjects; default _INBOX.operator, the only inbox the
                        shipped permissions let the operator read
  Without NATS_URL: the processor's embedded server on this machine (make serve),
  nats://127.0.0.1:$NATS_PORT (default 4333), with the password the processor
  generated in $DATA_DIR/nats-auth/credentials.env (DATA_DIR default ./data).

Exit status: 0 done, 1 the service refused or failed (or NATS was not reached),
2 the command line is wrong.
`

// connect reaches NATS as the operator: with NATS_URL and the processor's
// other connection settings (natsconn), or, without it, the processor's
// embedded server on this machine with the password it generated.
func connect(getenv func(string) string) (*nats.Conn, error) {
	cfg := natsconn.FromGetenv(getenv)
	if cfg.InboxPrefix == "" {
		cfg.InboxPrefix = natsauth.InboxPrefix(natsauth.OperatorUser)
	}
	if cfg.URL == "" {
		if err := cfg.CheckUnused(); err != nil {
			return nil, err
		}
		dir := filepath.Join(cmp.Or(getenv("DATA_DIR"), "data"), natsauth.CredentialsDir)
		creds, err := natsauth.Load(dir)
		if err != nil {
			return nil, fmt.Errorf("%s is not set, so cspctl looks for the embedded server's passwords, which it could not read "+
				"(set %s, or DATA_DIR to the processor's): %w", natsconn.EnvURL, natsconn.EnvURL, err)
		}
		pw := creds.Password(natsauth.OperatorUser)
		if pw == "" {
			return nil, fmt.Errorf("%s holds no password for the user %s: start the processor once with this version, which adds it",
				creds.Path, natsauth.OperatorUser)
		}
		host := "127.0.0.1:" + cmp.Or(getenv("NATS_PORT"), "4333")
		cfg.URL = (&url.URL{Scheme: "nats", User: url.UserPassword(natsauth.OperatorUser, pw), Host: host}).String()
	}
	return cfg.Connect(nats.Name("cspctl"))
}
