package catalog

import (
	"fmt"
	"os"

	"github.com/cspreseller/csp-processor/deployments"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// EnvFile is the environment variable naming an operator's catalog file.
// Unset or empty, the processor uses the embedded default catalog.
const EnvFile = "CATALOG_FILE"

// strict rejects unknown fields, duplicate keys (in objects and maps),
// keys that differ only in case, trailing data and invalid UTF-8. The last
// four are json/v2 defaults, stated so nobody turns them off by accident.
var strict = json.JoinOptions(
	json.RejectUnknownMembers(true),
	json.MatchCaseInsensitiveNames(false),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// Parse decodes a catalog strictly, validates it and indexes its offers. A
// decoding error is returned as is (wrapped); a validation failure is every
// Problem found, joined with errors.Join in document order. The returned
// Catalog is read-only and safe for concurrent use.
func Parse(b []byte) (*Catalog, error) {
	var c Catalog
	if err := json.Unmarshal(b, &c, strict); err != nil {
		return nil, fmt.Errorf("catalog: decode: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.index()
	return &c, nil
}

// Load reads the catalog file at path and parses it. Errors name the path;
// validation problems follow, one a line.
func Load(path string) (*Catalog, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: read %s: %w", path, err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("catalog file %s is invalid:\n%w", path, err)
	}
	return c, nil
}

// Default parses the catalog embedded in the binary
// (deployments/catalog/catalog.json).
func Default() (*Catalog, error) {
	c, err := Parse(deployments.DefaultCatalog)
	if err != nil {
		return nil, fmt.Errorf("embedded default catalog is invalid:\n%w", err)
	}
	return c, nil
}

// LoadOrDefault loads the catalog file at path, or the embedded default
// when path is empty. The processor calls it with os.Getenv(EnvFile) at
// start and refuses to start on an error.
func LoadOrDefault(path string) (*Catalog, error) {
	if path == "" {
		return Default()
	}
	return Load(path)
}

func (c *Catalog) index() {
	c.byID = make(map[string]*Offer, len(c.Offers))
	for i := range c.Offers {
		c.byID[c.Offers[i].ID] = &c.Offers[i]
	}
}
