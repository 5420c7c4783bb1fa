// Package testcerts writes a throwaway certificate authority and the
// certificates signed by it for tests of TLS connections (deployments/certgen,
// failing the test on an error), so every test can have its own authority
// and a second one to play the wrong CA.
package testcerts

import (
	"testing"

	"github.com/cspreseller/csp-processor/deployments/certgen"
)

// Files are the PEM files Write made.
type Files = certgen.Files

// Write makes a new authority and its certificates in dir, with the names
// ca.crt, server.crt, server.key, client.crt and client.key. Keys are
// written 0600.
func Write(t testing.TB, dir string) Files {
	t.Helper()
	f, err := certgen.Write(dir)
	if err != nil {
		t.Fatalf("testcerts: %v", err)
	}
	return f
}
