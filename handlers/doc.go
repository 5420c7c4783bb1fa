// Package handlers is the Watermill glue around the pure rules: it turns a
// stored JetStream command into a decision, commits it to Redis in one
// atomic step and publishes the resulting events. The rules themselves are
// in handlers/rules; the catalog in handlers/catalog.
package handlers
