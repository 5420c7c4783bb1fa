package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cspreseller/csp-processor/messages/bus/natsauth"
)

// The demo runs against the embedded NATS server with the shipped users and
// permissions: the processor as "processor", the demo as "simulator", each
// with a generated password kept in a file only the owner can read. Any
// permission either lacks fails the demo (or prints "NATS: ...").
func TestDemoRunsOnTheEmbeddedNATSWithGeneratedCredentials(t *testing.T) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	bin := build(t)
	dataDir := t.TempDir()
	c := exec.Command(bin, "-demo")
	c.Env = []string{"HOME=" + t.TempDir(), "DATA_DIR=" + dataDir, "NATS_PORT=-1", "PATH=" + os.Getenv("PATH")}
	b, err := c.CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	creds := filepath.Join(dataDir, natsauth.CredentialsDir, natsauth.CredentialsFile)
	for _, want := range []string{"passwords in " + creds, "billing.credit", "Demo done"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "NATS:") {
		t.Fatalf("a NATS permission was refused:\n%s", out)
	}
	fi, err := os.Stat(creds)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v, mode %v", err, fi.Mode())
	}
}
