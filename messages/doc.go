// Package messages is the wire contract between upstream order systems, the
// processor and billing systems: command and event types, NATS subjects, the
// strict JSON codec and the deterministic identifiers.
//
// Upstream and billing teams integrate against this package and README.md
// next to it, which carries one JSON example of every command and event.
package messages

// SchemaVersion is the version of every command and event body defined here.
// A breaking change to any body adds a new version; the processor rejects
// versions it does not know instead of guessing.
const SchemaVersion = 1
