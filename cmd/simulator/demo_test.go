package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
)

// simulator demo runs the processor binary as make serve does, on its
// embedded NATS server with the shipped users and permissions: the
// processor as "processor", the demo as "simulator", each with a password
// the processor generated into a file only its owner can read. Any
// permission either lacks fails the story or prints "NATS: ...".
func TestDemoPlaysItsStoryAgainstTheProcessorAsMakeServeRunsIt(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	t.Setenv("NATS_PORT", "-1")
	t.Setenv("NATS_URL", "")
	t.Setenv("LOG_LEVEL", "")
	dataDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var story, log bytes.Buffer
	if err := runDemo(ctx, []string{"-data", dataDir}, &story, &log); err != nil {
		t.Fatalf("demo: %v\nstory:\n%s\nprocessor:\n%s", err, &story, &log)
	}
	creds := filepath.Join(dataDir, natsauth.CredentialsDir, natsauth.CredentialsFile)
	for _, want := range []string{"-> order.placed", "billing.charge", "billing.credit", "subscription.cancelled", "Demo done"} {
		if !strings.Contains(story.String(), want) {
			t.Fatalf("the story lacks %q:\n%s", want, &story)
		}
	}
	if !strings.Contains(log.String(), "passwords in "+creds) {
		t.Fatalf("the processor did not run its embedded NATS with the credentials in %s:\n%s", creds, &log)
	}
	if strings.Contains(log.String(), "NATS:") {
		t.Fatalf("a NATS permission was refused:\n%s", &log)
	}
	fi, err := os.Stat(creds)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v", err, fi.Mode())
	}
}

// The demo runs the processor with its embedded server; with NATS_URL set
// it says so and starts nothing.
func TestDemoRefusesAnExternalNATS(t *testing.T) {
	t.Setenv("NATS_URL", "nats://127.0.0.1:4222")
	dataDir := t.TempDir()
	err := runDemo(context.Background(), []string{"-data", dataDir, "-processor-bin", "/nonexistent"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "NATS_URL") {
		t.Fatalf("demo with NATS_URL: %v, want an error naming NATS_URL", err)
	}
	if entries, _ := os.ReadDir(dataDir); len(entries) != 0 {
		t.Fatalf("the demo wrote %d entries into its data directory", len(entries))
	}
}
