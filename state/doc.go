// Package state is the per-customer store of the processor, kept in Redis.
//
// It is generic: entities are opaque bytes in named fields, commands are
// opaque IDs, events are opaque bodies with a NATS subject. What it
// guarantees is the shape of one command's application:
//
//   - Load returns a customer's fields and version, and whether the command
//     was already applied, in one round trip.
//   - Commit applies a decision atomically in one Lua script, but only if the
//     command is not in the inbox yet and the version is still the one the
//     decision was made on. Both checks run before the first write, so a
//     refused commit leaves Redis exactly as it was. "In the inbox" lasts
//     as long as the command stream keeps commands: the full record for
//     InboxRetention, a compact record of the command ID after that.
//   - Every key of a customer shares one hash tag, so each script touches one
//     Redis Cluster slot.
//   - Events are written to a per-customer outbox in the same script; the
//     caller publishes them and then deletes them (MarkPublished or the
//     batching OutboxCleaner). OutboxRelay republishes what a crash left.
//
// README.md next to this file lists the keys and each script's KEYS/ARGV.
package state
