package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

// OPS_ADDR reaches the processor's ops server: on a taken address the
// processor does not start, and says which address it could not bind.
func TestTakenOpsAddrStopsTheProcessorNamingIt(t *testing.T) {
	srv := durableRedis(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	out, err := runBin(t, build(t), "REDIS_URL="+srv.URL(), "PARTITION_OWNERSHIP=all", "OPS_ADDR="+addr)
	if err == nil {
		t.Fatalf("processor ran although OPS_ADDR %s is taken:\n%s", addr, out)
	}
	if !strings.Contains(out, "ops server") || !strings.Contains(out, addr) {
		t.Fatalf("output does not name the ops address %s:\n%s", addr, out)
	}
}

// A taken NATS_PORT stops the processor at once with the bind error and
// the setting to change.
func TestTakenNATSPortStopsTheProcessorNamingTheSetting(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	out, err := runBin(t, build(t), "REDIS_URL="+durableRedis(t).URL(), "NATS_PORT="+port)
	if err == nil {
		t.Fatalf("processor ran although NATS_PORT %s is taken:\n%s", port, out)
	}
	for _, want := range []string{"address already in use", "port " + port + " is taken", "NATS_PORT"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output does not say %q:\n%s", want, out)
		}
	}
}
