// Package natscluster runs a local JetStream cluster: N nats-server
// processes (default 3) started from the shipped
// deployments/nats/cluster-node.conf and accounts.conf, with TLS files made
// for the occasion (deployments/certgen), a route password, the routes list
// in the environment as the config expects, and each node its own store
// directory and free ports on 127.0.0.1. Only the listen addresses, the
// monitoring port and the store directory of the shipped file are changed.
//
// The nodes are processes, not servers inside the caller's process, so that
// Kill is a real SIGKILL (nothing flushed, no goodbye to the peers) and
// Restart recovers the node from what its store holds, as after a crash of
// a machine. The binary is the nats-server of this module's go.mod, built
// once and cached (ServerBinary), or the one NATS_SERVER_BIN names.
//
// Users and passwords are those of the shipped accounts.conf, generated
// into Dir/auth (messages/bus/natsauth); Connect logs in as one of them
// over TLS with its own inbox prefix.
package natscluster
