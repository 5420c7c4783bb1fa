package partners

import (
	"fmt"
	"os"

	"github.com/cspreseller/csp-processor/deployments"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// EnvFile is the environment variable naming an operator's partner
// registry file. The processor loads it at start when it is set; unset or
// empty, the processor runs without a registry and every partner acts as a
// direct-bill partner (see the deployments README).
const EnvFile = "PARTNERS_FILE"

// strict rejects unknown fields, duplicate keys, keys that differ only in
// case, trailing data and invalid UTF-8, as the catalog does.
var strict = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// Parse decodes a registry strictly, validates it and indexes it. A
// decoding error is returned wrapped; a validation failure is every
// Problem found, joined with errors.Join in document order.
func Parse(b []byte) (*Registry, error) {
	var r Registry
	if err := json.Unmarshal(b, &r, strict); err != nil {
		return nil, fmt.Errorf("partners: decode: %w", err)
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	r.index()
	return &r, nil
}

// Load reads the registry file at path and parses it. Errors name the
// path; validation problems follow, one a line.
func Load(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("partners: read %s: %w", path, err)
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("partner registry file %s is invalid:\n%w", path, err)
	}
	return r, nil
}

// Default parses the demo registry embedded in the binary
// (deployments/partners/partners.json).
func Default() (*Registry, error) {
	r, err := Parse(deployments.DefaultPartners)
	if err != nil {
		return nil, fmt.Errorf("embedded default partner registry is invalid:\n%w", err)
	}
	return r, nil
}

// LoadOrDefault loads the registry file at path, or the embedded demo
// registry when path is empty. The processor does NOT use it: without
// PARTNERS_FILE it runs with no registry at all (see EnvFile); tools and
// tests that want the demo partners do.
func LoadOrDefault(path string) (*Registry, error) {
	if path == "" {
		return Default()
	}
	return Load(path)
}
