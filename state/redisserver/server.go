package redisserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
)

// ErrNotInstalled is returned (wrapped) by Start when no redis-server binary
// is in PATH. Its text is the install instruction, so whoever reads the
// failure knows what to do without looking anything up.
var ErrNotInstalled = errors.New("redis-server was not found in PATH. Install it: " +
	"Debian/Ubuntu `sudo apt-get install -y redis-server`, Fedora `sudo dnf install redis`, " +
	"macOS `brew install redis`; or use an existing Redis 6.2+ server: REDIS_URL for the processor, -redis for the simulator.")

// startTimeout bounds how long Start waits for the first PONG.
const startTimeout = 10 * time.Second

// stopTimeout bounds how long Close waits for SHUTDOWN before killing.
const stopTimeout = 5 * time.Second

// Options configures Start.
type Options struct {
	Dir        string // data directory; a temporary one (removed by Close) if ""
	Port       int    // 0 picks a free port
	Appendonly bool   // AOF synced before every reply (appendfsync always)
	LogFile    string // server log; "" keeps the last lines in memory for error messages

	// Password, when set, is required of every client: the server then
	// knows one ACL user, User (allowed every command and key), and the
	// default user is off, so a connection that has not authenticated can
	// do nothing. User "" is the default user itself (requirepass).
	// Without a Password anyone on the machine may connect (tests).
	User, Password string

	// TLS, when set, makes the server listen on TLS only (no plain port)
	// and require a client certificate signed by TLS.CAFile.
	TLS *TLS

	// extraConfig is appended to the rendered configuration; directives
	// there override the ones above (StartCluster's cluster settings).
	extraConfig string
}

// TLS names a server's PEM files. The server's certificate must be valid
// for 127.0.0.1 and allow client authentication too: this package presents
// it when it pings and stops the server.
type TLS struct {
	CertFile, KeyFile, CAFile string
}

// Server is a running redis-server process.
type Server struct {
	port    int
	opt     Options
	ctl     control // how Start and Close reach the server
	cmd     *exec.Cmd
	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error         // cmd.Wait's result, valid after exited is closed
	log     *tailBuffer   // nil when Options.LogFile is set
	tempDir string        // removed by Close; "" when the caller owns Dir

	closeOnce sync.Once
	closeErr  error
}

// Start runs the redis-server found in PATH and returns once it answers PING.
//
// ctx bounds only the startup wait: the process is not bound to ctx (no
// exec.CommandContext), so a server started with a short-lived context keeps
// running until Close.
func Start(ctx context.Context, opt Options) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redisserver: %w", ErrNotInstalled)
	}

	dir, tempDir := opt.Dir, ""
	if dir == "" {
		tempDir, err = os.MkdirTemp("", "redisserver-")
		if err != nil {
			return nil, fmt.Errorf("redisserver: create data dir: %w", err)
		}
		dir = tempDir
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("redisserver: %w", err)
	}
	ctl, err := controlFor(opt)
	if err != nil {
		if tempDir != "" {
			_ = os.RemoveAll(tempDir)
		}
		return nil, err
	}

	// A port picked by us can be taken by someone else between our probe
	// and redis' bind; retry a few times rather than fail a test run.
	attempts := 1
	if opt.Port == 0 {
		attempts = 3
	}
	for i := 0; ; i++ {
		var s *Server
		s, err = start(ctx, bin, dir, opt, ctl)
		if err == nil {
			s.tempDir = tempDir
			return s, nil
		}
		if i+1 >= attempts || ctx.Err() != nil {
			break
		}
	}
	if tempDir != "" {
		_ = os.RemoveAll(tempDir)
	}
	return nil, err
}

// controlFor checks the credentials and TLS files of opt and returns how
// to reach the server they describe (its address is filled in later).
func controlFor(opt Options) (control, error) {
	ctl := control{user: opt.User, password: opt.Password}
	if opt.Password != "" {
		if err := checkWord("password", opt.Password); err != nil {
			return ctl, err
		}
		if opt.User != "" {
			if err := checkWord("user", opt.User); err != nil {
				return ctl, err
			}
		}
	} else if opt.User != "" {
		return ctl, fmt.Errorf("redisserver: user %q has no password", opt.User)
	}
	if opt.TLS != nil {
		cfg, err := tlsfiles.Files{CA: opt.TLS.CAFile, Cert: opt.TLS.CertFile, Key: opt.TLS.KeyFile}.Client()
		if err != nil {
			return ctl, fmt.Errorf("redisserver: TLS: %w", err)
		}
		if opt.TLS.CAFile == "" || opt.TLS.CertFile == "" {
			return ctl, errors.New("redisserver: TLS needs CertFile, KeyFile and CAFile")
		}
		ctl.tls = cfg
	}
	return ctl, nil
}

// checkWord refuses a user name or password that would need quoting in the
// configuration file: printable ASCII without spaces or quotes.
func checkWord(what, v string) error {
	for _, r := range v {
		if r <= ' ' || r > '~' || r == '"' || r == '\'' || r == '\\' {
			return fmt.Errorf("redisserver: the %s may hold only printable ASCII without spaces, quotes or backslashes", what)
		}
	}
	return nil
}

func start(ctx context.Context, bin, dir string, opt Options, ctl control) (*Server, error) {
	port := opt.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, fmt.Errorf("redisserver: pick a port: %w", err)
		}
	}
	conf := filepath.Join(dir, "redis-"+strconv.Itoa(port)+".conf")
	if err := os.WriteFile(conf, []byte(config(dir, port, opt)), 0o600); err != nil {
		return nil, fmt.Errorf("redisserver: write config: %w", err)
	}

	s := &Server{port: port, opt: opt, ctl: ctl, exited: make(chan struct{})}
	s.ctl.addr = s.Addr()
	s.cmd = exec.Command(bin, conf)
	s.cmd.Dir = dir
	s.cmd.SysProcAttr = sysProcAttr()
	if opt.LogFile == "" {
		s.log = &tailBuffer{max: 16 << 10}
		s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("redisserver: run %s: %w", bin, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	err := s.waitReady(ctx)
	// The server read its configuration at startup; do not leave it in a
	// caller's data directory.
	_ = os.Remove(conf)
	if err != nil {
		_ = s.stop()
		return nil, fmt.Errorf("redisserver: %s on port %d: %w%s", bin, port, err, s.logTail())
	}
	return s, nil
}

// config renders the server configuration. It goes into a file (mode 0600,
// removed once the server runs) rather than command-line flags so that the
// password never shows in ps, and values such as `save ""` need no quoting
// rules.
func config(dir string, port int, opt Options) string {
	c := "bind 127.0.0.1\n"
	if opt.TLS != nil {
		c += "port 0\n" +
			"tls-port " + strconv.Itoa(port) + "\n" +
			"tls-cert-file " + strconv.Quote(opt.TLS.CertFile) + "\n" +
			"tls-key-file " + strconv.Quote(opt.TLS.KeyFile) + "\n" +
			"tls-ca-cert-file " + strconv.Quote(opt.TLS.CAFile) + "\n" +
			"tls-auth-clients yes\n"
	} else {
		c += "port " + strconv.Itoa(port) + "\n"
	}
	switch {
	case opt.Password == "":
	case opt.User == "" || opt.User == "default":
		c += "user default on resetpass >" + opt.Password + " ~* &* +@all\n"
	default:
		c += "user default off resetpass\n" +
			"user " + opt.User + " on resetpass >" + opt.Password + " ~* &* +@all\n"
	}
	c += "protected-mode yes\n" +
		"daemonize no\n" +
		`save ""` + "\n" +
		"dir " + strconv.Quote(dir) + "\n"
	if opt.Appendonly {
		// always: a write is on disk before Redis answers it, so nothing
		// the processor acknowledged is lost when the machine stops
		// (everysec loses up to a second).
		c += "appendonly yes\nappendfsync always\n"
	} else {
		c += "appendonly no\n"
	}
	if opt.LogFile != "" {
		c += "logfile " + strconv.Quote(opt.LogFile) + "\n"
	} else {
		c += `logfile ""` + "\n"
	}
	return c + opt.extraConfig
}

// waitReady polls PING until it is answered, the process dies, or the
// deadline (the earlier of ctx's and startTimeout) passes.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = s.ctl.ping(ctx); last == nil {
			pid, err := s.ctl.serverPID(ctx)
			if err == nil && pid == s.cmd.Process.Pid {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("port is served by another redis-server (pid %d)", pid)
			}
			last = err
		}
		select {
		case <-s.exited:
			return fmt.Errorf("exited before answering PING: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("no PONG before deadline: %w (last error: %v)", ctx.Err(), last)
		case <-tick.C:
		}
	}
}

// Addr returns "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL returns "redis://127.0.0.1:PORT/0", with the user and password when
// the server has them ("redis://USER:PASSWORD@..."), and "rediss" for TLS.
// The URL therefore is a secret when the server has a password.
func (s *Server) URL() string {
	u := url.URL{Scheme: "redis", Host: s.Addr(), Path: "/0"}
	if s.opt.TLS != nil {
		u.Scheme = "rediss"
	}
	if s.opt.Password != "" {
		u.User = url.UserPassword(s.opt.User, s.opt.Password)
	}
	return u.String()
}

// Close stops the server (SHUTDOWN NOSAVE, then kill if it does not exit in
// time), waits for the process to exit and removes the data directory if
// Start created it. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.stop()
		if s.tempDir != "" {
			if err := os.RemoveAll(s.tempDir); err != nil && s.closeErr == nil {
				s.closeErr = fmt.Errorf("redisserver: remove data dir: %w", err)
			}
		}
	})
	return s.closeErr
}

// stop asks the server to exit and kills it if it does not.
func (s *Server) stop() error {
	select {
	case <-s.exited:
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	_ = s.ctl.shutdownNoSave(ctx) // the server closes the connection instead of replying
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redisserver: kill pid %d: %w", s.cmd.Process.Pid, err)
	}
	<-s.exited
	return nil
}

func (s *Server) logTail() string {
	if s.log == nil {
		return ""
	}
	if t := s.log.String(); t != "" {
		return "\nredis-server output:\n" + t
	}
	return ""
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
