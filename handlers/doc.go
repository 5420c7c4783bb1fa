// Package handlers is the Watermill glue around the pure rules: it turns a
// stored JetStream command into a decision, commits it to Redis in one
// atomic step and publishes the resulting events. The rules themselves are
// in handlers/rules; the catalog in handlers/catalog.
//
// A command whose handling fails is retried in place; a failure that is not
// transient dead-letters it (code internal_error) after
// Config.MaxAttempts, so that it never stalls its partition. poison.go
// says which failures are transient and what setting a command aside does.
package handlers
