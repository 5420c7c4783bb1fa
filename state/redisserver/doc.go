// Package redisserver starts a private redis-server process for tests and
// local runs: bound to 127.0.0.1 only, no RDB snapshots, optional AOF, and
// owned by the caller until Close.
//
// It deliberately shells out to the real binary instead of faking Redis: the
// store's guarantees live in Lua scripts, and only a real server runs them.
package redisserver
