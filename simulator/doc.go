// Package simulator plays the upstream order system and the billing
// system: it publishes commands, consumes the processor's events and
// checks them. This first slice carries the upstream client, the event
// watcher and the demo story the README's run command shows.
package simulator
