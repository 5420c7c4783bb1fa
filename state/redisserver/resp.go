package redisserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// The package speaks the few bytes of RESP it needs itself so that it does not
// depend on a client library: it only has to know whether the server is up
// and to tell it to stop.

// control is how this package reaches a server: its address, the TLS
// settings when it listens only on a TLS port, and the user and password
// it authenticates as when the server requires them.
type control struct {
	addr           string
	tls            *tls.Config // nil: plain TCP
	user, password string      // password "": no AUTH
}

// ping sends PING to a plain server without authentication.
func ping(ctx context.Context, addr string) error { return control{addr: addr}.ping(ctx) }

// roundTrip sends one command to a plain server without authentication.
func roundTrip(ctx context.Context, addr string, args ...string) (string, error) {
	return control{addr: addr}.roundTrip(ctx, args...)
}

// ping sends PING and expects +PONG.
func (c control) ping(ctx context.Context) error {
	reply, err := c.roundTrip(ctx, "PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" {
		// -LOADING while an AOF is replayed, for example.
		return fmt.Errorf("PING answered %q", reply)
	}
	return nil
}

// serverPID returns the process_id the server at addr reports. Start checks
// it because a PONG alone may come from another server that already holds
// the port while our own process is about to fail to bind.
func (c control) serverPID(ctx context.Context) (int, error) {
	reply, err := c.roundTrip(ctx, "INFO", "server")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(reply, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("INFO server has no process_id")
}

// shutdownNoSave sends SHUTDOWN NOSAVE. The server closes the connection
// without a reply when it obeys, so a read error is the expected outcome.
func (c control) shutdownNoSave(ctx context.Context) error {
	_, err := c.roundTrip(ctx, "SHUTDOWN", "NOSAVE")
	return err
}

// roundTrip sends one command (after AUTH when c has a password) and reads
// one reply: the line itself for a simple string, integer or error ("+PONG",
// ":1", "-ERR ..."), the payload for a bulk string.
func (c control) roundTrip(ctx context.Context, args ...string) (string, error) {
	var conn net.Conn
	var err error
	if c.tls != nil {
		d := tls.Dialer{NetDialer: &net.Dialer{Timeout: time.Second}, Config: c.tls}
		conn, err = d.DialContext(ctx, "tcp", c.addr)
	} else {
		d := net.Dialer{Timeout: time.Second}
		conn, err = d.DialContext(ctx, "tcp", c.addr)
	}
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	r := bufio.NewReader(conn)
	if c.password != "" {
		user := c.user
		if user == "" {
			user = "default"
		}
		reply, err := exchange(conn, r, "AUTH", user, c.password)
		if err != nil {
			return "", err
		}
		if reply != "+OK" {
			return "", fmt.Errorf("AUTH as %s answered %q", user, reply)
		}
	}
	return exchange(conn, r, args...)
}

// exchange writes one command on conn and reads its reply from r.
func exchange(conn net.Conn, r *bufio.Reader, args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return line, nil
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return line, nil // malformed or nil bulk: let the caller see the raw line
	}
	body := make([]byte, n+2) // payload + CRLF
	if _, err := io.ReadFull(r, body); err != nil {
		return "", err
	}
	return string(body[:n]), nil
}
