// Package natsauth makes the processor's embedded NATS server require
// credentials: it runs with the users and permissions of the shipped
// deployments/nats/accounts.conf, and the passwords that file takes from
// $CSP_<USER>_PASSWORD variables are generated on first start, kept in
// DATA_DIR and reused afterwards.
//
// Without it the embedded server took any connection on its port, so
// anything on the machine could forge commands as any partner or read
// every customer's events.
package natsauth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Users of the shipped accounts.conf the processor's process connects as,
// and the operator's, which cmd/cspctl connects as.
const (
	ProcessorUser = "processor"
	SimulatorUser = "simulator"
	OperatorUser  = "operator"
)

// CredentialsFile is the file in the credentials directory that holds the
// generated passwords, one VARIABLE=password a line (shell env format, so
// an operator can `set -a; . credentials.env` before starting a client).
const CredentialsFile = "credentials.env"

// passwordVariable matches the password variables accounts.conf references.
var passwordVariable = regexp.MustCompile(`\$(CSP_[A-Z0-9_]+_PASSWORD)\b`)

// PasswordVariable is the variable holding user's password:
// CSP_<USER>_PASSWORD, the user upper-cased and '-' written '_'.
func PasswordVariable(user string) string {
	return "CSP_" + strings.ToUpper(strings.ReplaceAll(user, "-", "_")) + "_PASSWORD"
}

// InboxPrefix is user's own inbox prefix. The shipped permissions let each
// user subscribe to _INBOX.<user>.> only, never to _INBOX.>, so nobody reads
// another user's PubAcks or query replies; clients pass it to
// nats.CustomInboxPrefix.
func InboxPrefix(user string) string { return "_INBOX." + user }

// Variables lists the password variables accountsConf references, sorted.
func Variables(accountsConf []byte) []string {
	var out []string
	for _, m := range passwordVariable.FindAllSubmatch(accountsConf, -1) {
		if v := string(m[1]); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Credentials are the passwords of the users of one accounts config.
type Credentials struct {
	// Path is the file they are kept in.
	Path string
	// Created is true when this start generated at least one of them.
	Created   bool
	passwords map[string]string // by variable
}

// Password returns user's password, "" for a user the config does not have.
func (c *Credentials) Password(user string) string { return c.passwords[PasswordVariable(user)] }

// Environment is every password as VARIABLE=password, sorted: the
// environment of a nats-server process that reads the accounts config
// (a child process that is given it is meant to know them all).
func (c *Credentials) Environment() []string {
	out := make([]string, 0, len(c.passwords))
	for v, pw := range c.passwords {
		out = append(out, v+"="+pw)
	}
	slices.Sort(out)
	return out
}

// LoadOrCreate returns the passwords of every variable accountsConf
// references, kept in dir/credentials.env. It makes dir mode 0700 and
// creates the file (0600) on first use, and generates a password for a
// variable the file lacks (a user added to the config since), rewriting the
// file. A file that others can read is refused, not repaired: the passwords
// in it may already be known.
func LoadOrCreate(dir string, accountsConf []byte) (*Credentials, error) {
	vars := Variables(accountsConf)
	if len(vars) == 0 {
		return nil, errors.New("natsauth: the accounts config references no $CSP_*_PASSWORD variable")
	}
	// The directory is this package's alone (DATA_DIR/nats-auth): keep it
	// private whatever made it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	c, err := Load(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		c = &Credentials{Path: filepath.Join(dir, CredentialsFile), passwords: map[string]string{}}
	case err != nil:
		return nil, err
	}
	for _, v := range vars {
		if c.passwords[v] == "" {
			if c.passwords[v], err = randomPassword(); err != nil {
				return nil, err
			}
			c.Created = true
		}
	}
	if c.Created {
		if err := c.write(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Load reads the passwords kept in dir/credentials.env and generates
// none: for a client of a running embedded server (the demo, cmd/cspctl),
// which made the file on its first start (DATA_DIR/nats-auth). A missing
// file is an error that matches os.ErrNotExist; a file others can read is
// refused, as by LoadOrCreate.
func Load(dir string) (*Credentials, error) {
	c := &Credentials{Path: filepath.Join(dir, CredentialsFile)}
	b, err := os.ReadFile(c.Path)
	if err != nil {
		return nil, fmt.Errorf("natsauth: %w", err)
	}
	if err := privateOnly(c.Path); err != nil {
		return nil, err
	}
	if c.passwords, err = parse(c.Path, b); err != nil {
		return nil, err
	}
	return c, nil
}

// privateOnly refuses a path that anyone but its owner can access.
func privateOnly(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("natsauth: %s holds the embedded NATS passwords but has mode %#o; "+
			"make it private (chmod go-rwx %s) or remove it to generate new passwords", path, perm, path)
	}
	return nil
}

func parse(path string, b []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || !passwordVariable.MatchString("$"+k) || !validPassword(v) {
			return nil, fmt.Errorf("natsauth: %s line %d: want CSP_<USER>_PASSWORD=<password of letters and digits>", path, n)
		}
		out[k] = v
	}
	return out, sc.Err()
}

// validPassword keeps passwords to letters and digits, so they need no
// quoting in the server config or a shell.
func validPassword(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// randomPassword is 128 random bits, hex.
func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("natsauth: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// write replaces the file atomically.
func (c *Credentials) write() error {
	var buf bytes.Buffer
	buf.WriteString("# Passwords of the processor's embedded NATS server (users in deployments/nats/accounts.conf).\n" +
		"# Generated on first start; keep this file private. Remove it to generate new ones.\n")
	vars := make([]string, 0, len(c.passwords))
	for v := range c.passwords {
		vars = append(vars, v)
	}
	slices.Sort(vars)
	for _, v := range vars {
		fmt.Fprintf(&buf, "%s=%s\n", v, c.passwords[v])
	}
	// CreateTemp makes the file 0600, so the passwords are never readable
	// by others, not even before the rename.
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), CredentialsFile+".*")
	if err != nil {
		return fmt.Errorf("natsauth: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.Write(buf.Bytes())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.Path)
	}
	if err != nil {
		return fmt.Errorf("natsauth: write %s: %w", c.Path, err)
	}
	return nil
}
