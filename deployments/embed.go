// Package deployments holds the files the processor ships with: the default
// offer catalog (catalog/catalog.json) embedded into the binary.
package deployments

import _ "embed"

// DefaultCatalog is the catalog the processor uses when CATALOG_FILE is
// unset: the bytes of deployments/catalog/catalog.json, embedded at build
// time. Parse it with catalog.Default (handlers/catalog); do not modify it.
//
//go:embed catalog/catalog.json
var DefaultCatalog []byte
