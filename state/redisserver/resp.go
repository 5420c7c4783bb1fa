package redisserver

import (
	"bufio"
	"context"
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

// ping sends PING and expects +PONG.
func ping(ctx context.Context, addr string) error {
	reply, err := roundTrip(ctx, addr, "PING")
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
func serverPID(ctx context.Context, addr string) (int, error) {
	reply, err := roundTrip(ctx, addr, "INFO", "server")
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
func shutdownNoSave(ctx context.Context, addr string) error {
	_, err := roundTrip(ctx, addr, "SHUTDOWN", "NOSAVE")
	return err
}

// roundTrip sends one command and reads one reply: the line itself for a
// simple string, integer or error ("+PONG", ":1", "-ERR ..."), the payload
// for a bulk string.
func roundTrip(ctx context.Context, addr string, args ...string) (string, error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	deadline := time.Now().Add(time.Second)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)

	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
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
