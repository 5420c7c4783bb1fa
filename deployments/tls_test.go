package deployments

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/deployments/testcerts"
	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
	"github.com/cspreseller/csp-processor/state"
	"github.com/cspreseller/csp-processor/state/redisconn"
)

const testRoutePassword = "route-secret"

// setNATSTLSEnv points the NATS configurations' variables at freshly made
// certificates and sets the route password and routes, as an operator
// does on every node (README).
func setNATSTLSEnv(t *testing.T) testcerts.Files {
	t.Helper()
	certs := testcerts.Write(t, t.TempDir())
	t.Setenv("CSP_NATS_TLS_CERT", certs.ServerCert)
	t.Setenv("CSP_NATS_TLS_KEY", certs.ServerKey)
	t.Setenv("CSP_NATS_TLS_CA", certs.CA)
	t.Setenv("CSP_ROUTE_PASSWORD", testRoutePassword)
	var routes []string
	for i := 1; i <= 3; i++ {
		routes = append(routes, "nats-route://route:"+testRoutePassword+"@csp-nats-"+strconv.Itoa(i)+":6222")
	}
	t.Setenv("CSP_NATS_ROUTES", "["+strings.Join(routes, ", ")+"]")
	return certs
}

// Both NATS configurations listen on 0.0.0.0, so clients must use TLS; a
// cluster node's routes use TLS with certificates verified both ways and
// the route password, and its route URLs carry that password.
func TestNATSConfigsRequireTLSAndRouteAuth(t *testing.T) {
	forEachNATSConfig(t, func(t *testing.T, f string, opts *server.Options) {
		if opts.TLSConfig == nil || opts.TLSConfig.MinVersion < tls.VersionTLS12 || len(opts.TLSConfig.Certificates) != 1 {
			t.Fatalf("client listener: TLS config %v, want TLS with the node certificate", opts.TLSConfig)
		}
		if f == "nats/single-node.conf" {
			return
		}
		c := opts.Cluster
		if c.TLSConfig == nil || c.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert {
			t.Fatalf("route listener: TLS %v, want client certificates required and verified", c.TLSConfig)
		}
		if c.Username != "route" || c.Password != testRoutePassword {
			t.Fatalf("route authorization: user %q password %q", c.Username, c.Password)
		}
		if len(opts.Routes) != 3 {
			t.Fatalf("%d routes, want 3", len(opts.Routes))
		}
		for _, r := range opts.Routes {
			if pw, _ := r.User.Password(); r.User.Username() != "route" || pw != testRoutePassword {
				t.Errorf("route %s does not carry the route credentials", (&url.URL{Scheme: r.Scheme, Host: r.Host}))
			}
		}
	})
}

// The shipped Redis cluster node configuration runs (paths moved into a
// temporary directory, ports picked free): the processor's ACL user
// connects over TLS with its client certificate and passes the durability
// check; without the certificate, as the default user, or with the
// administrative commands it has no need for, it is refused.
func TestRedisClusterNodeConfRunsWithTLSAndACL(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	certs := testcerts.Write(t, dir)
	const processorPW, adminPW, replPW = "processor-secret-0123456789abcdef", "admin-secret", "repl-secret"
	hash := func(pw string) string { h := sha256.Sum256([]byte(pw)); return hex.EncodeToString(h[:]) }
	acl, err := os.ReadFile("redis/users.acl.template")
	if err != nil {
		t.Fatal(err)
	}
	users := strings.NewReplacer("PROCESSOR_PASSWORD_SHA256", hash(processorPW), "ADMIN_PASSWORD_SHA256", hash(adminPW),
		"REPLICATION_PASSWORD_SHA256", hash(replPW)).Replace(string(acl))
	writeFile(t, filepath.Join(dir, "users.acl"), users)
	writeFile(t, filepath.Join(dir, "replication.conf"), "masteruser replication\nmasterauth "+replPW+"\n")
	if err := os.MkdirAll(filepath.Join(dir, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{certs.ServerCert: "tls/node.crt", certs.ServerKey: "tls/node.key", certs.CA: "tls/ca.crt"} {
		if err := os.Rename(from, filepath.Join(dir, to)); err != nil {
			t.Fatal(err)
		}
	}
	certs.CA = filepath.Join(dir, "tls/ca.crt")

	shipped, err := os.ReadFile("redis/cluster-node.conf")
	if err != nil {
		t.Fatal(err)
	}
	port, busPort := freePort(t), freePort(t)
	conf := strings.NewReplacer("/etc/redis/", dir+"/", "/var/lib/redis", dir,
		"tls-port 6379", "tls-port "+strconv.Itoa(port)).Replace(string(shipped))
	if conf == string(shipped) || strings.Contains(conf, "/etc/redis") {
		t.Fatal("the paths were not moved")
	}
	conf += "cluster-port " + strconv.Itoa(busPort) + "\nbind 127.0.0.1\n"
	confFile := filepath.Join(dir, "node.conf")
	writeFile(t, confFile, conf)

	cmd := exec.Command(bin, confFile)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	addr := "127.0.0.1:" + strconv.Itoa(port)
	client := func(user, pw string, files tlsfiles.Files) *redis.Client {
		opt, err := redisconn.Config{URL: "rediss://" + url.UserPassword(user, pw).String() + "@" + addr + "/0", TLS: files}.Options()
		if err != nil {
			t.Fatal(err)
		}
		opt.MaxRetries = -1
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
	withCert := tlsfiles.Files{CA: certs.CA, Cert: certs.ClientCert, Key: certs.ClientKey}
	processor := client("processor", processorPW, withCert)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for processor.Ping(ctx).Err() != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("redis-server with the shipped cluster-node.conf did not answer: %v\n%s", processor.Ping(context.Background()).Err(), out)
		case <-time.After(20 * time.Millisecond): // polling a starting process
		}
	}
	if err := state.CheckDurable(ctx, processor); err != nil {
		t.Errorf("durability check as processor: %v", err)
	}
	if err := processor.ConfigSet(ctx, "appendfsync", "everysec").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOPERM") {
		t.Errorf("CONFIG SET as processor: %v, want NOPERM", err)
	}
	if err := client("default", "", withCert).Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Errorf("as the default user: %v, want NOAUTH", err)
	}
	if err := client("processor", processorPW, tlsfiles.Files{CA: certs.CA}).Ping(ctx).Err(); err == nil {
		t.Error("connected without a client certificate")
	}
	if err := client("admin", adminPW, withCert).ConfigGet(ctx, "tls-cluster").Err(); err != nil {
		t.Errorf("admin: %v", err)
	}
	if got, _ := client("admin", adminPW, withCert).ConfigGet(ctx, "tls-replication").Result(); got["tls-replication"] != "yes" {
		t.Errorf("tls-replication = %q", got["tls-replication"])
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Two nodes started from the shipped cluster-node.conf (ports and store
// moved, JetStream off: the routes are under test) form a route over
// mutual TLS with the route password; a connection to the route port
// without a node certificate is refused in the handshake.
func TestNATSClusterNodesRouteOverTLSWithPassword(t *testing.T) {
	certs := setNATSTLSEnv(t)
	setPasswords(t)
	node := func(name string, routes ...*url.URL) *server.Server {
		t.Setenv("NODE_NAME", name)
		opts, err := server.ProcessConfigFile("nats/cluster-node.conf")
		if err != nil {
			t.Fatal(err)
		}
		opts.Host, opts.Port, opts.HTTPPort, opts.NoSigs, opts.NoLog = "127.0.0.1", -1, 0, true, true
		opts.HTTPHost, opts.JetStream, opts.StoreDir = "", false, t.TempDir()
		opts.Cluster.Host, opts.Cluster.Port, opts.Routes = "127.0.0.1", -1, routes
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("%s not ready", name)
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		return s
	}
	a := node("csp-nats-1")
	routeAddr := a.ClusterAddr().String()
	b := node("csp-nats-2", &url.URL{Scheme: "nats-route", User: url.UserPassword("route", testRoutePassword), Host: routeAddr})
	deadline := time.Now().Add(10 * time.Second)
	for a.NumRoutes() == 0 || b.NumRoutes() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no route between the nodes within 10 s (routes: %d, %d)", a.NumRoutes(), b.NumRoutes())
		}
		time.Sleep(10 * time.Millisecond) // polling the servers' route count
	}

	pool := x509.NewCertPool()
	ca, err := os.ReadFile(certs.CA)
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		t.Fatalf("CA: %v", err)
	}
	nodeCert, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	// routeSession opens TLS on the route port (the server starts TLS at
	// once), reads the server's INFO, sends send and returns the next
	// line (or the INFO line when send is "").
	routeSession := func(certs []tls.Certificate, send string) (string, error) {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", routeAddr,
			&tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: certs})
		if err != nil {
			return "", err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(conn)
		line, err := r.ReadString('\n')
		if err != nil || send == "" {
			return line, err
		}
		if _, err := conn.Write([]byte(send)); err != nil {
			return "", err
		}
		return r.ReadString('\n')
	}
	if line, err := routeSession([]tls.Certificate{nodeCert}, ""); err != nil || !strings.HasPrefix(line, "INFO ") {
		t.Fatalf("with a node certificate the route port said %q, %v; want INFO", line, err)
	}
	if line, err := routeSession(nil, ""); err == nil || !strings.Contains(err.Error(), "certificate required") {
		t.Fatalf("without a client certificate the route port said %q, %v; want a certificate required alert", line, err)
	}
	connect := func(pass string) string {
		return `CONNECT {"user":"route","pass":"` + pass + `","tls_required":true,"name":"intruder","cluster":"csp"}` + "\r\nPING\r\n"
	}
	if line, err := routeSession([]tls.Certificate{nodeCert}, connect("wrong")); err != nil || !strings.Contains(line, "Authorization Violation") {
		t.Fatalf("a route with the wrong password got %q, %v; want Authorization Violation", line, err)
	}
}
