package handlers

import (
	"testing"

	"github.com/cspreseller/csp-processor/messages/bus"
	"github.com/cspreseller/csp-processor/messages/bus/lease"
)

// A killed replica's partitions resume once two clocks have run out: its
// leases expire (lease TTL) and its unacked commands come back (ack
// wait). With the default ack wait no longer than the default TTL, the
// failover is the TTL alone.
func TestDefaultAckWaitIsNoLongerThanTheDefaultLeaseTTL(t *testing.T) {
	if bus.DefaultAckWait > lease.DefaultTTL {
		t.Fatalf("default ack wait %v is longer than the default lease TTL %v: a killed replica's partitions would wait for it",
			bus.DefaultAckWait, lease.DefaultTTL)
	}
}
