package natsauth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

func start(t *testing.T, dataDir string) *Embedded {
	t.Helper()
	e, err := Start(Options{DataDir: dataDir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Server.Shutdown(); e.Server.WaitForShutdown() })
	return e
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// The default embedded server refuses a connection without credentials or
// with a wrong password, and takes the generated one; the passwords are in
// a file only its owner can read.
func TestEmbeddedServerRequiresCredentials(t *testing.T) {
	dataDir := t.TempDir()
	e := start(t, dataDir)
	url := e.Server.ClientURL()
	if nc, err := nats.Connect(url); err == nil {
		nc.Close()
		t.Fatal("connected without credentials")
	} else if !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
		t.Fatalf("without credentials: %v, want an authorization violation", err)
	}
	if nc, err := nats.Connect(url, nats.UserInfo(ProcessorUser, "wrong")); err == nil {
		nc.Close()
		t.Fatal("connected with a wrong password")
	}
	if nc, err := nats.Connect(url, nats.UserInfo(SimulatorUser, e.Credentials.Password(ProcessorUser))); err == nil {
		nc.Close()
		t.Fatal("connected as the simulator with the processor's password")
	}
	for _, user := range []string{ProcessorUser, SimulatorUser} {
		nc, err := nats.Connect(url, nats.UserInfo(user, e.Credentials.Password(user)))
		if err != nil {
			t.Fatalf("%s with its generated password: %v", user, err)
		}
		nc.Close()
	}
	if !e.Credentials.Created || e.Credentials.Path != filepath.Join(dataDir, CredentialsDir, CredentialsFile) {
		t.Fatalf("credentials %s, created %v", e.Credentials.Path, e.Credentials.Created)
	}
	if m := mode(t, e.Credentials.Path); m != 0o600 {
		t.Fatalf("credentials file mode %#o, want 0600", m)
	}
	if m := mode(t, filepath.Dir(e.Credentials.Path)); m != 0o700 {
		t.Fatalf("credentials directory mode %#o, want 0700", m)
	}
	if !e.Server.JetStreamEnabled() || !e.Server.JetStreamConfig().SyncAlways {
		t.Fatal("JetStream off or not syncing every write")
	}
}

// A second start reuses the passwords of the first; every user of the
// shipped config has one, each different.
func TestSecondStartReusesCredentials(t *testing.T) {
	dataDir := t.TempDir()
	e := start(t, dataDir)
	first := e.Credentials
	e.Server.Shutdown()
	e.Server.WaitForShutdown()

	e = start(t, dataDir)
	if e.Credentials.Created {
		t.Fatal("second start generated passwords again")
	}
	seen := map[string]bool{}
	for v, pw := range first.passwords {
		if e.Credentials.passwords[v] != pw {
			t.Fatalf("%s changed between starts", v)
		}
		if seen[pw] {
			t.Fatalf("two users share a password")
		}
		seen[pw] = true
	}
	if len(first.passwords) < 7 {
		t.Fatalf("%d passwords; the shipped config has at least 7 users", len(first.passwords))
	}
	nc, err := e.Connect(ProcessorUser)
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
}

// A user added to the config gets a password on the next start; the others
// keep theirs.
func TestNewUserGetsAPassword(t *testing.T) {
	dir := t.TempDir()
	one := []byte("password: $CSP_PROCESSOR_PASSWORD\n")
	c1, err := LoadOrCreate(dir, one)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := LoadOrCreate(dir, append(one, "password: $CSP_PARTNER_P_3003_PASSWORD\n"...))
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Created || c2.Password("partner-P-3003") == "" || c2.Password(ProcessorUser) != c1.Password(ProcessorUser) {
		t.Fatalf("created %v, new %q, processor kept %v", c2.Created, c2.Password("partner-P-3003"),
			c2.Password(ProcessorUser) == c1.Password(ProcessorUser))
	}
}

// A credentials file others can read is refused, naming the fix; so is a
// file that is not VARIABLE=password lines.
func TestCredentialsFileChecked(t *testing.T) {
	conf := []byte("password: $CSP_PROCESSOR_PASSWORD\n")
	for _, c := range []struct {
		name, body string
		perm       os.FileMode
		want       string
	}{
		{"readable by others", "CSP_PROCESSOR_PASSWORD=abc\n", 0o644, "chmod go-rwx"},
		{"not a variable", "PROCESSOR=abc\n", 0o600, "line 1"},
		{"quoted password", "CSP_PROCESSOR_PASSWORD=\"a b\"\n", 0o600, "line 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, CredentialsFile)
			if err := os.WriteFile(path, []byte(c.body), c.perm); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, c.perm); err != nil {
				t.Fatal(err)
			}
			_, err := LoadOrCreate(dir, conf)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one containing %q", err, c.want)
			}
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: err %v, want one containing %q", err, c.want)
			}
			if b, _ := os.ReadFile(path); string(b) != c.body {
				t.Fatalf("the file was changed to %q", b)
			}
		})
	}
}

// A client of a running embedded server reads the passwords its first
// start generated and generates none: no file is an error, not a new one.
func TestLoadReadsWhatTheServerGenerated(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of an empty directory: %v, want os.ErrNotExist", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CredentialsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load made a credentials file: %v", err)
	}
	made, err := LoadOrCreate(dir, []byte("password: $CSP_BILLING_PASSWORD\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Created || got.Password("billing") == "" || got.Password("billing") != made.Password("billing") {
		t.Fatalf("Load: created %v, billing's password %q, want %q", got.Created, got.Password("billing"), made.Password("billing"))
	}
}

func TestPasswordVariable(t *testing.T) {
	if v := PasswordVariable("partner-P-1001"); v != "CSP_PARTNER_P_1001_PASSWORD" {
		t.Fatal(v)
	}
}
