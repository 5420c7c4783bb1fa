package catalog

import (
	"strings"
	"testing"
)

// TRF-3: transfer_request_expiry_days is 0 (no expiry) to 365; the
// deployed catalog sets Partner Center's 30.
func TestTransferRequestExpiryDays(t *testing.T) {
	for days, ok := range map[int]bool{-1: false, 0: true, 1: true, 30: true, 365: true, 366: false} {
		c := small()
		c.Policy.TransferRequestExpiryDays = days
		err := c.Validate()
		if ok != (err == nil) {
			t.Errorf("%d days: %v", days, err)
		}
		if err != nil && !strings.Contains(err.Error(), "policy.transfer_request_expiry_days") {
			t.Errorf("%d days: %v", days, err)
		}
	}
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.TransferRequestExpiryDays != 30 {
		t.Fatalf("deployed expiry %d days", c.Policy.TransferRequestExpiryDays)
	}
}

// TRF-3: relationship_request_expiry_days is 0 (no expiry) to 365; the
// deployed catalog sets 30.
func TestRelationshipRequestExpiryDays(t *testing.T) {
	for days, ok := range map[int]bool{-1: false, 0: true, 1: true, 30: true, 365: true, 366: false} {
		c := small()
		c.Policy.RelationshipRequestExpiryDays = days
		err := c.Validate()
		if ok != (err == nil) {
			t.Errorf("%d days: %v", days, err)
		}
		if err != nil && !strings.Contains(err.Error(), "policy.relationship_request_expiry_days") {
			t.Errorf("%d days: %v", days, err)
		}
	}
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.RelationshipRequestExpiryDays != 30 {
		t.Fatalf("deployed expiry %d days", c.Policy.RelationshipRequestExpiryDays)
	}
}
