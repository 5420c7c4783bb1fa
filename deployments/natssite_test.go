package deployments

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/natstest"
)

// refusalDeadline is how long a permission violation may take to come back
// from the server as an asynchronous error.
const refusalDeadline = 2 * time.Second

// passwordVariable matches the password variables accounts.conf references.
var passwordVariable = regexp.MustCompile(`\$(CSP_[A-Z0-9_]+_PASSWORD)`)

// setPasswords sets every password variable the shipped accounts.conf
// references, each to its own name in lower case, so a user's password
// differs from every other user's.
func setPasswords(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("nats/accounts.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range passwordVariable.FindAllStringSubmatch(string(b), -1) {
		t.Setenv(m[1], strings.ToLower(m[1]))
	}
}

// natsSite is a real nats-server started from the shipped single-node.conf
// (its users and permissions) with a temporary store.
type natsSite struct {
	srv   *server.Server
	ca    string // the CA file clients verify the server's certificate with
	users map[string]*server.User
	names []string // user names in config order
}

func startShippedNATS(t *testing.T) *natsSite {
	t.Helper()
	certs := setNATSTLSEnv(t)
	setPasswords(t)
	opts, err := server.ProcessConfigFile("nats/single-node.conf")
	if err != nil {
		t.Fatal(err)
	}
	opts.StoreDir = t.TempDir()
	s := natstest.RunServerWithOptions(t, opts)
	site := &natsSite{srv: s, ca: certs.CA, users: map[string]*server.User{}}
	for _, u := range opts.Users {
		site.users[u.Username] = u
		site.names = append(site.names, u.Username)
	}
	return site
}

// natsClient is one user's connection. It records every permission
// violation the server reports, so a test can wait for the refusal of an
// exact subject while other attempts run on the same connection.
type natsClient struct {
	user string
	nc   *nats.Conn
	js   jetstream.JetStream

	mu      sync.Mutex
	refused map[string]bool // lower-cased error texts
	changed chan struct{}
}

// connect logs in as user with its own inbox prefix _INBOX.<user>.
func (site *natsSite) connect(t *testing.T, user string) *natsClient {
	t.Helper()
	u, ok := site.users[user]
	if !ok {
		t.Fatalf("no user %q in the shipped config", user)
	}
	c := &natsClient{user: user, refused: map[string]bool{}, changed: make(chan struct{})}
	nc, err := nats.Connect(site.srv.ClientURL(), nats.UserInfo(user, u.Password), nats.RootCAs(site.ca),
		nats.CustomInboxPrefix("_INBOX."+user), nats.ErrorHandler(c.onError))
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	c.nc = nc
	if c.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *natsClient) onError(_ *nats.Conn, _ *nats.Subscription, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refused[strings.ToLower(err.Error())] = true
	close(c.changed)
	c.changed = make(chan struct{})
}

// attempt is one operation a user tries: a publish (JetStream API requests
// included: their reply subject is the user's own inbox) or a subscription.
type attempt struct {
	what    string
	subject string
	sub     bool
}

func pub(what, subject string) attempt { return attempt{what: what, subject: subject} }
func sub(what, subject string) attempt { return attempt{what: what, subject: subject, sub: true} }

// refusalText is what nats.go's error handler receives for the attempt.
func (a attempt) refusalText() string {
	kind := "publish"
	if a.sub {
		kind = "subscription"
	}
	return strings.ToLower(fmt.Sprintf("permissions violation for %s to %q", kind, a.subject))
}

// tryAll makes every attempt at once and returns those the server did not
// refuse within refusalDeadline (refusals arrive asynchronously).
func (c *natsClient) tryAll(attempts []attempt) ([]attempt, error) {
	for _, a := range attempts {
		var err error
		if a.sub {
			var s *nats.Subscription
			if s, err = c.nc.Subscribe(a.subject, func(*nats.Msg) {}); err == nil {
				defer func() { _ = s.Unsubscribe() }()
			}
		} else {
			err = c.nc.PublishRequest(a.subject, c.nc.NewRespInbox(), []byte("{}"))
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.user, a.what, a.subject, err)
		}
	}
	if err := c.nc.Flush(); err != nil {
		return nil, err
	}
	deadline := time.After(refusalDeadline)
	for {
		c.mu.Lock()
		var missing []attempt
		for _, a := range attempts {
			if !c.hasRefusal(a.refusalText()) {
				missing = append(missing, a)
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if len(missing) == 0 {
			return nil, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return missing, nil
		}
	}
}

// hasRefusal reports whether an error containing text arrived; c.mu held.
func (c *natsClient) hasRefusal(text string) bool {
	for e := range c.refused {
		if strings.Contains(e, text) {
			return true
		}
	}
	return false
}

// noRefusals fails the test if the server refused anything on c: a check
// that an allowed operation did not pass only by accident.
func (c *natsClient) noRefusals(t *testing.T) {
	t.Helper()
	_ = c.nc.Flush()
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := range c.refused {
		t.Errorf("%s: refused: %s", c.user, e)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
