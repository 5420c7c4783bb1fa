// Package redisserver starts a private redis-server process for tests and
// local runs: bound to 127.0.0.1 only, no RDB snapshots, optional AOF, and
// owned by the caller until Close.
//
// Binding to loopback keeps other machines out but not other users of this
// one, so the processor's server (StartPrivate) also requires a password:
// one ACL user, the default user off, the password generated once and kept
// in a 0600 file in the data directory. It reaches redis-server in a
// configuration file written 0600 and removed once the server runs, never
// on the command line, where ps would show it. Tests that start a server
// without a password get one anyone on the machine may use. With TLS the
// server listens on a TLS port only and requires client certificates.
//
// It deliberately shells out to the real binary instead of faking Redis: the
// store's guarantees live in Lua scripts, and only a real server runs them.
package redisserver
