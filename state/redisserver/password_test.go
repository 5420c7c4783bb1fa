package redisserver

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A server started with a password answers only a client that
// authenticates as its user: no AUTH gets NOAUTH, a wrong password or the
// default user gets WRONGPASS; the URL carries what the client needs; the
// password is not on the server's command line.
func TestPasswordIsRequired(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	pw, err := LoadOrCreatePassword(filepath.Join(t.TempDir(), PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(ctx, Options{User: "processor", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })

	pingAs := func(user, password string) error {
		rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Username: user, Password: password, MaxRetries: -1})
		defer rdb.Close()
		return rdb.Ping(ctx).Err()
	}
	if err := pingAs("", ""); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("PING without AUTH: %v, want NOAUTH", err)
	}
	if err := pingAs("processor", pw+"x"); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Errorf("PING with a wrong password: %v, want WRONGPASS", err)
	}
	if err := pingAs("default", pw); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Errorf("PING as the default user: %v, want WRONGPASS (default user off)", err)
	}
	opt, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if opt.Username != "processor" || opt.Password != pw {
		t.Fatalf("URL %q gives user %q", s.URL(), opt.Username)
	}
	if err := pingAs(opt.Username, opt.Password); err != nil {
		t.Fatalf("PING with the URL's credentials: %v", err)
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/cmdline")
	if err == nil && strings.Contains(string(cmdline), pw) {
		t.Errorf("the password is on redis-server's command line: %q", cmdline)
	}
	if confs, _ := filepath.Glob(filepath.Join(s.tempDir, "*.conf")); len(confs) > 0 {
		t.Errorf("the config file holding the password is still there: %q", confs)
	}
	// Close authenticates too: SHUTDOWN must work, or Close would have to kill.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.logTail(), "ready to exit") {
		t.Errorf("the server did not shut down on SHUTDOWN:%s", s.logTail())
	}
}

// The password is made once, kept 0600 in a 0700 directory, and the same
// password comes back on the next start.
func TestPasswordFileIsPrivateAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "redis")
	if err := os.MkdirAll(dir, 0o755); err != nil { // as older versions made it
		t.Fatal(err)
	}
	file := filepath.Join(dir, PasswordFile)
	pw, err := LoadOrCreatePassword(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) != 64 {
		t.Errorf("password %d characters, want 64", len(pw))
	}
	for path, want := range map[string]os.FileMode{file: 0o600, dir: 0o700} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %04o", path, st.Mode().Perm(), err, want)
		}
	}
	again, err := LoadOrCreatePassword(file)
	if err != nil || again != pw {
		t.Fatalf("second load = %q, %v; want the first password", again, err)
	}

	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreatePassword(file); err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Errorf("a world-readable password file was used: %v", err)
	}
	if err := os.WriteFile(file, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreatePassword(file); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("a 5-character password was used: %v", err)
	}
}

// Start refuses credentials it could not write into the config safely.
func TestStartRefusesUnquotablePassword(t *testing.T) {
	for _, opt := range []Options{
		{Password: "has space"},
		{User: "processor", Password: `quote"d`},
		{User: "no-password"},
	} {
		if s, err := Start(context.Background(), opt); err == nil {
			_ = s.Close()
			t.Errorf("Start(%+v) started", opt)
		}
	}
}
