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

// DefaultPartners is the demo partner registry (PTN-2..PTN-4): the bytes of
// deployments/partners/partners.json. The processor uses a registry only
// when PARTNERS_FILE names one; parse these with partners.Default
// (handlers/partners); do not modify them.
//
//go:embed partners/partners.json
var DefaultPartners []byte

// NATSAccounts is nats/accounts.conf: the users and permissions of the
// shipped NATS configurations. The processor's embedded server runs with
// it too (messages/bus/natsauth), with generated passwords.
//
//go:embed nats/accounts.conf
var NATSAccounts []byte

// RedisClusterNode is redis/cluster-node.conf, the configuration of every
// node of a Redis Cluster. redisserver.StartCluster runs its nodes with its
// settings (less the machine paths: TLS files, ACL file, data directory),
// so the tests exercise the cluster as shipped.
//
//go:embed redis/cluster-node.conf
var RedisClusterNode []byte

// NATSClusterNode is nats/cluster-node.conf: one node of a 3-node
// JetStream cluster, which includes ./accounts.conf (NATSAccounts).
// messages/bus/natscluster starts local clusters from it.
//
//go:embed nats/cluster-node.conf
var NATSClusterNode []byte
